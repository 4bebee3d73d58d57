/**
 * Bytes -> embedding exactly as the server does it (ImageDecoder, then Embedder.embed on
 * the whole image), so training and eval see the same vectors production will index.
 */
import * as path from 'node:path';
import { ImageDecoder } from '../../src/images/image-decoder';
import { loadVisionModels, VisionModels } from '../../src/vision/vision-models';
import { REPO } from './photos';

export class EmbeddingSession {
  private readonly decoder = new ImageDecoder({ maxPixels: 1e8, maxSide: 1024, minSide: 16 });

  private constructor(private readonly models: VisionModels) {}

  static async open(): Promise<EmbeddingSession> {
    // One ORT thread per session and two runs at once: one per core of the 2-core box.
    return new EmbeddingSession(await loadVisionModels(path.join(REPO, 'models'), { intraOpNumThreads: 1, concurrency: 2, maxQueue: 64 }));
  }

  async embed(bytes: Uint8Array): Promise<Float32Array> {
    return this.models.embedder.embed(await this.decoder.decode(bytes));
  }

  close(): Promise<void> {
    return this.models.close();
  }
}

/** Runs `fn` over 0..n-1 with at most `width` calls in flight; results keep their index. */
export async function mapPool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, worker));
  return out;
}
