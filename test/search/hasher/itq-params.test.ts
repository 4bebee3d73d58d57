/** The shipped ITQ params load with the right shapes, and damaged files are refused. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ItqHasher } from '../../../src/search/hasher/itq-hasher';
import { readItqParams, sha256Hex } from '../../../src/search/hasher/itq-params';

const DIR = path.resolve(__dirname, '..', '..', '..', 'models', 'hashing');
const DIMS = 1792;

describe.each([64, 128, 256])('itq-%i', (bits) => {
  test('loads, matches the manifest and has the documented shape', async () => {
    const p = await readItqParams(DIR, bits);
    expect([p.bits, p.dims, p.mean.length, p.rows.length]).toEqual([bits, DIMS, DIMS, bits * DIMS]);
    expect(p.rows.every(Number.isFinite)).toBe(true);
    // Rows are PCA directions times an orthogonal rotation: unit length, mutually orthogonal.
    const dotRows = (a: number, b: number) => {
      let s = 0;
      for (let i = 0; i < DIMS; i++) s += p.rows[a * DIMS + i] * p.rows[b * DIMS + i];
      return s;
    };
    expect(dotRows(0, 0)).toBeCloseTo(1, 4);
    expect(dotRows(0, bits - 1)).toBeCloseTo(0, 4);
    const h = await ItqHasher.load(DIR, bits);
    expect(h.bits).toBe(bits);
    expect(h.encode(p.mean.slice()).length).toBe(bits / 8);
  });
});

describe('damaged params', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itq-params-'));
    for (const f of ['manifest.json', 'itq-64.json', 'itq-64.bin']) fs.copyFileSync(path.join(DIR, f), path.join(dir, f));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a flipped byte in the weights fails the sha256 check', async () => {
    const bin = path.join(dir, 'itq-64.bin');
    const bytes = fs.readFileSync(bin);
    bytes[1000] ^= 1;
    fs.writeFileSync(bin, bytes);
    await expect(ItqHasher.load(dir, 64)).rejects.toThrow(/sha256/);
  });

  test('an edited header fails the sha256 check', async () => {
    const json = path.join(dir, 'itq-64.json');
    fs.writeFileSync(json, fs.readFileSync(json, 'utf8').replace('"bits": 64', '"bits": 64 '));
    await expect(ItqHasher.load(dir, 64)).rejects.toThrow(/sha256/);
  });

  test('a file missing from the manifest is refused by name', async () => {
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { files: Record<string, unknown> };
    delete manifest.files['itq-64.bin'];
    fs.writeFileSync(file, JSON.stringify(manifest));
    await expect(ItqHasher.load(dir, 64)).rejects.toThrow(/itq-64.bin is not listed/);
  });

  test('a truncated weights file is refused even with a matching manifest entry', async () => {
    const bin = path.join(dir, 'itq-64.bin');
    fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 4096));
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { files: Record<string, { sha256: string; bytes: number }> };
    manifest.files['itq-64.bin'] = { sha256: sha256Hex(fs.readFileSync(bin)), bytes: 4096 };
    fs.writeFileSync(file, JSON.stringify(manifest));
    await expect(ItqHasher.load(dir, 64)).rejects.toThrow(/4096 bytes, expected/);
  });
});
