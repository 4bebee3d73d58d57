/** Process entry: config, logger, server, and graceful shutdown on SIGTERM/SIGINT. */
import pino from 'pino';
import { loadConfig } from './config/config';
import { startServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel, base: { service: 'metapixel' } });
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

main().catch((err: unknown) => {
  // The logger may not exist yet (bad config): write plainly and fail.
  process.stderr.write(`metapixel failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
