/**
 * Issue #15: two servers started on one data directory (the docs say never), and a start
 * on a port in use printed a stack trace after EADDRINUSE and went on logging. Now a lock
 * file holds the directory, and both failures exit 1 with one clear line and nothing after.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnServer, type ServerProcess } from '../support/process';

const ROOT = path.resolve(__dirname, '..', '..');
let dir: string;
let first: ServerProcess;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-lock-'));
  first = await spawnServer({ METAPIXEL_DATA_DIR: dir }, 60000);
}, 90000);
afterAll(async () => {
  first?.child.kill('SIGTERM');
  await first?.exited;
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts a server expected to fail; resolves with its exit code and everything it printed,
 * stderr into stdout on one pipe (as a terminal shows them): read from two pipes, the order
 * of a log line on one and the failure on the other would be the reader's, not the server's.
 */
async function failedStart(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn('/bin/sh', ['-c', 'exec "$0" --import tsx "$1" 2>&1', process.execPath, path.join(ROOT, 'src', 'app', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      METAPIXEL_HOST: '127.0.0.1',
      METAPIXEL_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, out };
}

const lastLines = (out: string) => out.trim().split('\n');

test('a second server on the same data directory exits 1 with one line', async () => {
  const { code, out } = await failedStart({ METAPIXEL_DATA_DIR: dir, PORT: String(await freePort()), GRPC_PORT: String(await freePort()) });
  expect(code).toBe(1);
  const lines = lastLines(out);
  expect(lines[lines.length - 1]).toMatch(/^metapixel failed to start: data directory .* is in use by process \d+/);
  expect(out).not.toMatch(/\n\s+at /); // no stack trace
  expect(out).not.toMatch(/store opened|search index built|listening/);
  // The first server is unharmed.
  expect((await fetch(`${first.restUrl}/healthz`)).status).toBe(200);
}, 60000);

test('a port in use exits 1 with one line and nothing after it', async () => {
  const other = mkdtempSync(path.join(os.tmpdir(), 'metapixel-lock-'));
  try {
    const { code, out } = await failedStart({
      METAPIXEL_DATA_DIR: other,
      PORT: String(first.restPort),
      GRPC_PORT: String(await freePort()),
    });
    expect(code).toBe(1);
    const lines = lastLines(out);
    const failure = `metapixel failed to start: REST port ${first.restPort} on 127.0.0.1 is already in use (PORT).`;
    // The last line; on a failure, all that was printed.
    expect(lines[lines.length - 1] === failure ? failure : out).toBe(failure);
    expect(out).not.toMatch(/\n\s+at /);
    expect(out).not.toMatch(/store opened|vision models loaded|search index built/);
    const grpc = await failedStart({ METAPIXEL_DATA_DIR: other, PORT: String(await freePort()), GRPC_PORT: String(first.grpcPort) });
    expect(grpc.code).toBe(1);
    expect(lastLines(grpc.out).pop()).toBe(
      `metapixel failed to start: gRPC port ${first.grpcPort} on 127.0.0.1 is already in use (GRPC_PORT).`,
    );
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
}, 90000);

test('a lock left by a process that is gone is taken over', async () => {
  const other = mkdtempSync(path.join(os.tmpdir(), 'metapixel-lock-'));
  try {
    // A pid that cannot be alive on Linux (above pid_max's ceiling).
    writeFileSync(path.join(other, 'metapixel.lock'), JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname() }));
    const server = await spawnServer({ METAPIXEL_DATA_DIR: other }, 60000);
    expect((await fetch(`${server.restUrl}/healthz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
}, 90000);
