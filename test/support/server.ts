/** Starts the real server in-process on ephemeral loopback ports, on a fresh embedded store. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DEFAULTS, type Config } from '../../src/config/config';
import { startServer, type RunningServer } from '../../src/server';

export interface TestServer extends RunningServer {
  dataDir: string;
  restUrl: string;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'metapixel-test-'));
  const config: Config = { ...DEFAULTS, host: '127.0.0.1', port: 0, grpcPort: 0, dataDir, shutdownGraceMs: 2000, ...overrides };
  const server = await startServer(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  return {
    ...server,
    dataDir,
    restUrl: `http://127.0.0.1:${server.restPort}`,
    async stop() {
      await server.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
