/**
 * onnxruntime-node implementation of the inference port. One ORT session per model,
 * created once at startup from the sha256-verified bytes (model-manifest.ts), warmed up
 * with one run so the first request does not pay for lazy kernel initialisation.
 */
import * as ort from 'onnxruntime-node';
import { failedPrecondition, internal } from '../core/errors';
import { InferenceSession, Tensor } from './inference';
import { ModelEntry, ModelManifest } from './model-manifest';

export interface OnnxSessionOptions {
  /** ORT intra-op threads. 1 is the safe default when several models share 2 cores
   *  (models/README.md, Speed); 2 is ~30% faster for a lone model on an idle machine. */
  intraOpNumThreads?: number;
  /** One zero-input run after creation (default true). */
  warmUp?: boolean;
}

export class OnnxSession implements InferenceSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly model: ModelEntry,
  ) {}

  /** Loads `name` from the manifest directory, checking sha256 and tensor names. */
  static async load(manifest: ModelManifest, name: string, opts: OnnxSessionOptions = {}): Promise<OnnxSession> {
    const { entry, bytes } = await manifest.readVerified(name);
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: opts.intraOpNumThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const self = new OnnxSession(session, entry);
    self.checkNames();
    if (opts.warmUp ?? true) {
      const shape = entry.input.shape;
      await self.run({ [entry.input.name]: { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), dims: shape } });
    }
    return self;
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(inputs)) feeds[k] = new ort.Tensor('float32', t.data, [...t.dims]);
    const result = await this.session.run(feeds);
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(result)) {
      if (t.type !== 'float32') throw internal(`${this.model.name} output ${k} is ${t.type}, expected float32`);
      out[k] = { data: t.data as Float32Array, dims: t.dims };
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /** The manifest is the contract decoders rely on; refuse a file that disagrees. */
  private checkNames(): void {
    const want = [this.model.input.name];
    const wantOut = this.model.outputs.map((o) => o.name).sort();
    const gotOut = [...this.session.outputNames].sort();
    if (JSON.stringify([...this.session.inputNames]) !== JSON.stringify(want) || JSON.stringify(gotOut) !== JSON.stringify(wantOut)) {
      throw failedPrecondition(
        `model ${this.model.name}: tensors ${this.session.inputNames.join(',')}/${gotOut.join(',')} do not match the manifest`,
      );
    }
  }
}
