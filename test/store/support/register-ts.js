/**
 * `node -r` hook that lets a plain child process load the TypeScript sources (the tests'
 * ts-jest transform only exists inside jest workers). Transpile-only, like ts-jest with
 * isolatedModules; `npm run lint:types` does the type-check.
 */
const fs = require('node:fs');
const ts = require('typescript');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
};

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
