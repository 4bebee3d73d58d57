/** Tests mirror src/ under test/. ts-jest compiles without type-checking (isolatedModules);
 *  `npm run lint:types` does the type-check once for the whole tree. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // onnxruntime-node hands back Float32Arrays of Node's main realm; jest's per-file vm
  // realm would reject them (see test/support/onnx-env.ts). Every test file may start a
  // server that runs the models, so the fix applies to all.
  setupFiles: ['<rootDir>/test/support/onnx-env.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
