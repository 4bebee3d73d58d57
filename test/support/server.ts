/**
 * Starts the real server in-process on ephemeral loopback ports, on a fresh embedded
 * store, with a Cloud Storage emulator of its own (`gcs`) unless one is given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { DEFAULTS, type Config } from '../../src/config/config';
import { startServer, type RunningServer } from '../../src/app/server';
import { startFakeGcs, type FakeGcs, type FakeGcsOptions } from './fake-gcs';

export interface TestServer extends RunningServer {
  dataDir: string;
  restUrl: string;
  /** The storage emulator gs:// URIs resolve against (when the test did not bring one). */
  gcs: FakeGcs;
  stop(): Promise<void>;
}

/** With `gcsOptions.token`, `gcs` is a private bucket the server reaches at METAPIXEL_GCS_ENDPOINT, with credentials. */
export async function startTestServer(overrides: Partial<Config> = {}, gcsOptions: FakeGcsOptions = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'metapixel-test-'));
  const gcs = await startFakeGcs(gcsOptions);
  const config: Config = {
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    grpcPort: 0,
    dataDir,
    shutdownGraceMs: 2000,
    ...(gcsOptions.token === undefined ? { storageEmulatorHost: gcs.host } : { storageEmulatorHost: '', gcsEndpoint: gcs.host }),
    ...overrides,
  };
  const server = await startServer(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  return {
    ...server,
    dataDir,
    gcs,
    restUrl: `http://127.0.0.1:${server.restPort}`,
    async stop() {
      await server.close();
      await gcs.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A JPEG of the given size with a deterministic pattern (seeded by `seed`). */
export function patternJpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  const svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
    <rect width="100%" height="100%" fill="rgb(${(seed * 53) % 256},${(seed * 97) % 256},${(seed * 193) % 256})"/>
    <circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 3}" fill="rgb(${(seed * 31) % 256},40,200)"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg().toBuffer();
}
