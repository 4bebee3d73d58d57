/**
 * Runs the server as a process: config, logger, server, and graceful shutdown on
 * SIGTERM/SIGINT. Shared by `node dist/app/main.js` and `metapixel serve`, so both start the
 * same way.
 */
import { writeSync } from 'node:fs';
import pino from 'pino';
import { loadConfig } from '../config/config';
import { startServer } from './server';

/**
 * `settings` are environment-variable names and values (as in the README's table) that
 * win over the process environment, e.g. the CLI's `--port`.
 */
export async function runServer(settings: Record<string, string> = {}): Promise<void> {
  const config = loadConfig({ ...process.env, ...settings });
  const out = startUpFirst();
  const log = pino({ level: config.logLevel, base: { service: 'metapixel' } }, out);
  const server = await startServer(config, log);
  out.started();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining in-flight calls');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * stdout for the log: written synchronously until the server is up, so that a failed
 * start's last line (startFailed, on stderr) comes after everything logged before it
 * (pino's asynchronous writes wait on the libuv pool, which start-up keeps busy); then
 * asynchronously, as pino writes by default, so a reader that stops draining stdout holds
 * up a log write, never the server.
 */
function startUpFirst(): { write(line: string): void; started(): void } {
  // Bytes, not strings: a write cut short mid-line may have split a character.
  const later = pino.destination({ dest: 1, sync: false, contentMode: 'buffer' });
  let startingUp = true;
  return {
    write(line: string) {
      let rest = Buffer.from(line);
      if (startingUp) {
        try {
          while (rest.length) rest = rest.subarray(writeSync(1, rest));
          return;
        } catch {
          // EAGAIN on a full non-blocking pipe: the rest is queued like any later line
        }
      }
      later.write(rest as unknown as string); // buffer mode takes bytes; its types name only strings
    },
    started() {
      startingUp = false;
    },
  };
}

/** The logger may not exist yet (bad config): write plainly and fail. */
export function startFailed(err: unknown): never {
  const e = err as Error;
  // A bad setting, a port in use or a locked data directory is the user's to fix: the
  // message says which; a stack would bury it.
  const plain = e instanceof Error && (e.message.startsWith('Invalid configuration') || e.name === 'StartupError');
  const text = plain ? e.message : (e?.stack ?? String(err));
  process.stderr.write(`metapixel failed to start: ${text}\n`);
  process.exit(1);
}
