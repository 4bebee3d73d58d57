/**
 * How well coarse lists on the leading PCA dimensions would keep a query region's nearest
 * indexed region: the measurement behind the next step for #13's 30-region index time (an
 * inverted file with float centroids; binary k-majority lists lost too many true matches,
 * README "bench:scale"). Not a product feature: nothing in src uses float lists yet.
 *
 * Regions are drawn as bench/scale.ts draws them in the 256-d PCA space (products of 10
 * regions around a centre, 50 products a cluster); lists are k-means centroids of the
 * leading `dims` coordinates (trained on 64 sampled regions a list, 10 rounds); queries are
 * noisy copies of catalog products' centres (noise 0.7 of the spread against the regions'
 * 0.5), and each one's nearest region by exact cosine over all 256 dimensions is the truth.
 * Printed per lists probed: the share of queries whose nearest region is in a probed list,
 * and the share of regions scanned.
 * Usage: npx tsx bench/coarse-lists.ts [--regions 300000] [--dims 32] [--lists 512]
 */
import { parseArgs } from 'node:util';
import { SeededRandom } from '../src/search/hasher/seeded-random';

const { values: opt } = parseArgs({
  options: {
    regions: { type: 'string', default: '300000' },
    dims: { type: 'string', default: '32' },
    lists: { type: 'string', default: '512' },
    queries: { type: 'string', default: '120' },
  },
});
const D = 256;
const N = Number(opt.regions);
const DC = Number(opt.dims);
const C = Number(opt.lists);
const PROBES = [4, 8, 16, 32, 64];
const rng = new SeededRandom(1);
const spread = (j: number) => 0.12 / Math.sqrt(1 + j / 6);

const rows = new Float32Array(N * D);
const clusters = Array.from({ length: Math.ceil(N / 500) }, () => Float32Array.from({ length: D }, (_, j) => spread(j) * rng.gaussian()));
const centres: Float32Array[] = [];
for (let p = 0; p < N / 10; p++) {
  const base = clusters[Math.floor(p / 50) % clusters.length];
  const centre = base.map((v, j) => v + spread(j) * 0.6 * rng.gaussian());
  if (p % 500 === 7) centres.push(centre);
  for (let r = 0; r < 10; r++) for (let j = 0; j < D; j++) rows[(p * 10 + r) * D + j] = centre[j] + spread(j) * 0.5 * rng.gaussian();
}
const norms = new Float32Array(N).map((_, i) => Math.hypot(...rows.subarray(i * D, (i + 1) * D)));

const centroids = new Float32Array(C * DC);
const squared = (v: Float32Array, at: number, c: number) => {
  let d = 0;
  for (let j = 0; j < DC; j++) {
    const x = v[at + j] - centroids[c * DC + j];
    d += x * x;
  }
  return d;
};
const nearest = (v: Float32Array, at: number) => {
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c < C; c++) {
    const d = squared(v, at, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
};

let t = performance.now();
for (let c = 0; c < C; c++) {
  const i = rng.int(N);
  centroids.set(rows.subarray(i * D, i * D + DC), c * DC);
}
const sample = Array.from({ length: Math.min(N, 64 * C) }, () => rng.int(N));
for (let round = 0; round < 10; round++) {
  const sum = new Float64Array(C * DC);
  const count = new Int32Array(C);
  for (const i of sample) {
    const c = nearest(rows, i * D);
    count[c]++;
    for (let j = 0; j < DC; j++) sum[c * DC + j] += rows[i * D + j];
  }
  for (let c = 0; c < C; c++) if (count[c]) for (let j = 0; j < DC; j++) centroids[c * DC + j] = sum[c * DC + j] / count[c];
}
const trainMs = performance.now() - t;
t = performance.now();
const listOf = new Int32Array(N).map((_, i) => nearest(rows, i * D));
const sizes = new Int32Array(C);
for (const l of listOf) sizes[l]++;
console.error(
  `trained ${C} lists on ${sample.length} regions in ${Math.round(trainMs)} ms; filed ${N} regions in ${Math.round(performance.now() - t)} ms`,
);

const found = PROBES.map(() => 0);
const scanned = PROBES.map(() => 0);
const queries = centres.slice(0, Number(opt.queries));
for (const centre of queries) {
  const q = centre.map((v, j) => v + spread(j) * 0.7 * rng.gaussian());
  const qn = Math.hypot(...q);
  let truth = -1;
  let best = -Infinity;
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += q[j] * rows[i * D + j];
    s /= norms[i] * qn;
    if (s > best) [truth, best] = [i, s];
  }
  const byDistance = Array.from({ length: C }, (_, c) => ({ c, d: squared(q, 0, c) })).sort((a, b) => a.d - b.d);
  PROBES.forEach((p, k) => {
    const probed = byDistance.slice(0, p);
    if (probed.some((x) => x.c === listOf[truth])) found[k]++;
    scanned[k] += probed.reduce((s, x) => s + sizes[x.c], 0);
  });
}
PROBES.forEach((p, k) =>
  console.log(
    `${N} regions, ${DC} dims, ${C} lists, ${p} probed: nearest region found ${(found[k] / queries.length).toFixed(3)}, regions scanned ${((100 * scanned[k]) / queries.length / N).toFixed(1)} %`,
  ),
);
