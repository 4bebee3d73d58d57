/** Runs the server as a separate process (as `npm start` would), for restart and signal tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  restPort: number;
  grpcPort: number;
  restUrl: string;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/**
 * Starts the server on two free ports and waits for /healthz. A port freePort found free can
 * be taken before the server binds it (by any process's outgoing connection, whose local
 * port is drawn from the same range): the server then exits saying so, and is started
 * again on other ports, up to three times.
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 30000): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(env, timeoutMs);
    } catch (e) {
      if (!(e instanceof PortTaken) || attempt === 3) throw e;
    }
  }
}

class PortTaken extends Error {}

async function spawnOnce(env: Record<string, string>, timeoutMs: number): Promise<ServerProcess> {
  const restPort = await freePort();
  const grpcPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'app', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      METAPIXEL_HOST: '127.0.0.1',
      PORT: String(restPort),
      GRPC_PORT: String(grpcPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const restUrl = `http://127.0.0.1:${restPort}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const taken = /is already in use \((PORT|GRPC_PORT)\)/.test(out);
      throw new (taken ? PortTaken : Error)(`server exited early:\n${out}`);
    }
    try {
      if ((await fetch(`${restUrl}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become healthy in ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, restPort, grpcPort, restUrl, output: () => out, exited };
}
