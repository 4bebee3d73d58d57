/**
 * The inference worker pool when a worker thread dies (a native crash, out of memory):
 * its runs fail with UNAVAILABLE instead of hanging, later runs go to the living worker,
 * and the dead one is replaced.
 */
import { Code, isMetapixelError } from '../../src/core/errors';
import { InferenceWorkerPool } from '../../src/vision/worker-pool';
import { MODELS_DIR } from './parity-records';

const EMBEDDER = 'mobilenetv2_140_embedding';
const pixels = () => new Uint8Array(224 * 224 * 3).fill(128);

let pool: InferenceWorkerPool;

beforeAll(async () => {
  pool = await InferenceWorkerPool.start({
    modelsDir: MODELS_DIR,
    models: [EMBEDDER],
    intraOpNumThreads: 1,
    workers: 2,
    io: new Map([[EMBEDDER, { inputNames: [], outputNames: [] }]]),
  });
}, 60000);
afterAll(() => pool?.close());

const threads = () => (pool as unknown as { workers: { alive: boolean; worker: { postMessage(m: unknown): void } }[] }).workers;

test('a dead worker fails its runs with UNAVAILABLE, the other serves, and it is replaced', async () => {
  const session = pool.session(EMBEDDER);
  const first = threads()[0];
  // The worker dies of an uncaught exception (a message it cannot read) before it reaches
  // the run queued behind it. Killing it while onnxruntime runs instead aborts the whole
  // process: the finished native run calls back into a torn-down thread (Napi::Error,
  // std::terminate). That is why shutdown waits for the runs in flight (InferenceQueue).
  first.worker.postMessage(null);
  // Both idle: the first run goes to the first worker, the second to the other.
  const inFlight = threads().map(() =>
    session.runPixels!(pixels()).then(
      () => 'ok',
      (e: unknown) => e,
    ),
  );
  const outcomes = await Promise.all(inFlight);
  expect(outcomes[1]).toBe('ok');
  expect(isMetapixelError(outcomes[0]) && (outcomes[0] as { code: number }).code).toBe(Code.UNAVAILABLE);

  // Served meanwhile by the living worker, then by both once the replacement is up.
  await expect(session.runPixels!(pixels())).resolves.toBeDefined();
  const deadline = Date.now() + 30000;
  while (!(threads().every((w) => w.alive) && threads()[0] !== first)) {
    if (Date.now() > deadline) throw new Error('the dead worker was not replaced');
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = await Promise.all(threads().map(() => session.runPixels!(pixels())));
  expect(after).toHaveLength(2);
}, 60000);
