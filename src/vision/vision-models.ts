/**
 * Builds the vision stack from a models directory: verified ONNX sessions, one
 * InferenceQueue per model, the merged ObjectDetector and the Embedder. Not a singleton:
 * the composition root (src/app/) calls this once and owns the result, and must call
 * close() on shutdown.
 */
import { failedPrecondition } from '../core/errors';
import { IDENTITY_CALIBRATION } from './calibration';
import { Embedder } from './embedder';
import { InferenceQueue, InferenceSession } from './inference';
import { ManifestDetector } from './model-detectors';
import { ModelManifest } from './model-manifest';
import { CalibratedModel, ObjectDetector, ObjectDetectorOptions } from './object-detector';
import { OnnxSession } from './onnx-session';
import { InferenceWorkerPool } from './worker-pool';

export interface VisionModelsOptions {
  /** ORT intra-op threads per session (default 1: the models may run side by side). */
  intraOpNumThreads?: number;
  /** Runs allowed to wait per model before RESOURCE_EXHAUSTED (default 16). */
  maxQueue?: number;
  /** Runs of one model at once (default 2: one per core of the target machine). */
  concurrency?: number;
  /** Told each model run's duration (metrics). */
  onRun?: (model: string, seconds: number) => void;
  /**
   * Inference worker threads, each with every model (default 2, one per core). 0 runs the
   * models on the calling thread, which blocks it for every run (onnxruntime-node's run
   * is synchronous) and so uses one core at most.
   */
  workers?: number;
  warmUp?: boolean;
  detector?: ObjectDetectorOptions;
}

export interface VisionModels {
  objectDetector: ObjectDetector;
  embedder: Embedder;
  /** Runs in flight and waiting, per model (metrics). */
  load(): { model: string; running: number; waiting: number }[];
  close(): Promise<void>;
}

export async function loadVisionModels(modelsDir: string, opts: VisionModelsOptions = {}): Promise<VisionModels> {
  const manifest = await ModelManifest.load(modelsDir);
  const sessionOpts = { intraOpNumThreads: opts.intraOpNumThreads ?? 1, warmUp: opts.warmUp ?? true };
  const workers = opts.workers ?? 2;
  const pool =
    workers > 0
      ? await InferenceWorkerPool.start({
          modelsDir,
          models: manifest.models.map((m) => m.name),
          intraOpNumThreads: sessionOpts.intraOpNumThreads,
          workers,
          io: new Map(manifest.models.map((m) => [m.name, { inputNames: [m.input.name], outputNames: m.outputs.map((o) => o.name) }])),
        })
      : undefined;
  const queues: { name: string; queue: InferenceQueue }[] = [];
  const queued = async (name: string): Promise<InferenceSession> => {
    const session = pool ? pool.session(name) : await OnnxSession.load(manifest, name, sessionOpts);
    const q = new InferenceQueue(session, name, {
      maxQueue: opts.maxQueue,
      concurrency: opts.concurrency ?? Math.max(1, workers),
      onRun: opts.onRun && ((s) => opts.onRun!(name, s)),
    });
    queues.push({ name, queue: q });
    return q;
  };
  try {
    // Sequential on purpose: creating sessions in parallel gains nothing on 2 cores and
    // makes a failure leave half-built sessions behind.
    const detectors: CalibratedModel[] = [];
    let embedder: Embedder | undefined;
    for (const entry of manifest.models) {
      const decoder = entry.runtime.decoder;
      if (decoder === 'embedding') {
        if (embedder) throw failedPrecondition(`models manifest: more than one embedder (${entry.name})`);
        embedder = new Embedder(await queued(entry.name), entry);
        continue;
      }
      // The manifest's decoder (ssd, centernet) says how its outputs are read (model-io.ts).
      const model = new ManifestDetector(await queued(entry.name), entry);
      detectors.push({ model, calibration: entry.runtime.calibration ?? IDENTITY_CALIBRATION });
    }
    if (!embedder || detectors.length === 0) throw failedPrecondition('models manifest: needs at least one detector and one embedder');
    const objectDetector = new ObjectDetector(detectors, opts.detector);
    return {
      objectDetector,
      embedder,
      load: () => queues.map(({ name, queue }) => ({ model: name, ...queue.load })),
      close: async () => {
        for (const { queue } of [...queues].reverse()) await queue.close();
        await pool?.close();
      },
    };
  } catch (e) {
    for (const { queue } of queues) await queue.close();
    await pool?.close();
    throw e;
  }
}
