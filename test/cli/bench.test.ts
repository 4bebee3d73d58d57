/**
 * `metapixel bench`: its help lists the benchmarks and their npm scripts, an unknown name
 * is a usage error naming the choices, and arguments reach the benchmark (bench/index.ts
 * refuses an option it does not know, and its status comes back). No benchmark is run.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function metapixel(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      { cwd: ROOT, timeout: 60000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('--help lists every benchmark with its script; an unknown name names the choices; arguments and status pass through', async () => {
  const [help, unknown, forwarded] = await Promise.all([
    metapixel(['bench', '--help']),
    metapixel(['bench', 'speed']),
    metapixel(['bench', 'index', '--', '--no-such-option']),
  ]);
  expect(help.code).toBe(0);
  for (const [name, script] of [
    ['annotate', 'bench:annotate'],
    ['index', 'bench:index'],
    ['search', 'bench:search'],
    ['import', 'bench:import'],
    ['eval', 'eval:search'],
  ]) {
    expect(help.stdout).toMatch(new RegExp(`^  ${name} +npm run ${script} `, 'm'));
  }
  expect(help.stdout).toMatch(/Examples:\n {2}metapixel bench annotate -- --levels 1,8/);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/'speed' is invalid for argument 'name'\. Allowed choices are annotate, index, search, import, eval\./);
  expect(forwarded.stderr).toMatch(/Unknown option '--no-such-option'/);
  expect(forwarded.code).toBe(1);
}, 90000);
