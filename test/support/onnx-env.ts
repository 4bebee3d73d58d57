/**
 * Loaded for every test file by jest.config.js `setupFiles` (importing it again is harmless).
 *
 * jest runs each test file in its own vm realm, but onnxruntime-node's native addon
 * returns Float32Arrays of Node's main realm, which fail onnxruntime-common's
 * `instanceof Float32Array` ("A float32 tensor's data must be type of function
 * Float32Array()"). This accepts a Float32Array from any realm. It changes only the realm
 * of the importing test file (modules a test imports share its realm); production code
 * runs in one realm and needs nothing.
 */
Object.defineProperty(Float32Array, Symbol.hasInstance, {
  configurable: true,
  value: (x: unknown): boolean => ArrayBuffer.isView(x) && Object.prototype.toString.call(x) === '[object Float32Array]',
});

export {};
