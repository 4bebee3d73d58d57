/**
 * A pool of inference worker threads (inference-worker.ts), each holding every model.
 * `session(model)` is an InferenceSession that sends each run to the worker with the
 * fewest runs in flight, so two cores run two models (or two images) at once while the
 * main thread keeps serving requests. Runs carry 8-bit pixels and, for detectors, come
 * back as detections (inference-worker.ts).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MetapixelError, unavailable } from '../core/errors';
import type { RawDetection } from './box';
import type { InferenceSession, Tensor } from './inference';
import type { WorkerInit, WorkerReply, WorkerRequest } from './inference-worker';
import type { InputSize } from './model-io';

type Answer = Record<string, Tensor> | RawDetection[];

interface Pending {
  resolve: (out: Answer) => void;
  reject: (e: Error) => void;
  cost: number;
}

type Job = { inputs: Record<string, Tensor> } | { pixels: Uint8Array; size?: InputSize; minScore?: number; outputs?: readonly string[] };

class PoolWorker {
  /** Input values of the runs in flight: a proxy for the work queued on this worker, so a
   *  512×512 CenterNet run weighs about three 300×300 SSD runs. */
  inFlight = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(readonly worker: Worker) {
    worker.on('message', (msg: WorkerReply) => {
      if (!('id' in msg)) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      this.inFlight -= p.cost;
      if ('error' in msg) p.reject(MetapixelError.of(msg.error.code, msg.error.message));
      else p.resolve('detections' in msg ? msg.detections : msg.outputs);
    });
    // An uncaught exception in the worker ends it ('error', then 'exit'): from 'error' on it
    // takes no new runs, and its runs are UNAVAILABLE, so a client may retry.
    worker.on('error', (e) => {
      this.alive = false;
      this.failAll(unavailable(`inference worker failed: ${e.message}`));
    });
    worker.on('exit', () => {
      this.alive = false;
      this.failAll(unavailable('inference worker exited'));
      this.onExit?.();
    });
  }

  /** False once the thread has exited (crashed, out of memory, terminated). */
  alive = true;
  onExit?: () => void;

  static start(init: WorkerInit): Promise<PoolWorker> {
    // Run from TypeScript sources (the tests), the worker is TypeScript too: it is loaded
    // through tsx's CommonJS hook, since workers ignore the parent's --import loaders.
    const ts = __filename.endsWith('.ts');
    const file = path.join(__dirname, `inference-worker.${ts ? 'ts' : 'js'}`);
    const worker = ts
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: init, execArgv: [] })
      : new Worker(file, { workerData: init });
    return new Promise((resolve, reject) => {
      const onMessage = (msg: WorkerReply) => {
        if ('type' in msg && msg.type === 'ready') resolve(new PoolWorker(worker));
        else if ('type' in msg && msg.type === 'failed') reject(new Error(`inference worker failed to start: ${msg.message}`));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  run(model: string, job: Job): Promise<Answer> {
    const id = this.nextId++;
    const cost = 'pixels' in job ? job.pixels.length : Object.values(job.inputs).reduce((n, t) => n + t.data.length, 0);
    this.inFlight += cost;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, cost });
      this.worker.postMessage({ id, model, ...job } satisfies WorkerRequest);
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.inFlight = 0;
  }
}

export class InferenceWorkerPool {
  private closing = false;

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly io: Map<string, { inputNames: string[]; outputNames: string[] }>,
    private readonly init: WorkerInit,
  ) {
    for (const w of workers) this.watch(w);
  }

  /**
   * A worker that dies (a native crash, out of memory) fails its runs with UNAVAILABLE
   * and is replaced, so later calls neither hang on it nor lose a core for good.
   */
  private watch(w: PoolWorker): void {
    w.onExit = () => {
      if (this.closing) return;
      PoolWorker.start(this.init).then(
        (fresh) => {
          if (this.closing) return void fresh.worker.terminate();
          this.workers[this.workers.indexOf(w)] = fresh;
          this.watch(fresh);
        },
        () => undefined, // the pool runs on with the workers it has left
      );
    };
  }

  static async start(
    init: WorkerInit & { workers: number; io: Map<string, { inputNames: string[]; outputNames: string[] }> },
  ): Promise<InferenceWorkerPool> {
    const { workers, io, ...workerInit } = init;
    const started = await Promise.allSettled(Array.from({ length: workers }, () => PoolWorker.start(workerInit)));
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((w) => w.worker.terminate()));
      throw failed.reason;
    }
    return new InferenceWorkerPool(ok, io, workerInit);
  }

  session(model: string): InferenceSession {
    const names = this.io.get(model) ?? { inputNames: [], outputNames: [] };
    return {
      inputNames: names.inputNames,
      outputNames: names.outputNames,
      run: (inputs) => this.leastBusy().run(model, { inputs }) as Promise<Record<string, Tensor>>,
      runPixels: (pixels, size, outputs) => this.leastBusy().run(model, { pixels, size, outputs }) as Promise<Record<string, Tensor>>,
      detectPixels: (pixels, minScore, size) => this.leastBusy().run(model, { pixels, size, minScore }) as Promise<RawDetection[]>,
      close: async () => undefined, // the pool owns the workers
    };
  }

  private leastBusy(): PoolWorker {
    const alive = this.workers.filter((w) => w.alive);
    if (alive.length === 0) throw unavailable('No inference worker is running (they are being restarted); retry shortly.');
    return alive.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
