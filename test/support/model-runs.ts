/** Model runs a server has finished, read from its /metrics (metapixel_inference_duration_seconds_count). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The embedding model's name in models/manifest.json; every other model is a detector. */
const EMBEDDER = (
  JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'models', 'manifest.json'), 'utf8')) as {
    models: { name: string; runtime: { decoder: string } }[];
  }
).models.find((m) => m.runtime.decoder === 'embedding')!.name;

/** Finished model runs so far: the embedder's and the detectors'. */
export async function modelRuns(restUrl: string): Promise<{ embedder: number; detectors: number }> {
  const text = await (await fetch(`${restUrl}/metrics`)).text();
  const out = { embedder: 0, detectors: 0 };
  for (const m of text.matchAll(/^metapixel_inference_duration_seconds_count\{model="([^"]+)"\} (\d+)$/gm)) {
    out[m[1] === EMBEDDER ? 'embedder' : 'detectors'] += Number(m[2]);
  }
  return out;
}
