/**
 * The built server in its own process on loopback, with a fresh data directory: what every
 * end-to-end benchmark measures through, started and stopped the same way by all of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/process';

const ROOT = path.resolve(__dirname, '..');

/** The environment `npm start` gives the server unless set (each `${NAME:-value}` of its
 *  script: glibc's malloc thresholds), so a bench measures the server as it is run. */
export const START_DEFAULTS: Readonly<Record<string, string>> = (() => {
  const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const found = [...scripts.start.matchAll(/(\w+)=\$\{\1:-([^}]*)\}/g)].map((m) => [m[1], m[2]] as const);
  if (found.length === 0) throw new Error('package.json: the start script names no ${NAME:-value} defaults');
  return Object.fromEntries(found);
})();

/** What runs the server on glibc's own malloc thresholds: START_DEFAULTS unset. */
export const GLIBC_OWN_MALLOC: Readonly<Record<string, undefined>> = Object.fromEntries(
  Object.keys(START_DEFAULTS).map((name) => [name, undefined]),
);

export interface BuiltServer {
  /** http://127.0.0.1:PORT */
  url: string;
  restPort: number;
  grpcPort: number;
  child: ChildProcess;
  /** SIGTERM, wait for the exit, remove the data directory. */
  stop(): Promise<void>;
}

export interface BuiltServerOptions {
  /** Entry file relative to the repository (default dist/app/main.js): another build to compare. */
  script?: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Extra environment on top of this process's own (which passes through); undefined
   *  removes a variable (e.g. MALLOC_MMAP_THRESHOLD_, to run on glibc's own rule). */
  env?: Record<string, string | undefined>;
  /** How long to wait for /readyz (default 60 s). */
  readyTimeoutMs?: number;
}

/** Starts the server and resolves once GET /readyz answers 200 (at most 60 s). */
export async function startBuiltServer(opts: BuiltServerOptions = {}): Promise<BuiltServer> {
  const restPort = await freePort();
  const grpcPort = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-bench-'));
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.resolve(ROOT, opts.script ?? 'dist/app/main.js')], {
    env: {
      ...process.env,
      // As `npm start` does, for an empty value too (which glibc would read as 0).
      ...Object.fromEntries(Object.entries(START_DEFAULTS).map(([name, value]) => [name, process.env[name] || value])),
      PORT: String(restPort),
      GRPC_PORT: String(grpcPort),
      METAPIXEL_DATA_DIR: dataDir,
      METAPIXEL_LOG_LEVEL: 'warn',
      METAPIXEL_HOST: '127.0.0.1',
      ...opts.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${restPort}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + (opts.readyTimeoutMs ?? 60000); ;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      /* starting */
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error('server did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, restPort, grpcPort, child, stop };
}
