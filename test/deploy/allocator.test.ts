/**
 * glibc's malloc thresholds: `npm start` and the image both run the server with the mmap
 * threshold fixed at 4 MiB and the trim threshold at 64 MiB (left to glibc, the mmap
 * threshold grows and an index build's freed blocks stay resident: docs/deployment.md),
 * and a value the operator sets wins. The start script is run as npm runs it, with
 * `node -p` in place of the server, to read the environment the server would get.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const DEFAULTS = { MALLOC_MMAP_THRESHOLD_: '4194304', MALLOC_TRIM_THRESHOLD_: '67108864' };
type Thresholds = typeof DEFAULTS;

/** The environment the server would get from `npm start`, and whether it would be the
 *  shell's own process (exec: so it is the one a SIGTERM reaches). */
function startEnv(extra: Record<string, string>): Thresholds & { exec: boolean } {
  const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(scripts.start).toContain('node dist/app/main.js');
  const read = `"${process.execPath}" -p "JSON.stringify({MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_, pid: process.pid})"`;
  const script = scripts.start.replace('node dist/app/main.js', read);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...extra };
  const run = spawnSync('/bin/sh', ['-c', script], { cwd: ROOT, env, encoding: 'utf8' });
  expect(run.status).toBe(0);
  const { pid, ...thresholds } = JSON.parse(run.stdout) as Thresholds & { pid: number };
  return { ...thresholds, exec: pid === run.pid };
}

describe('the allocator settings the server runs with', () => {
  it('npm start fixes both thresholds unless the operator sets one; an empty value (0 to glibc) takes the default; node is the process started', () => {
    const started = { ...DEFAULTS, exec: true };
    expect(startEnv({})).toEqual(started);
    expect(startEnv({ MALLOC_MMAP_THRESHOLD_: '131072' })).toEqual({ ...started, MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(startEnv({ MALLOC_MMAP_THRESHOLD_: '', MALLOC_TRIM_THRESHOLD_: '' })).toEqual(started);
    // A value is passed whole (quoted), whatever it holds.
    expect(startEnv({ MALLOC_TRIM_THRESHOLD_: '1 2' })).toEqual({ ...started, MALLOC_TRIM_THRESHOLD_: '1 2' });
  });

  it('the image sets the same in its runtime stage', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'));
    for (const [name, value] of Object.entries(DEFAULTS)) expect(runtime).toMatch(new RegExp(`^\\s+${name}=${value}( \\\\)?$`, 'm'));
  });
});
