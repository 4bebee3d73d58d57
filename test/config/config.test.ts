/** The settings tree: shipped defaults parse, env vars override, bad values stop the start. */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULTS, ENV_NAMES, loadConfig } from '../../src/config/config';

test('the shipped defaults are valid', () => {
  expect(loadConfig({})).toEqual(DEFAULTS);
});

test('environment variables override, typed', () => {
  const c = loadConfig({ PORT: '9000', METAPIXEL_CODE_BITS: '256', METAPIXEL_DETECT_MIRROR: 'never', MONGODB_URI: 'mongodb://x/db' });
  expect([c.port, c.codeBits, c.detectMirror, c.mongodbUri]).toEqual([9000, 256, 'never', 'mongodb://x/db']);
});

test('a config file is read, and the environment wins over it', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'c.json');
  writeFileSync(file, JSON.stringify({ port: 7000, grpcPort: 7001 }));
  const c = loadConfig({ METAPIXEL_CONFIG_FILE: file, GRPC_PORT: '7002' });
  expect([c.port, c.grpcPort]).toEqual([7000, 7002]);
});

test('bad values are refused naming the variable', () => {
  expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  expect(() => loadConfig({ METAPIXEL_CODE_BITS: '100' })).toThrow(/METAPIXEL_CODE_BITS/);
  expect(() => loadConfig({ METAPIXEL_LOG_LEVEL: 'loud' })).toThrow(/METAPIXEL_LOG_LEVEL/);
});

test('re-rank vectors shorter than the codes are refused: the codes are their signs', () => {
  expect(() => loadConfig({ METAPIXEL_RERANK_DIMS: '64' })).toThrow(
    /METAPIXEL_RERANK_DIMS \(64\) must be at least METAPIXEL_CODE_BITS \(128\)/,
  );
  expect(() => loadConfig({ METAPIXEL_RERANK_DIMS: '192', METAPIXEL_CODE_BITS: '256' })).toThrow(/METAPIXEL_RERANK_DIMS/);
  expect(loadConfig({ METAPIXEL_RERANK_DIMS: '64', METAPIXEL_CODE_BITS: '64' }).rerankDims).toBe(64);
});

test('every setting has a documented environment variable in README.md', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const missing = Object.values(ENV_NAMES).filter((name) => !readme.includes('`' + name + '`'));
  expect(missing).toEqual([]);
});
