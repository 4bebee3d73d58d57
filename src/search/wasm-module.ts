/**
 * Instances of the project's WebAssembly kernels (hamming/hamming-kernel.wat,
 * projection-kernel.wat), assembled into base64 constants by tools/wasm/build-wasm.ts. Each
 * instance has its own linear memory, so two users of a kernel never alias each other's data.
 */
export const PAGE = 65536;

// The project's lib settings (ES2022, no DOM) carry no WebAssembly typings; these are the
// few members used here.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const compiled = new Map<string, object>();

/** A fresh instance of the module in `base64`. Synchronous compile is allowed in Node for
 *  any size, and the kernels are a few KB. */
export function wasmInstance(base64: string): { memory: WasmMemory; exports: Record<string, unknown> } {
  let module = compiled.get(base64);
  if (!module) compiled.set(base64, (module = new wasmApi.Module(Buffer.from(base64, 'base64'))));
  const inst = new wasmApi.Instance(module, {});
  return { memory: inst.exports.memory as WasmMemory, exports: inst.exports };
}

/** Grows `memory` to at least `bytes`. */
export function ensureMemory(memory: WasmMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / PAGE));
}
