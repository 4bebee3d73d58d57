/**
 * glibc's malloc thresholds: `npm start` and the image both run the server with the mmap
 * threshold fixed at 4 MiB and the trim threshold at 64 MiB (left to glibc, the mmap
 * threshold grows and an index build's freed blocks stay resident: docs/deployment.md),
 * and a value the operator sets wins. The start script is run as npm runs it, with
 * `node -p` in place of the server, to read the environment the server would get.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const DEFAULTS = { MALLOC_MMAP_THRESHOLD_: '4194304', MALLOC_TRIM_THRESHOLD_: '67108864' };
type Thresholds = typeof DEFAULTS;

function startEnv(extra: Record<string, string>): Thresholds {
  const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(scripts.start).toContain('node dist/app/main.js');
  const read = `"${process.execPath}" -p "JSON.stringify({MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_})"`;
  const script = scripts.start.replace('node dist/app/main.js', read);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...extra };
  return JSON.parse(execFileSync('/bin/sh', ['-c', script], { cwd: ROOT, env, encoding: 'utf8' })) as Thresholds;
}

describe('the allocator settings the server runs with', () => {
  it('npm start fixes both thresholds unless the operator sets one; an empty value (0 to glibc) takes the default', () => {
    expect(startEnv({})).toEqual(DEFAULTS);
    expect(startEnv({ MALLOC_MMAP_THRESHOLD_: '131072' })).toEqual({ ...DEFAULTS, MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(startEnv({ MALLOC_TRIM_THRESHOLD_: '' })).toEqual(DEFAULTS);
  });

  it('the image sets the same in its runtime stage', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'));
    for (const [name, value] of Object.entries(DEFAULTS)) expect(runtime).toMatch(new RegExp(`^\\s+${name}=${value}( \\\\)?$`, 'm'));
  });
});
