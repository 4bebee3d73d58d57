/** CompactEmbeddingCodec on the shipped PCA basis: the approximation against exact cosine,
 *  and query codes from the projection against the hasher's own. */
import path from 'node:path';
import { CompactColumns, CompactEmbeddingCodec, SIMD_FROM_BYTES } from '../../src/search/compact-embedding';
import { ItqHasher, SeededRandom } from '../../src/search/hasher';
import { readItqParams } from '../../src/search/hasher/itq-params';

const HASHING = path.resolve(__dirname, '..', '..', 'models', 'hashing');
let codec: CompactEmbeddingCodec;
let embeddings: Float32Array[];

beforeAll(async () => {
  const basis = await readItqParams(HASHING, 256);
  codec = new CompactEmbeddingCodec(basis, await Promise.all([64, 128, 256].map((b) => readItqParams(HASHING, b))));
  // Embedding-like vectors: non-negative (ReLU6 features), near the training mean, unit length.
  const rng = new SeededRandom(11);
  const base = Array.from({ length: 8 }, () => Float32Array.from(basis.mean, (m) => Math.max(0, m + 0.02 * rng.gaussian())));
  embeddings = Array.from({ length: 40 }, (_, i) => {
    const v = Float32Array.from(base[i % 8], (x) => Math.max(0, x + 0.01 * rng.gaussian()));
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
});

const exact = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('264 bytes a region; a region matches itself at 1', () => {
  expect(codec.bytesPerVector).toBe(264);
  const one = codec.columns(1);
  one.set(0, codec.encode(embeddings[0]));
  expect(one.memoryBytes).toBe(264);
  const packed = codec.columns();
  embeddings.forEach((e, i) => packed.set(i, codec.encode(e)));
  embeddings.forEach((e, i) => expect(codec.similarity(codec.prepare(e), packed, i)).toBeCloseTo(1, 2));
});

test('the approximate cosine stays close to the exact one and keeps the order of clear differences', () => {
  const packed = codec.columns();
  embeddings.forEach((e, i) => packed.set(i, codec.encode(e)));
  let worst = 0;
  let sum = 0;
  for (const [qi, q] of embeddings.entries()) {
    const prepared = codec.prepare(q);
    const approx = embeddings.map((_, i) => codec.similarity(prepared, packed, i));
    const truth = embeddings.map((e) => exact(q, e));
    approx.forEach((a, i) => {
      worst = Math.max(worst, Math.abs(a - truth[i]));
      sum += Math.abs(a - truth[i]);
    });
    // The nearest other vector by exact cosine is among the approximation's best three.
    const order = (xs: number[]) =>
      xs
        .map((x, i) => [x, i] as const)
        .filter(([, i]) => i !== qi)
        .sort((a, b) => b[0] - a[0])
        .map(([, i]) => i);
    expect(order(approx).slice(0, 3)).toContain(order(truth)[0]);
  }
  // These vectors are noisier than real embeddings (docs/search.md: mean 0.03, max 0.11 there).
  expect(worst).toBeLessThan(0.12);
  expect(sum / embeddings.length ** 2).toBeLessThan(0.05);
});

test("query codes from the projection are the hasher's PCA-sign codes at every shipped length", async () => {
  expect([...codec.prefixCodeBits].sort((a, b) => a - b)).toEqual([64, 128, 256]);
  for (const bits of [64, 128, 256]) {
    const hasher = await ItqHasher.load(HASHING, bits);
    let differing = 0;
    for (const e of embeddings) {
      const a = codec.codeOf(codec.prepare(e), bits);
      const b = hasher.encode(e);
      for (let i = 0; i < a.length; i++) for (let x = a[i] ^ b[i]; x; x &= x - 1) differing++;
    }
    // Float summation order may flip a bit whose projection is ~0; nothing more.
    expect(differing).toBeLessThanOrEqual(embeddings.length * bits * 0.002);
  }
});

test('a hash over another basis is not taken as a prefix', () => {
  const rng = new SeededRandom(5);
  const params = {
    bits: 4,
    dims: 6,
    mean: new Float32Array(6),
    rows: Float32Array.from({ length: 24 }, () => rng.gaussian()),
    method: 'pca-sign' as const,
  };
  const other = { ...params, rows: params.rows.map((x) => -x) };
  const small = new CompactEmbeddingCodec(params, [other, { ...params, bits: 2, rows: params.rows.slice(0, 12) }]);
  expect([...small.prefixCodeBits]).toEqual([2]);
  expect(() => small.codeOf(small.prepare(new Float32Array(6)), 4)).toThrow(RangeError);
});

test("serialized vectors round-trip, and another projection's bytes are refused", () => {
  const v = codec.encode(embeddings[3]);
  const bytes = codec.serialize(v);
  expect(bytes.length).toBe(8 + codec.dims + 16);
  const back = codec.deserialize(bytes)!;
  expect(Array.from(back.q)).toEqual(Array.from(v.q));
  expect(back.scale).toBeCloseTo(v.scale, 6);
  expect(back.residual).toBeCloseTo(v.residual, 6);
  const foreign = bytes.slice();
  foreign[0] ^= 1;
  expect(codec.deserialize(foreign)).toBeUndefined();
  expect(codec.deserialize(bytes.subarray(0, 20))).toBeUndefined();
});

test("a row's code is the sign bits of its int8 projection, as a query's code is of its float one", () => {
  const cols = codec.columns();
  embeddings.forEach((e, i) => cols.set(i, codec.encode(e)));
  for (const bits of codec.prefixCodeBits) {
    embeddings.forEach((e, i) => {
      const fromQuery = codec.codeOf(codec.prepare(e), bits);
      const fromRow = cols.codeOf(i, bits);
      // int8 rounding keeps every sign, so the codes are the same.
      expect(Array.from(fromRow)).toEqual(Array.from(fromQuery));
    });
  }
});

test('half floats: exact for representable values, within 2^-11 relative otherwise, signs and zero kept', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 2 ** -14]) {
    const c = new CompactColumns(4, 1);
    c.set(0, { q: new Int8Array(4), scale: v, offset: -v, norm: v, residual: v });
    expect([c.scale(0), c.offset(0), c.norm(0), c.residual(0)]).toEqual([v, -v, v, v]);
  }
  const rng = new SeededRandom(5);
  for (let i = 0; i < 2000; i++) {
    const v = Math.exp(rng.gaussian() * 3) * (rng.next() < 0.5 ? -1 : 1);
    if (Math.abs(v) < 2 ** -14 || Math.abs(v) > 60000) continue;
    expect(Math.abs(HALF_OF(v) - v) / Math.abs(v)).toBeLessThanOrEqual(2 ** -11);
  }
});

const HALF_OF = (v: number) => {
  const c = new CompactColumns(1, 1);
  c.set(0, { q: new Int8Array(1), scale: v, offset: 0, norm: 0, residual: 0 });
  return c.scale(0);
};

test('the WebAssembly projection equals the plain JS one, for any batch size and any width a multiple of 4', async () => {
  const shipped = await readItqParams(HASHING, 256);
  const rng = new SeededRandom(5);
  // The shipped basis (1,792 wide), and small ones that end on one f32x4 (12 % 8 = 4) or none.
  const small = (dims: number, bits: number) => ({
    dims,
    bits,
    mean: Float32Array.from({ length: dims }, () => rng.gaussian()),
    rows: Float32Array.from({ length: dims * bits }, () => rng.gaussian()),
  });
  for (const params of [shipped, small(12, 5), small(16, 3), small(10, 4)]) {
    const simd = new CompactEmbeddingCodec(params, []);
    const js = new CompactEmbeddingCodec(params, [], { simd: false });
    for (const batch of [1, 3, 4, 5, 9]) {
      const xs = Array.from({ length: batch }, () => Float32Array.from({ length: params.dims }, () => rng.gaussian()));
      const got = simd.prepareAll(xs);
      const want = js.prepareAll(xs);
      got.forEach((g, i) => {
        const scale = Math.max(1, want[i].norm);
        g.y.forEach((v, j) => expect(Math.abs(v - want[i].y[j]) / scale).toBeLessThan(1e-5));
        expect(g.norm).toBeCloseTo(want[i].norm, 4);
        expect(g.residual).toBeCloseTo(want[i].residual, 3);
        expect(g.offset).toBe(want[i].offset);
        // One at a time, as a batch: the same numbers.
        expect(simd.prepare(xs[i]).y).toEqual(g.y);
      });
    }
  }
});

describe('fewer directions kept (METAPIXEL_RERANK_DIMS)', () => {
  let half: CompactEmbeddingCodec;
  beforeAll(async () => {
    half = new CompactEmbeddingCodec(await readItqParams(HASHING, 256), [await readItqParams(HASHING, 128)], { dims: 128 });
  });

  test('136 bytes a region, a region still matches itself at 1, and the approximation stays close', () => {
    expect(half.bytesPerVector).toBe(136);
    expect(half.formatId).toBe(`${codec.formatId}/128`);
    const packed = half.columns();
    embeddings.forEach((e, i) => packed.set(i, half.encode(e)));
    let sum = 0;
    embeddings.forEach((q, qi) => {
      const prepared = half.prepare(q);
      expect(half.similarity(prepared, packed, qi)).toBeCloseTo(1, 2);
      embeddings.forEach((e, i) => (sum += Math.abs(half.similarity(prepared, packed, i) - exact(q, e))));
    });
    expect(sum / embeddings.length ** 2).toBeLessThan(0.06);
  });

  test('query codes still come from the projection up to the kept length, and the JS and SIMD projections agree', async () => {
    expect([...half.prefixCodeBits]).toEqual([128]);
    const js = new CompactEmbeddingCodec(await readItqParams(HASHING, 256), [], { dims: 128, simd: false });
    for (const e of embeddings.slice(0, 5)) {
      const [a, b] = [half.prepare(e), js.prepare(e)];
      expect(a.y.length).toBe(128);
      a.y.forEach((v, j) => expect(v).toBeCloseTo(b.y[j], 4));
      expect(a.residual).toBeCloseTo(b.residual, 3);
      // What the 128 directions leave out is in the residual: the norms still add up.
      expect(Math.hypot(a.norm, a.residual)).toBeCloseTo(Math.hypot(codec.prepare(e).norm, codec.prepare(e).residual), 3);
    }
  });

  test('a stored 256-direction vector is cut to 128 directions as if encoded with 128, and a 128 one is not read by a 256 codec', () => {
    for (const e of embeddings.slice(0, 10)) {
      const cut = half.deserialize(codec.serialize(codec.encode(e)))!;
      const direct = half.encode(e);
      expect(cut.q.length).toBe(128);
      let off = 0;
      cut.q.forEach((v, j) => (off = Math.max(off, Math.abs(v - direct.q[j]))));
      expect(off).toBeLessThanOrEqual(1);
      expect(cut.norm).toBeCloseTo(direct.norm, 2);
      expect(cut.residual).toBeCloseTo(direct.residual, 2);
      expect(cut.offset).toBeCloseTo(direct.offset, 5);
      expect(codec.deserialize(half.serialize(direct))).toBeUndefined();
    }
  });

  test('out-of-range kept directions are refused', async () => {
    const basis = await readItqParams(HASHING, 256);
    expect(() => new CompactEmbeddingCodec(basis, [], { dims: 0 })).toThrow(RangeError);
    expect(() => new CompactEmbeddingCodec(basis, [], { dims: 257 })).toThrow(RangeError);
  });
});

describe('4-bit columns (METAPIXEL_RERANK_BITS=4)', () => {
  let nib: CompactEmbeddingCodec;
  beforeAll(async () => {
    nib = new CompactEmbeddingCodec(
      await readItqParams(HASHING, 256),
      await Promise.all([64, 128, 256].map((b) => readItqParams(HASHING, b))),
      {
        columnBits: 4,
      },
    );
  });

  test('136 bytes a region; a region matches itself near 1; the approximation stays close to the 8-bit one', () => {
    expect(nib.bytesPerVector).toBe(136);
    expect(nib.formatId).toBe(`${codec.formatId}/4b2`);
    const packed = nib.columns();
    const wide = codec.columns();
    embeddings.forEach((e, i) => {
      packed.set(i, nib.encode(e));
      wide.set(i, codec.encode(e));
    });
    expect(packed.q.length).toBe(packed.capacity * 128);
    let sum = 0;
    let worst = 0;
    embeddings.forEach((q, qi) => {
      const prepared = nib.prepare(q);
      expect(nib.similarity(prepared, packed, qi)).toBeCloseTo(1, 1);
      embeddings.forEach((_, i) => {
        const d = Math.abs(nib.similarity(prepared, packed, i) - codec.similarity(prepared, wide, i));
        sum += d;
        worst = Math.max(worst, d);
      });
    });
    // Against the exact cosine the 8-bit error is ~0.03 (docs/search.md); 16 levels add less.
    expect(sum / embeddings.length ** 2).toBeLessThan(0.01);
    expect(worst).toBeLessThan(0.05);
  });

  test("a 4-bit row's code is still the signs of the float projection, at every length", () => {
    const cols = nib.columns();
    embeddings.forEach((e, i) => cols.set(i, nib.encode(e)));
    for (const bits of nib.prefixCodeBits)
      embeddings.forEach((e, i) => expect(Array.from(cols.codeOf(i, bits))).toEqual(Array.from(nib.codeOf(nib.prepare(e), bits))));
  });

  test('nibbles decode to the 16 odd levels, extremes and small values of either sign included', () => {
    const cols = new CompactColumns(8, 1, 4);
    const q = Int8Array.from([127, -127, 1, -1, 64, -64, 15, -16]);
    cols.set(0, { q, scale: 0.01, offset: 0, norm: 1, residual: 0 });
    const levels = Array.from({ length: 8 }, (_, j) => (((cols.q[j >> 1] & 0xff) >> ((j & 1) * 4)) & 15) * 2 - 15);
    // step = 127 / 8: 127 is the top level, -127 the bottom, ±1 the two nearest 0.
    expect(levels).toEqual([15, -15, 1, -1, 9, -9, 1, -3]);
    expect(cols.scale(0)).toBeCloseTo((127 / 16) * 0.01, 4);
    // A zero vector (a projection exactly 0) reads back as zero, not as half a level.
    cols.set(0, { q: new Int8Array(8), scale: 0.01, offset: 0, norm: 0, residual: 0 });
    expect(cols.scale(0)).toBe(0);
  });
});

describe('copyRows (a set re-quantized to 4 bits, METAPIXEL_RERANK_4BIT_FROM)', () => {
  test('int8 rows copied into 4-bit columns are the bits those columns set from the vectors hold; into int8 ones, the same rows', () => {
    const rows = SIMD_FROM_BYTES / 128 + 100; // the 4-bit copy moves into a kernel's memory on the way
    const rng = new SeededRandom(8);
    const vectors = Array.from({ length: rows }, () => {
      const y = new Float32Array(256);
      for (let j = 0; j < 256; j++) y[j] = rng.gaussian() / Math.sqrt(1 + j);
      return codec.quantize(y, 0.5 + 0.1 * rng.gaussian(), 1, 0.4 + 0.1 * rng.next());
    });
    const source = new CompactColumns(256, 0, 8);
    const direct = new CompactColumns(256, 0, 4);
    vectors.forEach((v, i) => {
      source.set(i, v);
      direct.set(i, v);
    });
    const copied = new CompactColumns(256, 0, 4);
    copied.copyRows(source, 0, 1000); // in two ranges, as a background copy goes
    copied.copyRows(source, 1000, rows);
    // (Compared as bytes: toEqual walks a million elements one by one for half a minute.)
    const bytes = (a: ArrayBufferView, n: number) => Buffer.from(a.buffer, a.byteOffset, n);
    expect(copied.simd).toBe(true);
    expect(bytes(copied.q, rows * 128).equals(bytes(direct.q, rows * 128))).toBe(true);
    expect(bytes(copied.scalars, rows * 8).equals(bytes(direct.scalars, rows * 8))).toBe(true);
    const same = new CompactColumns(256, 0, 8);
    same.copyRows(source, 0, rows);
    expect(bytes(same.q, rows * 256).equals(bytes(source.q, rows * 256))).toBe(true);
    expect(bytes(same.scalars, rows * 8).equals(bytes(source.scalars, rows * 8))).toBe(true);
    expect(() => copied.copyRows(direct, 0, 1)).toThrow(RangeError);
    expect(() => new CompactColumns(128, 0, 4).copyRows(source, 0, 1)).toThrow(RangeError);
  });
});

describe('SIMD re-rank (CompactColumns in a kernel memory from SIMD_FROM_BYTES)', () => {
  const rows = SIMD_FROM_BYTES / 256 + 700;
  // Synthetic regions (random projections), enough to move the columns into the kernel.
  const vectors = (seed: number, n: number) => {
    const rng = new SeededRandom(seed);
    return Array.from({ length: n }, () => {
      const y = Float32Array.from({ length: 256 }, (_, j) => rng.gaussian() / Math.sqrt(1 + j));
      return codec.quantize(y, 0.5 + 0.1 * rng.gaussian(), Math.hypot(...y), 0.4 + 0.1 * rng.next());
    });
  };
  let data: ReturnType<typeof vectors>;
  let js: CompactEmbeddingCodec;
  beforeAll(async () => {
    data = vectors(3, rows);
    js = new CompactEmbeddingCodec(await readItqParams(HASHING, 256), [], { simd: false });
  });

  it('moves into the kernel once large, keeping the rows set before; similarities match the JS dot product', () => {
    const cols = codec.columns();
    const plain = js.columns();
    data.forEach((v, i) => {
      cols.set(i, v);
      plain.set(i, v);
      if (i === 100) expect(cols.simd).toBe(false);
    });
    expect(cols.simd).toBe(true);
    expect(plain.simd).toBe(false);
    const rng = new SeededRandom(9);
    for (const e of embeddings.slice(0, 6)) {
      const query = codec.prepare(e);
      // More rows than one kernel call takes, repeated and in any order.
      const picked = Array.from({ length: 2500 }, () => Math.floor(rng.next() * rows));
      const simd = new Float64Array(picked.length);
      const ref = new Float64Array(picked.length);
      codec.similarities(query, cols, picked, picked.length, simd);
      js.similarities(js.prepare(e), plain, picked, picked.length, ref);
      picked.forEach((row, i) => {
        // The same numbers as the JS dot product with the same int16 query (a set scores
        // alike whichever way it re-ranks); a JS-projected query differs by its rounding.
        expect(simd[i]).toBe(codec.similarity(query, cols, row));
        expect(simd[i]).toBe(codec.similarity(query, plain, row));
        expect(Math.abs(simd[i] - ref[i])).toBeLessThan(2e-4);
      });
    }
  });

  it('gives every row of a batch of any length the same number (four rows a pass, then the rest)', () => {
    const cols = codec.columns();
    data.forEach((v, i) => cols.set(i, v));
    expect(cols.simd).toBe(true);
    const query = codec.prepare(embeddings[1]);
    const rng = new SeededRandom(4);
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 13]) {
      const picked = Array.from({ length: n }, () => Math.floor(rng.next() * rows));
      const out = new Float64Array(n);
      codec.similarities(query, cols, picked, n, out);
      picked.forEach((row, i) => expect(out[i]).toBe(codec.similarity(query, cols, row)));
    }
  });

  it('scores several queries against the same rows as one at a time would (similaritiesMany)', () => {
    const cols = codec.columns();
    const plain = js.columns();
    data.forEach((v, i) => {
      cols.set(i, v);
      plain.set(i, v);
    });
    const queries = embeddings.slice(0, 5).map((e) => codec.prepare(e));
    const rng = new SeededRandom(6);
    for (const n of [0, 1, 7, 1500]) {
      const picked = Array.from({ length: n }, () => Math.floor(rng.next() * rows));
      for (const columns of [cols, plain]) {
        const out = new Float64Array(queries.length * n);
        codec.similaritiesMany(queries, columns, picked, n, out);
        queries.forEach((q, qi) => picked.forEach((row, i) => expect(out[qi * n + i]).toBe(codec.similarity(q, columns, row))));
      }
    }
  });

  it('a copy, a trim and growth after it keep the rows, and rows past a trim come back empty', () => {
    const cols = codec.columns(rows);
    data.forEach((v, i) => cols.set(i, v));
    const copy = cols.copy(rows - 10);
    expect(copy.simd).toBe(true);
    expect(
      Buffer.compare(
        Buffer.from(copy.q.buffer, copy.q.byteOffset, copy.q.length),
        Buffer.from(cols.q.buffer, cols.q.byteOffset, (rows - 10) * 256),
      ),
    ).toBe(0);
    cols.trim(rows - 10);
    cols.set(rows + 5000, data[0]);
    expect(cols.q.subarray((rows - 10) * 256, (rows + 5000) * 256).every((b) => b === 0)).toBe(true);
    const query = codec.prepare(embeddings[0]);
    const out = new Float64Array(3);
    codec.similarities(query, cols, [0, rows - 11, rows + 5000], 3, out);
    expect(out[0]).toBeCloseTo(codec.similarity(query, cols, 0), 3);
    expect(out[1]).toBeCloseTo(codec.similarity(query, copy, rows - 11), 3);
    expect(out[2]).toBeCloseTo(out[0], 6);
  });
});

test('4-bit columns re-rank in SIMD too, as the JS nibble dot product does (four rows a pass, then the rest)', async () => {
  const basis = await readItqParams(HASHING, 256);
  const nib = new CompactEmbeddingCodec(basis, [], { columnBits: 4 });
  const jsNib = new CompactEmbeddingCodec(basis, [], { columnBits: 4, simd: false });
  const rng = new SeededRandom(17);
  const rows = SIMD_FROM_BYTES / 128 + 300;
  const cols = nib.columns();
  const plain = jsNib.columns();
  for (let i = 0; i < rows; i++) {
    const y = Float32Array.from({ length: 256 }, (_, j) => rng.gaussian() / Math.sqrt(1 + j));
    const v = nib.quantize(y, 0.5, Math.hypot(...y), 0.4);
    cols.set(i, v);
    plain.set(i, v);
  }
  expect(cols.simd).toBe(true);
  expect(plain.simd).toBe(false);
  const picked = Array.from({ length: 3000 }, () => Math.floor(rng.next() * rows));
  for (const e of embeddings.slice(0, 4)) {
    const query = nib.prepare(e);
    const simd = new Float64Array(picked.length);
    nib.similarities(query, cols, picked, picked.length, simd);
    picked.forEach((row, i) => expect(simd[i]).toBe(nib.similarity(query, plain, row)));
    for (const n of [1, 2, 3, 5, 7, 9, 13]) {
      const out = new Float64Array(n);
      nib.similarities(query, cols, picked.slice(n), n, out);
      for (let i = 0; i < n; i++) expect(out[i]).toBe(nib.similarity(query, plain, picked[n + i]));
    }
  }
});
