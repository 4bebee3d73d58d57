/** Tests mirror src/ under test/. ts-jest compiles without type-checking (isolatedModules);
 *  `npm run lint:types` does the type-check once for the whole tree. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60000,
  maxWorkers: 2,
};
