/**
 * Worker-thread entry of the inference pool. onnxruntime-node runs a session synchronously
 * on the calling thread, so on the main thread every model run would block HTTP and gRPC
 * and the models could never use both cores at once; each worker holds its own sessions of
 * every model and runs one request at a time. Requests with `pixels` are scaled into the
 * input tensor here and, for detectors, decoded here (model-io.ts): 8-bit pixels in,
 * detections out, instead of float tensors both ways (CenterNet's outputs are 5 MB).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RawDetection } from './box';
import type { Tensor } from './inference';
import { InputSize, InputSpec, inputSpec, OutputDecoder, outputDecoder, pixelsToTensor } from './model-io';
import { ModelManifest } from './model-manifest';
import { OnnxSession } from './onnx-session';

export interface WorkerInit {
  modelsDir: string;
  models: string[];
  intraOpNumThreads: number;
}

export type WorkerRequest =
  | { id: number; model: string; inputs: Record<string, Tensor> }
  /** With minScore: decode and answer detections (detectors only); without: outputs.
   *  `size`: the input size of `pixels` when not the manifest's (model-io.ts inputSize). */
  | { id: number; model: string; pixels: Uint8Array; size?: InputSize; minScore?: number; outputs?: readonly string[] };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { id: number; outputs: Record<string, Tensor> }
  | { id: number; detections: RawDetection[] }
  | { id: number; error: { code: number; message: string } };

interface LoadedModel {
  session: OnnxSession;
  input: InputSpec;
  decode?: OutputDecoder;
}

async function handle(m: LoadedModel, req: WorkerRequest): Promise<WorkerReply> {
  if ('inputs' in req) return { id: req.id, outputs: await m.session.run(req.inputs) };
  const size = req.size ?? m.input;
  const outputs = await m.session.run({ [m.input.name]: pixelsToTensor(req.pixels, m.input, size) });
  // Only the outputs asked for travel back (the embedder's 224 run has a 351 KB map too).
  if (req.minScore === undefined)
    return { id: req.id, outputs: req.outputs ? Object.fromEntries(req.outputs.map((n) => [n, outputs[n]])) : outputs };
  if (!m.decode) throw new Error(`model ${req.model} is not a detector`);
  return { id: req.id, detections: m.decode(outputs, req.minScore, size) };
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  const models = new Map<string, LoadedModel>();
  try {
    const manifest = await ModelManifest.load(init.modelsDir);
    for (const name of init.models) {
      const entry = manifest.entry(name);
      const session = await OnnxSession.load(manifest, name, { intraOpNumThreads: init.intraOpNumThreads });
      models.set(name, { session, input: inputSpec(entry), decode: outputDecoder(entry) });
    }
  } catch (e) {
    port.postMessage({ type: 'failed', message: (e as Error).message } satisfies WorkerReply);
    return;
  }
  // No 'close' message: the pool terminates its workers, which frees their sessions.
  port.on('message', (req: WorkerRequest) => {
    const m = models.get(req.model);
    const reply = (r: WorkerReply) => port.postMessage(r);
    if (!m) return reply({ id: req.id, error: { code: 13, message: `model ${req.model} is not loaded` } });
    handle(m, req).then(reply, (e: Error & { code?: number }) => reply({ id: req.id, error: { code: e.code ?? 13, message: e.message } }));
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

void main();
