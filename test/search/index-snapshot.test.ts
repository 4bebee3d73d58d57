/** Index snapshot files: written and read back in chunks (as files past 2 GB must be), whole. */
import { mkdtempSync, readFileSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompactEmbeddingCodec } from '../../src/search/compact-embedding';
import { ItqHasher, SeededRandom } from '../../src/search/hasher';
import { readItqParams } from '../../src/search/hasher/itq-params';
import { readSetSnapshot, setSnapshotIoChunk, writeSetSnapshot } from '../../src/search/index-snapshot';
import { ProductSetIndex } from '../../src/search/product-set-index';

afterEach(() => setSnapshotIoChunk(256 * 1024 * 1024));

test.each([8, 4] as const)(
  'a set written and read back in 1,000-byte chunks is the same index (product lines and multi-byte names across chunks); a truncated or older file is refused (%i-bit columns)',
  async (bits) => {
    const HASHING = path.resolve(__dirname, '..', '..', 'models', 'hashing');
    const basis = await readItqParams(HASHING, 256);
    const params = await readItqParams(HASHING, 128);
    const codec = new CompactEmbeddingCodec(basis, [params], { columnBits: bits });
    const hasher = new ItqHasher(params);
    const rng = new SeededRandom(4);
    const index = new ProductSetIndex(hasher, codec);
    const regionsOf = Array.from({ length: 60 }, () =>
      Array.from({ length: 3 }, (_, r) => ({
        imageId: `i${r}`,
        source: r ? ('detected' as const) : ('whole-image' as const),
        compact: codec.quantize(
          Float32Array.from({ length: 256 }, () => 0.05 * rng.gaussian()),
          0.5,
          0.6,
          0.5,
        ),
      })),
    );
    const add = (to: ProductSetIndex, p: number) =>
      to.upsertProduct(
        {
          project: 'p',
          location: 'l',
          id: `p${p}`,
          displayName: `P ${p} é🙂 ${'x'.repeat(p * 7)}`,
          description: '',
          productCategory: 'general-v1',
          labels: [{ key: 'k', value: String(p % 3) }],
        },
        regionsOf[p],
      );
    for (let p = 0; p < 40; p++) add(index, p);
    index.removeProduct('p7'); // a hole of free rows
    setSnapshotIoChunk(1000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mpx-snapfile-'));
    const format = 'test-128';
    const file = await writeSetSnapshot(
      dir,
      'p/l/s',
      { scope: { project: 'p', location: 'l' }, setId: 's', state: index.toState() },
      format,
    );
    const back = await readSetSnapshot(dir, file, format);
    expect(back.setId).toBe('s');
    const restored = ProductSetIndex.fromState(hasher, codec, back.state);
    expect(restored.size).toBe(index.size);
    expect(restored.product('p3')).toEqual(index.product('p3'));
    expect(restored.product('p39')).toEqual(index.product('p39'));
    expect(restored.has('p7')).toBe(false);
    const sameAnswers = () => {
      for (let q = 0; q < 5; q++) {
        const query = Float32Array.from(basis.mean, (m) => Math.max(0, m + 0.02 * rng.gaussian()));
        expect(restored.searchProducts(query, 8, () => true)).toEqual(index.searchProducts(query, 8, () => true));
      }
    };
    sameAnswers();
    // The restored index took the file's columns as its own: writes past their spare rows grow them.
    for (const target of [index, restored]) {
      for (let p = 40; p < 60; p++) add(target, p);
      target.removeProduct('p3');
    }
    expect(restored.size).toBe(index.size);
    sameAnswers();
    await expect(readSetSnapshot(dir, file, 'other-format')).rejects.toThrow(/format/);
    const bytes = readFileSync(path.join(dir, file));
    bytes.write('MPXIDX02', 0, 'latin1'); // the format before products became lines
    writeFileSync(path.join(dir, 'old.idx'), bytes);
    await expect(readSetSnapshot(dir, 'old.idx', format)).rejects.toThrow(/not an index snapshot/);
    truncateSync(path.join(dir, file), statSync(path.join(dir, file)).size - 100);
    await expect(readSetSnapshot(dir, file, format)).rejects.toThrow(/truncated/);
  },
);
