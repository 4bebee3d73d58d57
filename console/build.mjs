// Bundles the web console (console/src, plain TypeScript + DOM) into dist/console with
// esbuild: one script, one stylesheet, the page. Run by `npm run build`; an argument
// names another output directory (the bundle test builds into a temp dir).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(here, '..', 'dist', 'console'));
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(here, 'src', 'main.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  outfile: path.join(out, 'console.js'),
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(path.join(here, 'index.html'), path.join(out, 'index.html'));
copyFileSync(path.join(here, 'console.css'), path.join(out, 'console.css'));
