/**
 * Runs the server as a process: config, logger, server, and graceful shutdown on
 * SIGTERM/SIGINT. Shared by `node dist/app/main.js` and `metapixel serve`, so both start the
 * same way.
 */
import pino from 'pino';
import { loadConfig } from '../config/config';
import { startServer } from './server';

/**
 * `settings` are environment-variable names and values (as in the README's table) that
 * win over the process environment, e.g. the CLI's `--port`.
 */
export async function runServer(settings: Record<string, string> = {}): Promise<void> {
  const config = loadConfig({ ...process.env, ...settings });
  // Written synchronously: pino's default writes on the libuv pool, which start-up keeps
  // busy, so a line logged just before a failed start could come out after the failure
  // (startFailed, on stderr), and lines of a crash could be lost. A line is a few hundred
  // bytes per call or event, so one write each costs nothing that matters here.
  const log = pino({ level: config.logLevel, base: { service: 'metapixel' } }, pino.destination({ dest: 1, sync: true }));
  const server = await startServer(config, log);
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
