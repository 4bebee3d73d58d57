/**
 * Pieces of the kill -9 tests of long-running operations: the development photos in a
 * fake bucket, and a SIGKILL sent once Metapixel's progress endpoint shows work done.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { devImagesDir } from './dev-images';
import type { FakeGcs } from './fake-gcs';
import type { ServerProcess } from './process';

/** Puts every development photo into `bucket`; resolves their names, sorted. */
export function putDevPhotos(gcs: FakeGcs, bucket: string): string[] {
  const photos = readdirSync(devImagesDir()).filter((f) => /\.(jpg|png)$/.test(f)).sort();
  for (const f of photos) gcs.put(bucket, f, readFileSync(path.join(devImagesDir(), f)));
  return photos;
}

/** Metapixel's progress view of an operation (GET /v1/{name}:progress), as JSON. */
export async function progressOf(server: Pick<ServerProcess, 'restUrl'>, operation: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${server.restUrl}/v1/${operation}:progress`)).json()) as Record<string, unknown>;
}

/** Polls the operation's progress until at least `atLeast` items are processed, then
 *  kills the server with SIGKILL and waits for it to exit; resolves the count it saw. */
export async function killAfterProgress(server: ServerProcess, operation: string, atLeast: number): Promise<number> {
  let processed = 0;
  for (const deadline = Date.now() + 120000; processed < atLeast; ) {
    processed = Number((await progressOf(server, operation)).processedLines ?? 0);
    if (Date.now() > deadline) throw new Error(`no progress:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  server.child.kill('SIGKILL');
  await server.exited;
  return processed;
}
