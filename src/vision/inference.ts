/**
 * The inference port. Vision code talks to models only through `InferenceSession`, so
 * tests can inject fakes and the runtime (onnxruntime-node today, see onnx-session.ts) can
 * change without touching decoders or detectors.
 */
import { cancelled, resourceExhausted, unavailable } from '../core/errors';
import { currentCall } from '../core/context';
import type { RawDetection } from './box';
import type { InputSize } from './model-io';

/** A dense float32 tensor; `dims` multiply to `data.length`. */
export interface Tensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /**
   * Optional, for sessions that run elsewhere (worker-pool.ts): the same as `run` on the
   * model's input tensor made from `pixels` (8-bit RGB already resized to the model's
   * input; model-io.ts pixelsToTensor), so a quarter of the bytes travel.
   */
  runPixels?(pixels: Uint8Array, size?: InputSize, outputs?: readonly string[]): Promise<Record<string, Tensor>>;
  /** Optional, for detectors: runPixels and the model's output decoder (model-io.ts) in one
   *  step, so only the detections travel back. `size` is the input size of `pixels` (for
   *  a model with free dims; model-io.ts inputSize). */
  detectPixels?(pixels: Uint8Array, minScore: number, size: InputSize): Promise<RawDetection[]>;
  /** Releases native resources; `run` must not be called afterwards. */
  close(): Promise<void>;
}

export interface InferenceQueueOptions {
  /** Runs allowed at the same time on the wrapped session (default 1). */
  concurrency?: number;
  /** Runs allowed to wait; one more is refused with RESOURCE_EXHAUSTED (default 16). */
  maxQueue?: number;
  /** Told the duration of every finished run of the wrapped session (for metrics). */
  onRun?: (seconds: number) => void;
}

interface Waiter {
  start: () => void;
  fail: (e: Error) => void;
}

/**
 * Serialises and bounds the runs of one session. Each ORT session already uses its
 * intra-op threads; letting several requests run at once on 2 cores only makes each of
 * them slower (measured 2-3x, models/README.md), so by default one run at a time, and a
 * bounded wait list so overload becomes a fast RESOURCE_EXHAUSTED instead of latency.
 */
export class InferenceQueue implements InferenceSession {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private closed = false;
  private onIdle: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private readonly concurrency: number;
  private readonly maxQueue: number;
  readonly runPixels?: (pixels: Uint8Array, size?: InputSize, outputs?: readonly string[]) => Promise<Record<string, Tensor>>;
  readonly detectPixels?: (pixels: Uint8Array, minScore: number, size: InputSize) => Promise<RawDetection[]>;

  constructor(
    private readonly session: InferenceSession,
    private readonly label: string,
    private readonly opts: InferenceQueueOptions = {},
  ) {
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.maxQueue = Math.max(0, opts.maxQueue ?? 16);
    // Offered only when the wrapped session offers them, so callers can still tell.
    const runPixels = session.runPixels?.bind(session);
    const detectPixels = session.detectPixels?.bind(session);
    if (runPixels) this.runPixels = (pixels, size, outputs) => this.schedule(() => runPixels(pixels, size, outputs));
    if (detectPixels) this.detectPixels = (pixels, min, size) => this.schedule(() => detectPixels(pixels, min, size));
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs in flight plus runs waiting, for metrics and tests. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    return this.schedule(() => this.session.run(inputs));
  }

  private async schedule<T>(job: () => Promise<T>): Promise<T> {
    // The call this run is for (core/context.ts): once it is gone (client cancelled, deadline
    // passed, operation cancelled) a run still waiting here is dropped, not run.
    const signal = currentCall()?.signal;
    if (signal?.aborted) throw abortReason(signal);
    await this.acquire(signal);
    const started = performance.now();
    try {
      return await job();
    } finally {
      this.opts.onRun?.((performance.now() - started) / 1000);
      this.release();
    }
  }

  /** Fails waiting runs, lets running ones finish (releasing a native session under a
   *  running inference is undefined behaviour), then closes the wrapped session. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.fail(unavailable(`${this.label} model is shutting down`));
    if (this.running > 0)
      await new Promise<void>((resolve) => {
        this.onIdle = resolve;
      });
    await this.session.close();
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(unavailable(`${this.label} model is shut down`));
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(resourceExhausted(`${this.label} inference queue is full (${this.maxQueue} waiting); retry later`));
    }
    return new Promise<void>((resolve, reject) => {
      // `running` is handed over by release(), so it is not incremented here.
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', drop);
          resolve();
        },
        fail: (e) => {
          signal?.removeEventListener('abort', drop);
          reject(e);
        },
      };
      const drop = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', drop, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      next.start();
      return;
    }
    this.running--;
    if (this.running === 0 && this.onIdle) this.onIdle();
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : cancelled('The call was cancelled.');
}
