/**
 * Exact Hamming k-NN throughput, latency and recall for the HammingIndex engines
 * (src/search/hamming). One thread, fixed seeds, a warm-up, then one timed query at a time.
 * Prints a table and one JSON line per configuration. See bench/README.md. Usage:
 *   npx tsx bench/index.ts --synthetic 1000000 --bits 64 [--clustered] [--methods scan,mih]
 *   npx tsx bench/index.ts --generate 10000000 --clustered --bits 64 --out-db db.bin --out-queries q.bin
 *   npx tsx bench/index.ts --db db.bin --queries q.bin --bits 64 --k 10
 *   npx tsx --expose-gc bench/index.ts --perfdata /tmp/perfdata --rounds 5   # shared files, beside scan.c
 * Code files are raw: n codes of bits/8 bytes back to back, bit i = bit i%8 of byte i/8.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CodeBits, HammingHit, HammingIndex } from '../src/search/hamming/hamming-index';
import { chooseHammingIndex } from '../src/search/hamming/choose';
import { LinearScanIndex } from '../src/search/hamming/linear-scan';
import { MultiIndexHashing } from '../src/search/hamming/mih';
import type { KernelName } from '../src/search/hamming/scan-kernels';
import { bernoulliClustered, clusteredCodes, nearbyQueries, randomCodes, rng } from '../test/search/hamming/codes';

const { values: opt } = parseArgs({
  options: {
    db: { type: 'string' },
    queries: { type: 'string' },
    bits: { type: 'string', default: '64' },
    k: { type: 'string', default: '10' },
    synthetic: { type: 'string' },
    generate: { type: 'string' },
    clustered: { type: 'boolean', default: false },
    centers: { type: 'string', default: '10000' },
    flips: { type: 'string', default: '4' },
    'query-flips': { type: 'string', default: '3' },
    'out-db': { type: 'string' },
    'out-queries': { type: 'string' },
    nq: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '100' },
    methods: { type: 'string', default: 'scan,mih' },
    kernel: { type: 'string', default: 'wasm' },
    m: { type: 'string' },
    'scan-fallback': { type: 'string' },
    seed: { type: 'string', default: '42' },
    rounds: { type: 'string' },
    'scan-c': { type: 'string' },
    perfdata: { type: 'string' },
    sets: { type: 'string', default: 'clustered_64_1000000,clustered_128_1000000,clustered_256_1000000,clustered_64_10000000' },
    'c-nq': { type: 'string' },
    'no-c': { type: 'boolean', default: false },
    block: { type: 'string' },
    cpu: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
  },
});

const bits = Number(opt.bits);
const bytes = bits / 8;
const k = Number(opt.k);
const seed = Number(opt.seed);
const MB = 1024 * 1024;
/** Present under `node --expose-gc` (tsx passes it on); makes grew_mb exclude garbage. */
const gc = (globalThis as { gc?: () => void }).gc;

function makeData(n: number): { db: Uint8Array; queries: Uint8Array } {
  const nq = Number(opt.nq) + Number(opt.warmup);
  if (!opt.clustered) return { db: randomCodes(n, bits, seed), queries: randomCodes(nq, bits, seed + 1) };
  const db = clusteredCodes(n, bits, Number(opt.centers), Number(opt.flips), seed);
  return { db, queries: nearbyQueries(db, bits, nq, Number(opt['query-flips']), seed + 1) };
}

function loadData(): { db: Uint8Array; queries: Uint8Array; source: string } {
  if (opt.db && opt.queries) {
    const db = new Uint8Array(readFileSync(opt.db));
    const queries = new Uint8Array(readFileSync(opt.queries));
    if (db.length % bytes || queries.length % bytes) throw new Error(`File sizes are not multiples of ${bytes} bytes`);
    return { db, queries, source: `${opt.db} + ${opt.queries}` };
  }
  const n = Number(opt.synthetic ?? opt.generate);
  if (!Number.isInteger(n) || n <= 0) throw new Error('Give --db and --queries, or --synthetic N, or --generate N');
  const data = makeData(n);
  const kind = opt.clustered
    ? `clustered (${opt.centers} centers, <=${opt.flips} flips; queries <=${opt['query-flips']} flips)`
    : 'uniform';
  return { ...data, source: `synthetic ${kind}, seed ${seed}` };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function makeIndex(method: string): HammingIndex {
  if (method === 'scan') return new LinearScanIndex(bits, { kernel: opt.kernel as KernelName });
  if (method === 'mih') {
    return new MultiIndexHashing(bits, {
      ...(opt.m ? { m: Number(opt.m) } : {}),
      ...(opt['scan-fallback'] ? { scanFallback: Number(opt['scan-fallback']) } : {}),
    });
  }
  throw new Error(`Unknown method ${method}`);
}

interface Row {
  method: string;
  bits: number;
  n: number;
  k: number;
  threads: number;
  qps: number;
  p50_us: number;
  p99_us: number;
  recall_at_k: number;
}

function query(queries: Uint8Array, i: number): Uint8Array {
  return queries.subarray(i * bytes, (i + 1) * bytes);
}

function recall(got: HammingHit[], truth: HammingHit[]): number {
  if (truth.length === 0) return 1;
  const want = new Set(truth.map((h) => h.id));
  return got.filter((h) => want.has(h.id)).length / truth.length;
}

interface Data {
  db: Uint8Array;
  queries: Uint8Array;
  ids: Uint32Array;
  n: number;
  warm: number;
  nq: number;
}

const loadAvg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function exactAnswers(d: Data): HammingHit[][] {
  const oracle = new LinearScanIndex(bits);
  oracle.add(d.ids, d.db);
  return Array.from({ length: d.nq }, (_, i) => oracle.search(query(d.queries, d.warm + i), k));
}

/** Builds one index and times it; a function so the index is garbage before the next. */
function benchMethod(method: string, d: Data, truth: HammingHit[][]): Row {
  gc?.();
  const before = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  const index = makeIndex(method);
  index.add(d.ids, d.db);
  const buildS = Number(process.hrtime.bigint() - t0) / 1e9;
  gc?.();
  const mem = process.memoryUsage();
  // JS heap + ArrayBuffer growth during the build; misses WASM memory, which index_mb
  // (the index's own count) includes.
  const grewMb = (mem.arrayBuffers + mem.heapUsed - before.arrayBuffers - before.heapUsed) / MB;
  const indexMb = index.memoryBytes / MB;
  for (let i = 0; i < d.warm; i++) index.search(query(d.queries, i), k);
  index.resetStats();
  const lat = new Float64Array(d.nq);
  const results: HammingHit[][] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < d.nq; i++) {
    const t = process.hrtime.bigint();
    results.push(index.search(query(d.queries, d.warm + i), k));
    lat[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  const totalS = Number(process.hrtime.bigint() - start) / 1e9;
  if (truth.length === 0) truth.push(...results);
  lat.sort();
  const row: Row = {
    method,
    bits,
    n: d.n,
    k,
    threads: 1,
    qps: Math.round(d.nq / totalS),
    p50_us: Math.round(percentile(lat, 50)),
    p99_us: Math.round(percentile(lat, 99)),
    recall_at_k: results.reduce((s, r, i) => s + recall(r, truth[i]), 0) / d.nq,
  };
  const s = index.stats;
  console.log(
    [
      method.padEnd(6),
      buildS.toFixed(2).padStart(7),
      indexMb.toFixed(0).padStart(8),
      grewMb.toFixed(0).padStart(7),
      (mem.rss / MB).toFixed(0).padStart(6),
      String(row.qps).padStart(7),
      String(row.p50_us).padStart(7),
      String(row.p99_us).padStart(7),
      row.recall_at_k.toFixed(4).padStart(9),
      (s.codesScanned / s.searches).toFixed(0).padStart(12),
      (s.bucketsProbed / s.searches).toFixed(0).padStart(14),
      ` ${loadAvg()}`,
    ].join(' '),
  );
  return row;
}

function main(): void {
  const { db, queries, source } = loadData();
  if (opt.generate) {
    if (!opt['out-db'] || !opt['out-queries']) throw new Error('--generate needs --out-db and --out-queries');
    writeFileSync(opt['out-db'], db);
    writeFileSync(opt['out-queries'], queries);
    console.log(`wrote ${db.length / bytes} codes to ${opt['out-db']}, ${queries.length / bytes} to ${opt['out-queries']}`);
    return;
  }
  const n = db.length / bytes;
  const warm = Math.min(Number(opt.warmup), Math.floor(queries.length / bytes / 2));
  const d: Data = {
    db,
    queries,
    n,
    warm,
    nq: Math.min(Number(opt.nq), queries.length / bytes - warm),
    ids: new Uint32Array(n).map((_, i) => i),
  };
  console.log(
    `node ${process.version}, ${os.cpus()[0].model} x${os.cpus().length}, load ${loadAvg()}` +
      (gc ? '' : ' (no --expose-gc: grew_mb includes garbage)'),
  );
  console.log(`data: ${n} x ${bits}-bit codes, ${d.nq} timed queries after ${warm} warm-up, k=${k}; ${source}`);
  const methods = opt.methods.split(',');
  // Ground truth from the scan (itself checked against brute force in the tests); when
  // scan runs first, its own answers are the truth and it scores 1 by definition.
  const truth = methods[0] === 'scan' ? [] : exactAnswers(d);
  console.log('method  build_s  index_mb  grew_mb  rss_mb  qps      p50_us  p99_us  recall@k  codes/query  buckets/query  load');
  const rows = methods.map((method) => benchMethod(method, d, truth));
  for (const row of rows) console.log(JSON.stringify(row));
}

/**
 * --rounds R: R fresh processes (so one method's garbage and JIT state cannot bias the
 * next), alternating the method order, then the median and spread per method.
 */
function runRounds(r: number): void {
  const methods = opt.methods.split(',');
  const rows = new Map<string, Row[]>(methods.map((m) => [m, []]));
  for (let i = 0; i < r; i++) {
    const order = i % 2 ? [...methods].reverse() : methods;
    const args = [...process.execArgv, process.argv[1], ...process.argv.slice(2), '--rounds', '1', '--methods', order.join(',')];
    const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * MB });
    if (child.status !== 0) throw new Error(`round ${i + 1} failed`);
    for (const line of child.stdout.split('\n')) {
      if (line.startsWith('{')) {
        const row = JSON.parse(line) as Row;
        rows.get(row.method)?.push(row);
      } else if (line) console.log(`round ${i + 1}: ${line}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`median of ${r} rounds (qps min..max):`);
  const summary: Row[] = [];
  for (const [method, rs] of rows) {
    const qps = rs.map((x) => x.qps);
    const row: Row = {
      ...rs[0],
      qps: median(qps),
      p50_us: median(rs.map((x) => x.p50_us)),
      p99_us: median(rs.map((x) => x.p99_us)),
      recall_at_k: Math.min(...rs.map((x) => x.recall_at_k)),
    };
    console.log(
      `${method.padEnd(6)} qps ${row.qps} (${Math.min(...qps)}..${Math.max(...qps)}), p50 ${row.p50_us} us, p99 ${row.p99_us} us`,
    );
    summary.push(row);
  }
  for (const row of summary) console.log(JSON.stringify(row));
}

// ---------------------------------------------------------------------------------------
// --perfdata DIR: the shared yardstick files (../shared/perf/README.md) with the C scan
// compiled from scan.c and run beside our engines in the same script, interleaved per
// round, so machine drift hits both sides alike. Ratios are the median of the per-round
// ratios; recall is tie-aware (an id counts when its distance <= the 10th true distance).

interface SharedSet {
  name: string;
  bits: number;
  n: number;
  db: Uint8Array;
  queries: Uint8Array;
  gtDist: Int32Array;
}

/** `name` or `name:N` (the first N codes of the set; the truth then comes from our exact
 *  scan, itself tested against brute force, and the C scan, which reads whole files, is
 *  not run). */
function loadShared(dir: string, spec: string): SharedSet & { prefix: boolean } {
  if (spec.startsWith('model_')) return modelSet(spec);
  const [name, prefixArg] = spec.split(':');
  const m = /^([a-z]+)_(\d+)_(\d+)$/.exec(name);
  if (!m) throw new Error(`Set name ${name} is not <dist>_<bits>_<n>`);
  const b = Number(m[2]);
  const n = Number(m[3]);
  const at = path.join(dir, name);
  const read = (f: string) => new Uint8Array(readFileSync(path.join(at, f)));
  const db = read(`db_${b}_${n}.u8`);
  const queries = read(`q_${b}_1000.u8`);
  const gt = read(`gt_${name}.dist`);
  if (db.length !== (n * b) / 8) throw new Error(`${name}: db is ${db.length} bytes, want ${(n * b) / 8}`);
  const set = { name, bits: b, n, db, queries, gtDist: new Int32Array(gt.buffer, gt.byteOffset, gt.length / 4), prefix: false };
  if (prefixArg === undefined) return set;
  const p = Number(prefixArg);
  if (!(p > 0 && p <= n)) throw new Error(`${spec}: prefix must be in 1..${n}`);
  const part = { ...set, n: p, db: db.subarray(0, (p * b) / 8), gtDist: new Int32Array(1000 * 10), prefix: true };
  const oracle = new LinearScanIndex(b);
  oracle.add(
    new Uint32Array(p).map((_, i) => i),
    part.db,
  );
  for (let i = 0; i < 1000; i++) {
    oracle.search(queries.subarray((i * b) / 8, ((i + 1) * b) / 8), 10).forEach((h, j) => (part.gtDist[i * 10 + j] = h.distance));
  }
  return part;
}

/**
 * A driver that #includes scan.c unchanged (its main renamed) and runs scan.c's own
 * `scalar` function on request: one line "FROM COUNT" on stdin times queries
 * FROM..FROM+COUNT-1 and answers "SECONDS MISMATCHES" (top-10 distances checked against
 * gt_*.dist, as scan.c does). Staying alive lets the bench interleave C and its own
 * engines every few queries, so load from other processes hits both alike.
 */
const C_DRIVER = `#define main scan_c_main
#include SCAN_C
#undef main
int main(int argc, char **argv) {
    if (argc < 4) return 2;
    const char *dir = argv[1]; int bits = atoi(argv[2]); long n = atol(argv[3]);
    const int W = bits / 64;
    char name[4096], path[8300];
    snprintf(name, sizeof name, "%s", dir);
    const char *base = basename(name);
    snprintf(path, sizeof path, "%s/db_%d_%ld.u8", dir, bits, n);
    const uint64_t *db = load(path, (size_t)n * W * 8);
    snprintf(path, sizeof path, "%s/q_%d_1000.u8", dir, bits);
    const uint64_t *qs = load(path, (size_t)1000 * W * 8);
    snprintf(path, sizeof path, "%s/gt_%s.dist", dir, base);
    const int32_t *gtd = load(path, (size_t)1000 * K * 4);
    one_fn f = W == 1 ? scalar_1 : W == 2 ? scalar_2 : scalar_4;
    int td[K]; int32_t ti[K];
    char line[128]; long from, count;
    printf("ready\\n"); fflush(stdout);
    while (fgets(line, sizeof line, stdin) && sscanf(line, "%ld %ld", &from, &count) == 2) {
        long bad = 0;
        double t0 = now();
        for (long i = from; i < from + count; i++) {
            f(db, (size_t)n, qs + i * W, td, ti);
            for (int j = 0; j < K; j++) bad += td[j] != gtd[i * K + j];
        }
        printf("%.9f %ld\\n", now() - t0, bad); fflush(stdout);
    }
    return 0;
}
`;

/**
 * `model_<bits>_<n>`: the shared files' clustered model generated here (n/50 centres,
 * every bit flipped with p = 20/256; queries are 1000 distinct data codes flipped again),
 * for sizes the shared generator does not offer. Truth from our exact scan; no C run.
 */
function modelSet(spec: string): SharedSet & { prefix: boolean } {
  const m = /^model_(\d+)_(\d+)$/.exec(spec);
  if (!m) throw new Error(`${spec} is not model_<bits>_<n>`);
  const b = Number(m[1]);
  const n = Number(m[2]);
  const by = b / 8;
  const db = bernoulliClustered(n, b, 20 / 256, seed);
  const next = rng(seed + 1);
  const limit = Math.floor((20 / 256) * 4294967296);
  const queries = new Uint8Array(1000 * by);
  const used = new Set<number>();
  for (let i = 0; i < 1000;) {
    const src = next() % n;
    if (used.has(src)) continue;
    used.add(src);
    queries.set(db.subarray(src * by, (src + 1) * by), i * by);
    for (let bit = 0; bit < b; bit++) if (next() < limit) queries[i * by + (bit >> 3)] ^= 1 << (bit & 7);
    i++;
  }
  const set = { name: spec, bits: b, n, db, queries, gtDist: new Int32Array(1000 * 10), prefix: true };
  const oracle = new LinearScanIndex(b);
  oracle.add(
    new Uint32Array(n).map((_, i) => i),
    db,
  );
  for (let i = 0; i < 1000; i++) {
    oracle.search(queries.subarray(i * by, (i + 1) * by), 10).forEach((h, j) => (set.gtDist[i * 10 + j] = h.distance));
  }
  return set;
}

/** Compiles the driver around scan.c (gcc -O3 -march=native, as scan.c's README says);
 *  undefined without gcc or scan.c. */
function compileC(): string | undefined {
  if (opt['no-c']) return undefined;
  const src = path.resolve(opt['scan-c'] ?? path.join(process.cwd(), '../shared/perf/scan.c'));
  if (!existsSync(src)) {
    console.log(`no C yardstick: ${src} not found (--scan-c FILE)`);
    return undefined;
  }
  if (spawnSync('gcc', ['--version']).status !== 0) {
    console.log('no C yardstick: gcc not found');
    return undefined;
  }
  const driver = path.join(os.tmpdir(), `metapixel-scan-c-${process.pid}.c`);
  writeFileSync(driver, C_DRIVER);
  const exe = driver.slice(0, -2);
  const cc = spawnSync('gcc', ['-O3', '-march=native', `-DSCAN_C="${src}"`, '-o', exe, driver], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  return exe;
}

/** The running C driver for one data set. */
class CScan {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiting?: (line: string) => void;

  constructor(exe: string, dir: string, set: SharedSet) {
    this.child = spawn(exe, [path.join(dir, set.name), String(set.bits), String(set.n)]);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buf += chunk;
      this.drain();
    });
    this.child.stderr.pipe(process.stderr);
    this.child.on('exit', (code) => {
      if (this.waiting) throw new Error(`C driver exited with ${code}`);
    });
  }

  private drain(): void {
    const nl = this.buf.indexOf('\n');
    if (nl < 0 || !this.waiting) return;
    const line = this.buf.slice(0, nl);
    this.buf = this.buf.slice(nl + 1);
    const w = this.waiting;
    this.waiting = undefined;
    w(line);
  }

  private line(): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.drain();
    });
  }

  ready(): Promise<string> {
    return this.line();
  }

  /** Seconds for queries [from, from+count), throwing on a wrong top-10 distance. */
  async time(from: number, count: number): Promise<number> {
    const answer = this.line();
    this.child.stdin.write(`${from} ${count}\n`);
    const [sec, bad] = (await answer).split(' ').map(Number);
    if (bad !== 0) throw new Error(`C scan: ${bad} top-10 distances differ from the ground truth`);
    return sec;
  }

  close(): void {
    this.child.stdin.end();
  }
}

function popcount8(v: number): number {
  let c = 0;
  for (; v; v &= v - 1) c++;
  return c;
}

function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += popcount8(a[i] ^ b[i]);
  return d;
}

/** Tie-aware recall@k and whether the distance list equals the truth exactly. */
function sharedRecall(set: SharedSet, qi: number, got: HammingHit[]): { recall: number; exact: boolean } {
  const by = set.bits / 8;
  const q = set.queries.subarray(qi * by, (qi + 1) * by);
  const kth = set.gtDist[qi * 10 + k - 1];
  let ok = 0;
  let exact = got.length === k;
  got.forEach((h, j) => {
    const d = hamming(q, set.db.subarray(h.id * by, (h.id + 1) * by));
    if (d !== h.distance) exact = false;
    if (d <= kth) ok++;
    if (d !== set.gtDist[qi * 10 + j]) exact = false;
  });
  return { recall: ok / k, exact };
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds to answer queries [from, from+count) one at a time. */
function timeOurs(index: HammingIndex, set: SharedSet, from: number, count: number): number {
  const by = set.bits / 8;
  const t0 = process.hrtime.bigint();
  for (let i = from; i < from + count; i++) index.search(set.queries.subarray(i * by, (i + 1) * by), k);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Tie-aware recall over all 1000 queries (untimed), lists differing from the truth, and
 *  the work counters per query. */
function checkOurs(index: HammingIndex, set: SharedSet): { recall: number; mismatches: number; codes: number; buckets: number } {
  const by = set.bits / 8;
  index.resetStats();
  let recallSum = 0;
  let mismatches = 0;
  for (let i = 0; i < 1000; i++) {
    const got = index.search(set.queries.subarray(i * by, (i + 1) * by), k);
    const { recall: rc, exact } = sharedRecall(set, i, got);
    recallSum += rc;
    if (!exact) mismatches++;
  }
  const st = index.stats;
  return { recall: recallSum / 1000, mismatches, codes: st.codesScanned / st.searches, buckets: st.bucketsProbed / st.searches };
}

async function runShared(dir: string, names: string[], rounds: number): Promise<void> {
  if (k !== 10) throw new Error('The shared ground truth is top-10: use --k 10');
  const exe = compileC();
  const block = Number(opt.block ?? 10);
  console.log(
    `node ${process.version}, ${os.cpus()[0].model} x${os.cpus().length}, load ${loadAvg()}; ` +
      `${process.env.METAPIXEL_BENCH_PINNED ? `pinned to CPU ${process.env.METAPIXEL_BENCH_PINNED}` : 'not pinned'}; ${rounds} rounds, ` +
      `C ${exe ? 'scan.c scalar' : 'absent'}; engines alternate every ${block} queries`,
  );
  const methods = opt.methods.split(',');
  const summary: object[] = [];
  for (const name of names) {
    gc?.();
    const set = loadShared(dir, name);
    const nq = Number(opt['c-nq'] ?? (set.n >= 10_000_000 ? 100 : 500));
    const ids = new Uint32Array(set.n).map((_, i) => i);
    const built = new Map<string, { index: HammingIndex; buildS: number }>();
    for (const method of methods) {
      gc?.();
      const t0 = process.hrtime.bigint();
      const index =
        method === 'scan'
          ? new LinearScanIndex(set.bits)
          : new MultiIndexHashing(set.bits, {
              ...(opt.m ? { m: Number(opt.m) } : {}),
              ...(opt['scan-fallback'] ? { scanFallback: Number(opt['scan-fallback']) } : {}),
            });
      index.add(ids, set.db);
      built.set(method, { index, buildS: Number(process.hrtime.bigint() - t0) / 1e9 });
    }
    const checks = new Map(methods.map((m) => [m, checkOurs(built.get(m)!.index, set)]));
    const c = exe && !set.prefix ? new CScan(exe, dir, set) : undefined;
    if (c) await c.ready();
    const qps = new Map<string, number[]>([['c', []], ...methods.map((m): [string, number[]] => [m, []])]);
    const ratios = new Map<string, number[]>(methods.map((m) => [m, []]));
    for (let r = 0; r < rounds; r++) {
      const sec = new Map<string, number>([['c', 0], ...methods.map((m): [string, number] => [m, 0])]);
      for (let from = 0, b = 0; from < nq; from += block, b++) {
        const count = Math.min(block, nq - from);
        const order = b % 2 ? [...methods].reverse() : methods;
        if (c && b % 2 === 0) sec.set('c', sec.get('c')! + (await c.time(from, count)));
        for (const method of order) sec.set(method, sec.get(method)! + timeOurs(built.get(method)!.index, set, from, count));
        if (c && b % 2 === 1) sec.set('c', sec.get('c')! + (await c.time(from, count)));
      }
      const cq = c ? nq / sec.get('c')! : undefined;
      if (cq) qps.get('c')!.push(cq);
      for (const method of methods) {
        const q = nq / sec.get(method)!;
        qps.get(method)!.push(q);
        if (cq) ratios.get(method)!.push(q / cq);
      }
      console.log(
        `${name}${set.prefix && !name.startsWith('model_') ? ` (first ${set.n})` : ''} round ${r + 1}: ` +
          (cq ? `C scalar ${cq.toFixed(0)} q/s; ` : '') +
          methods
            .map((m) => `${m} ${(nq / sec.get(m)!).toFixed(0)} q/s` + (cq ? ` (${(nq / sec.get(m)! / cq).toFixed(2)}x)` : ''))
            .join('; ') +
          `; load ${loadAvg()}`,
      );
    }
    c?.close();
    const out: Record<string, unknown> = {
      bench: 'index-shared',
      set: name,
      bits: set.bits,
      n: set.n,
      k,
      threads: 1,
      rounds,
      timed_queries: nq,
      block,
      c_scalar_qps: c ? Math.round(med(qps.get('c')!)) : null,
    };
    for (const method of methods) {
      const ch = checks.get(method)!;
      out[`${method}_qps`] = Math.round(med(qps.get(method)!));
      out[`${method}_ratio`] = ratios.get(method)!.length ? Number(med(ratios.get(method)!).toFixed(3)) : null;
      out[`${method}_recall`] = ch.recall;
      out[`${method}_lists_not_gt`] = ch.mismatches;
      out[`${method}_build_s`] = Number(built.get(method)!.buildS.toFixed(2));
      out[`${method}_index_mb`] = Number((built.get(method)!.index.memoryBytes / MB).toFixed(1));
      out[`${method}_codes_per_query`] = Math.round(ch.codes);
    }
    const mih = built.get('mih')?.index as MultiIndexHashing | undefined;
    if (mih) {
      out.mih_m = mih.m;
      out.mih_substring_bits = mih.substrings.map((x) => x.len);
      out.mih_tables_mb = Number((mih.tableBytes / MB).toFixed(1));
      out.mih_buckets_per_query = Math.round(checks.get('mih')!.buckets);
    }
    out.rule_chooses = chooseHammingIndex(set.n, set.bits as CodeBits).kind;
    console.log(JSON.stringify(out));
    summary.push(out);
    built.clear();
  }
  if (exe) for (const f of [exe, `${exe}.c`]) rmSync(f, { force: true });
  console.log('summary (median of rounds; ratio = median of per-round ratios to the C scalar scan):');
  for (const o of summary) console.log(JSON.stringify(o));
}

/**
 * --perfdata runs are pinned to one CPU (`taskset`, inherited by the C driver), so the C
 * scan and ours alternate on the same core and caches. Unpinned, the two processes ran on
 * either vCPU of the 2-core VM and the per-round ratio swung 0.64-1.72x at 1 M x 64 bits
 * (C alone 1,800-2,950 q/s); pinned, 0.99-1.13x (2026-12-06, bench/README.md). --no-pin
 * runs as started; --cpu N picks the CPU (default: the last).
 */
function pinnedRerun(): number | undefined {
  if (opt['no-pin'] || process.env.METAPIXEL_BENCH_PINNED) return undefined;
  if (spawnSync('taskset', ['-V']).status !== 0) {
    console.log('not pinned: taskset not found (util-linux)');
    return undefined;
  }
  const cpu = opt.cpu ?? String(os.cpus().length - 1);
  const r = spawnSync('taskset', ['-c', cpu, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, METAPIXEL_BENCH_PINNED: cpu },
  });
  return r.status ?? 1;
}

if (opt.perfdata) {
  const status = pinnedRerun();
  if (status !== undefined) process.exitCode = status;
  else void runShared(opt.perfdata, opt.sets.split(','), Math.max(1, Number(opt.rounds ?? 3)));
} else if (Number(opt.rounds ?? 1) > 1 && !opt.generate) runRounds(Number(opt.rounds));
else main();
