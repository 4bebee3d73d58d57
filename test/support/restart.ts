/**
 * Pieces of the kill -9 tests of long-running operations: the development photos in a
 * fake bucket, and a SIGKILL sent once Metapixel's progress endpoint shows work done.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devImagesDir } from './dev-images';
import type { FakeGcs } from './fake-gcs';
import { spawnServer, type ServerProcess } from './process';

/** Puts every development photo into `bucket`; resolves their names, sorted. */
export function putDevPhotos(gcs: FakeGcs, bucket: string): string[] {
  const photos = readdirSync(devImagesDir())
    .filter((f) => /\.(jpg|png)$/.test(f))
    .sort();
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
  for (const deadline = Date.now() + 120000; processed < atLeast;) {
    processed = Number((await progressOf(server, operation)).processedLines ?? 0);
    if (Date.now() > deadline) throw new Error(`no progress:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  server.child.kill('SIGKILL');
  await server.exited;
  return processed;
}

export interface RestartScenario {
  /** The data directory every server of the scenario shares (a restart resumes from it). */
  dataDir: string;
  /** Spawns a server on `dataDir` (short job lease, warnings only, plus `env`). */
  start: (env?: Record<string, string>) => Promise<ServerProcess>;
}

/**
 * Runs a kill -9 scenario on a fresh data directory. Afterwards, also when an expectation
 * failed, it kills every server still running (one left alive keeps jest from exiting)
 * and removes the directory.
 */
export async function restartScenario(prefix: string, body: (s: RestartScenario) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `metapixel-${prefix}-`));
  const servers: ServerProcess[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const server = await spawnServer(
      { METAPIXEL_DATA_DIR: dataDir, METAPIXEL_JOB_LEASE_MS: '2000', METAPIXEL_LOG_LEVEL: 'warn', ...env },
      60000,
    );
    servers.push(server);
    return server;
  };
  try {
    await body({ dataDir, start });
  } finally {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** SIGTERM, then the server must exit 0 (graceful shutdown after the resumed work). */
export async function stopGracefully(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}
