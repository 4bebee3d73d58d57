/**
 * `metapixel bench <name> [args...]`: runs the package's npm benchmark script (package.json
 * `bench:*`, `eval:search`) in the package root, passing the remaining arguments on and
 * exiting with its status. The benchmarks are TypeScript under bench/ run with tsx, so they
 * need a checkout with its devDependencies installed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Argument, Command } from 'commander';

/** Bench name -> npm script, with what it measures (for --help). */
const BENCHES: Record<string, { script: string; about: string }> = {
  annotate: { script: 'bench:annotate', about: 'OBJECT_LOCALIZATION images/s and latency through REST, 1-8 clients' },
  index: { script: 'bench:index', about: 'exact Hamming k-NN throughput, latency and recall per index engine' },
  search: { script: 'bench:search', about: 'product search end to end: ingestion rate, query latency, index memory' },
  import: { script: 'bench:import', about: 'ImportProductSets throughput (reference images/s) on real photos' },
  eval: { script: 'eval:search', about: 'retrieval quality of the binary codes against float cosine, held-out photos' },
};

/** src/cli/commands and dist/cli/commands both sit three levels under the package root. */
const ROOT = path.resolve(__dirname, '..', '..', '..');

export function benchCommand(): Command {
  return new Command('bench')
    .description('Run one of the benchmarks (from a checkout with devDependencies installed).')
    .addArgument(new Argument('<name>', 'which benchmark').choices(Object.keys(BENCHES)))
    .argument('[args...]', 'passed on to the benchmark (after --, so that e.g. --help reaches it)')
    .allowUnknownOption()
    .addHelpText(
      'after',
      `
Benchmarks:
${Object.entries(BENCHES)
  .map(([name, b]) => `  ${name.padEnd(9)} npm run ${b.script.padEnd(15)} ${b.about}`)
  .join('\n')}
Each benchmark's own options are in its file's header and bench/README.md. The exit status is the
benchmark's; results go to stdout as the benchmark prints them.

Examples:
  metapixel bench annotate -- --levels 1,8 --requests 80
  METAPIXEL_DETECT_MIRROR=never metapixel bench annotate
  metapixel bench eval`,
    )
    .action(async (name: string, args: string[]) => {
      process.exitCode = await runBench(name, args);
    });
}

async function runBench(name: string, args: string[]): Promise<number> {
  const { script } = BENCHES[name];
  const problem = missingPiece(script);
  if (problem) {
    process.stderr.write(`metapixel bench: ${problem}\n`);
    return 1;
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = spawn(npm, ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], { cwd: ROOT, stdio: 'inherit' });
  // Ctrl-C reaches the whole foreground process group; we only wait for the child's exit.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', (e: NodeJS.ErrnoException) => {
        process.stderr.write(`metapixel bench: cannot run npm (${e.code ?? e.message}): it ships with Node; is it on PATH?\n`);
        resolve(1);
      });
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)));
    });
  } finally {
    process.off('SIGINT', ignore);
  }
}

/** Why the benchmark cannot run from this install, or undefined. */
function missingPiece(script: string): string | undefined {
  if (!existsSync(path.join(ROOT, 'bench'))) {
    return `no bench/ folder in ${ROOT}: the benchmarks come with a source checkout (git clone, then npm ci), not with an installed package.`;
  }
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (!pkg.scripts?.[script]) return `package.json in ${ROOT} has no "${script}" script; this version does not have that benchmark.`;
  if (!existsSync(path.join(ROOT, 'node_modules', 'tsx', 'package.json'))) {
    return `tsx is not installed in ${ROOT}: the benchmarks run TypeScript with tsx, a devDependency. Run \`npm ci\` (with dev dependencies) in the checkout.`;
  }
  return undefined;
}
