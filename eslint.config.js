// typescript-eslint's type-checked recommendations over the TypeScript of src, test, bench
// and tools (npm run lint:eslint). Rules turned off below say why.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/**', 'models/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'tools/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // async marks promise-returning port methods so that a synchronous throw still rejects.
      '@typescript-eslint/require-await': 'off',
      // Names, object paths and CLI output are checked for control characters on purpose.
      'no-control-regex': 'off',
      // A `let` assigned after closures that read it (wiring in the composition root) stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // A leading underscore names a parameter or binding that must exist but is not read.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read JSON bodies and Google clients' untyped answers and check them with expect().
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
