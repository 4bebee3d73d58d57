/**
 * Builds the hash training set: embeddings of the training photos (photo-sources.ts,
 * split 'train') and of `--per-photo` augmentations of each (augment.ts), with a group
 * label per row (which photo it came from). Writes to .cache/hashing/dataset (gitignored):
 *   train.f32   float32 little-endian, count × dims, row-major
 *   train.json  dims, count, groups[count], group names, seed, recipe, photo provenance
 * Usage: npx tsx tools/hashing/embed-dataset.ts [--per-photo 100] [--seed 20261126]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SeededRandom } from '../../src/search/hasher/seeded-random';
import { augment, loadRaw, RECIPE } from './augment';
import { EmbeddingSession, mapPool } from './embedding-session';
import { CACHE, ensurePhotos } from './photos';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const perPhoto = arg('per-photo', 100);
  const seed = arg('seed', 20261126);
  const photos = (await ensurePhotos()).filter((p) => p.split === 'train');
  const raws = await Promise.all(photos.map((p) => loadRaw(p.file)));
  const session = await EmbeddingSession.open();
  const t0 = Date.now();
  // Job 0 of each photo is the untouched photo; the rest are augmentations. Each job
  // gets its own RNG seeded from (seed, job), so results do not depend on scheduling.
  const jobs = photos.length * (perPhoto + 1);
  let dims = 0;
  const rows = await mapPool(jobs, 3, async (j) => {
    const g = Math.floor(j / (perPhoto + 1));
    const k = j % (perPhoto + 1);
    const others = raws.filter((_, i) => i !== g);
    const bytes = k === 0 ? fs.readFileSync(photos[g].file) : await augment(raws[g], new SeededRandom(seed * 7919 + j), others);
    const e = await session.embed(bytes);
    dims = e.length;
    if (j % 200 === 0) process.stderr.write(`${j}/${jobs} ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    return e;
  });
  await session.close();
  const out = path.join(CACHE, 'dataset');
  fs.mkdirSync(out, { recursive: true });
  const mat = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => mat.set(r, i * dims));
  fs.writeFileSync(path.join(out, 'train.f32'), new Uint8Array(mat.buffer));
  const meta = {
    dims,
    count: rows.length,
    seed,
    perPhoto,
    recipe: RECIPE,
    builtAt: new Date().toISOString(),
    groups: rows.map((_, j) => Math.floor(j / (perPhoto + 1))),
    photos: photos.map(({ id, pkg, path: p, licence, copyright }) => ({ id, pkg, path: p, licence, copyright })),
  };
  fs.writeFileSync(path.join(out, 'train.json'), JSON.stringify(meta, null, 1));
  process.stderr.write(`wrote ${rows.length} × ${dims} to ${out} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
