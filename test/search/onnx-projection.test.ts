/**
 * Query preparation off the JS thread: models/hashing/projection-256.onnx run by
 * onnxruntime (OnnxProjection) against the codec's own projection (WebAssembly SIMD and
 * plain JS). One contract, every way a query can be prepared: the same numbers but for
 * float rounding, the same codes, the same answers from an index.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { CompactEmbeddingCodec, type PreparedQuery } from '../../src/search/compact-embedding';
import { ItqHasher, SeededRandom } from '../../src/search/hasher';
import { hashingFileListed, readItqParams, sha256Hex, type ItqParams } from '../../src/search/hasher/itq-params';
import { OnnxProjection, projectionFile } from '../../src/search/onnx-projection';
import { ProductSetIndex } from '../../src/search/product-set-index';
import { MetapixelError } from '../../src/core/errors';

const HASHING = path.resolve(__dirname, '..', '..', 'models', 'hashing');
let basis: ItqParams;
let hash128: ItqParams;
let onnx: OnnxProjection;
let embeddings: Float32Array[];

beforeAll(async () => {
  basis = await readItqParams(HASHING, 256);
  hash128 = await readItqParams(HASHING, 128);
  onnx = await OnnxProjection.load(HASHING, basis);
  // Embedding-like vectors: non-negative (ReLU6 features), near the training mean, unit length.
  const rng = new SeededRandom(5);
  embeddings = Array.from({ length: 30 }, () => {
    const v = Float32Array.from(basis.mean, (m) => Math.max(0, m + 0.03 * rng.gaussian()));
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
});

afterAll(() => onnx.close());

/** Every way a codec prepares a batch of queries, at these re-rank dims. */
const ways = (dims?: number): [string, (xs: Float32Array[]) => Promise<PreparedQuery[]>][] => [
  ['plain JS', async (xs) => new CompactEmbeddingCodec(basis, [hash128], { dims, simd: false }).prepareAll(xs)],
  ['WebAssembly SIMD', async (xs) => new CompactEmbeddingCodec(basis, [hash128], { dims }).prepareAll(xs)],
  ['onnxruntime', (xs) => new CompactEmbeddingCodec(basis, [hash128], { dims, batch: onnx }).prepareAllAsync(xs)],
];

describe.each([undefined, 128])('at %s re-rank dims', (dims) => {
  let reference: PreparedQuery[];
  beforeAll(() => {
    reference = new CompactEmbeddingCodec(basis, [hash128], { dims, simd: false }).prepareAll(embeddings);
  });

  test.each(ways(dims))('%s: the same projection, norms and offset as the JS reference', async (_name, prepare) => {
    const got = await prepare(embeddings);
    expect(got).toHaveLength(embeddings.length);
    got.forEach((p, i) => {
      const r = reference[i];
      expect(p.y).toHaveLength(dims ?? 256);
      let worst = 0;
      for (let j = 0; j < p.y.length; j++) worst = Math.max(worst, Math.abs(p.y[j] - r.y[j]));
      expect(worst).toBeLessThan(1e-5);
      expect(p.norm).toBeCloseTo(r.norm, 5);
      expect(p.residual).toBeCloseTo(r.residual, 4);
      expect(p.offset).toBeCloseTo(r.offset, 5);
      expect(p.y16Scale).toBeCloseTo(r.y16Scale, 9);
      // The int16 query the re-rank multiplies by: at most one step of rounding apart.
      for (let j = 0; j < p.y16.length; j++) expect(Math.abs(p.y16[j] - r.y16[j])).toBeLessThanOrEqual(1);
    });
  });

  test.each(ways(dims))('%s: an empty batch is empty, a wrong length is refused', async (_name, prepare) => {
    await expect(prepare([])).resolves.toEqual([]);
    await expect(prepare([new Float32Array(100)])).rejects.toThrow(/expected 1792/);
  });
});

test('query codes from the onnxruntime projection are the hasher’s own', async () => {
  const codec = new CompactEmbeddingCodec(basis, [hash128], { batch: onnx });
  const hasher = new ItqHasher(hash128);
  const prepared = await codec.prepareAllAsync(embeddings);
  // A sign can differ only where the projection is ~0 (float rounding): none is here.
  prepared.forEach((p, i) => expect(Buffer.from(codec.codeOf(p, 128))).toEqual(Buffer.from(hasher.encode(embeddings[i]))));
});

test('an index answers a query prepared by onnxruntime as one it prepares itself', async () => {
  const codec = new CompactEmbeddingCodec(basis, [hash128], { batch: onnx });
  const index = new ProductSetIndex(new ItqHasher(hash128), codec);
  const rng = new SeededRandom(9);
  for (let p = 0; p < 40; p++) {
    const regions = Array.from({ length: 3 }, () => {
      const v = Float32Array.from(embeddings[p % embeddings.length], (x) => Math.max(0, x + 0.01 * rng.gaussian()));
      return { imageId: 'r0', source: 'whole-image' as const, compact: codec.encode(v) };
    });
    index.upsertProduct(
      { project: 'p', location: 'l', id: `p${p}`, displayName: '', description: '', productCategory: 'general-v1', labels: [] },
      regions,
    );
  }
  const query = embeddings.slice(0, 12).map((embedding, r) => ({ embedding, penalty: r ? 0.04 : 0, secondary: r > 2 }));
  const every = { key: 'every', accept: () => true };
  const prepared = await codec.prepareAllAsync(query.map((q) => q.embedding));
  const mine = index.searchProducts(query, 10, every);
  const theirs = index.searchProducts(
    query.map((q, r) => ({ ...q, prepared: prepared[r] })),
    10,
    every,
  );
  expect(theirs.map((h) => h.region.productId)).toEqual(mine.map((h) => h.region.productId));
  theirs.forEach((h, i) => expect(h.similarity).toBeCloseTo(mine[i].similarity, 4));
});

test('a codec refuses a batch projection with fewer coordinates than its re-rank dims', () => {
  const narrow = { outputs: 64, project: async () => [], close: async () => {} };
  expect(() => new CompactEmbeddingCodec(basis, [], { dims: 128, batch: narrow })).toThrow(RangeError);
});

test('a failed batch run is prepared in this thread instead, and counted', async () => {
  const failing = {
    outputs: 256,
    project: async () => {
      throw new Error('session disposed');
    },
    close: async () => {},
  };
  const codec = new CompactEmbeddingCodec(basis, [hash128], { batch: failing });
  const got = await codec.prepareAllAsync(embeddings.slice(0, 3));
  expect(got).toEqual(codec.prepareAll(embeddings.slice(0, 3)));
  expect(codec.batchFallbacks).toBe(1);
  // A wrong length is the caller's error, not a failed run: refused, not prepared.
  await expect(codec.prepareAllAsync([new Float32Array(3)])).rejects.toThrow(RangeError);
  expect(codec.batchFallbacks).toBe(1);
});

test('an index refuses a query prepared at other dims than its own', async () => {
  const index = new ProductSetIndex(new ItqHasher(hash128), new CompactEmbeddingCodec(basis, [hash128], { dims: 128 }));
  const [prepared] = await new CompactEmbeddingCodec(basis, [hash128], { batch: onnx }).prepareAllAsync([embeddings[0]]);
  expect(() =>
    index.searchProducts([{ embedding: embeddings[0], penalty: 0, prepared }], 10, { key: 'every', accept: () => true }),
  ).toThrow(/prepared at 256 dims/);
});

describe('loading', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'metapixel-projection-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const copyWith = async (bytes: Uint8Array, listed = bytes) => {
    await fs.writeFile(path.join(dir, 'projection-256.onnx'), bytes);
    const files = { 'projection-256.onnx': { sha256: sha256Hex(listed), bytes: listed.length } };
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ files }));
  };

  test('the shipped hashing directory lists the graph; a directory made before it does not', async () => {
    await expect(hashingFileListed(HASHING, projectionFile(256))).resolves.toBe(true);
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ files: {} }));
    await expect(hashingFileListed(dir, projectionFile(256))).resolves.toBe(false);
  });

  test('a file that differs from its manifest entry is refused', async () => {
    const bytes = new Uint8Array(await fs.readFile(path.join(HASHING, 'projection-256.onnx')));
    const other = Uint8Array.from(bytes);
    other[other.length - 1] ^= 1;
    await copyWith(bytes, other);
    await expect(OnnxProjection.load(dir, basis)).rejects.toThrow(/does not match the manifest/);
  });

  test('a file made from another basis fails at load, not as codes that match nothing', async () => {
    await copyWith(new Uint8Array(await fs.readFile(path.join(HASHING, 'projection-256.onnx'))));
    const rows = Float32Array.from(basis.rows);
    rows[5] += 0.5;
    const err = await OnnxProjection.load(dir, { ...basis, rows }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetapixelError);
    expect((err as Error).message).toMatch(/does not match itq-256.bin/);
  });
});
