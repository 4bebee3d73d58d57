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
  const log = pino({ level: config.logLevel, base: { service: 'metapixel' } });
  const server = await startServer(config, log).catch(async (err: unknown) => {
    // Lines logged before the failure are still in pino's buffer: out first, so the
    // failure (startFailed, on stderr) is the last thing the process says.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    throw err;
  });
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
