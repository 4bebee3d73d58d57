/**
 * Worker-thread entry of the inference pool. onnxruntime-node runs a session synchronously
 * on the calling thread, so on the main thread every model run would block HTTP and gRPC
 * and the models could never use both cores at once; each worker holds its own sessions of
 * every model and runs one request at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelManifest } from './model-manifest';
import { OnnxSession } from './onnx-session';
import type { Tensor } from './inference';

export interface WorkerInit {
  modelsDir: string;
  models: string[];
  intraOpNumThreads: number;
}

export type WorkerRequest = { id: number; model: string; inputs: Record<string, Tensor> };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { id: number; outputs: Record<string, Tensor> }
  | { id: number; error: { code: number; message: string } };

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  const sessions = new Map<string, OnnxSession>();
  try {
    const manifest = await ModelManifest.load(init.modelsDir);
    for (const name of init.models) sessions.set(name, await OnnxSession.load(manifest, name, { intraOpNumThreads: init.intraOpNumThreads }));
  } catch (e) {
    port.postMessage({ type: 'failed', message: (e as Error).message } satisfies WorkerReply);
    return;
  }
  port.on('message', (req: WorkerRequest | 'close') => {
    if (req === 'close') {
      void Promise.all([...sessions.values()].map((s) => s.close())).then(() => port.close());
      return;
    }
    const session = sessions.get(req.model);
    const reply = (r: WorkerReply) => port.postMessage(r);
    if (!session) return reply({ id: req.id, error: { code: 13, message: `model ${req.model} is not loaded` } });
    session.run(req.inputs).then(
      (outputs) => reply({ id: req.id, outputs }),
      (e: Error & { code?: number }) => reply({ id: req.id, error: { code: e.code ?? 13, message: e.message } }),
    );
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

void main();
