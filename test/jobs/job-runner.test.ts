/**
 * The job machinery: operations persisted in the store are neither lost nor duplicated
 * across a kill -9; cancel ends a running operation with CANCELLED; an unknown kind fails
 * cleanly.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openStore } from '../../src/store/open-store';
import type { OperationStore } from '../../src/store/operation-store';
import type { Stores } from '../../src/store/stores';
import { OperationsService, opName } from '../../src/jobs/operations-service';
import { JobRunner } from '../../src/jobs/job-runner';
import type { CallContext } from '../../src/core/context';

const ctx: CallContext = { principal: { id: 't', assertProject: () => undefined }, requestId: 'r' };
const silent = pino({ level: 'silent' });
let dir: string;
let stores: Stores;
let store: OperationStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-jobs-'));
  stores = await openStore({ dataDir: dir });
  store = stores.operations;
});
afterEach(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (cond: () => boolean | Promise<boolean>, ms = 20000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

function worker(logFile: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support', 'step-worker.ts'), dir, logFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.on('exit', r));
  return { child, exited };
}

test('an operation survives kill -9 of its worker and resumes from its checkpoint, once', async () => {
  const ops = new OperationsService(store);
  const op = await ops.enqueue({ project: 'p', location: 'l', kind: 'steps', request: { steps: 12 }, metadata: {} });
  const log = path.join(dir, 'steps.log');
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

  const first = worker(log);
  await until(() => lines().length >= 4);
  first.child.kill('SIGKILL');
  await first.exited;
  const beforeRestart = lines().length;
  expect(beforeRestart).toBeLessThan(12);

  const second = worker(log);
  await until(async () => (await store.getOperation(opName(op)))?.done === true);
  second.child.kill('SIGTERM');
  await second.exited;

  const done = await store.getOperation(opName(op));
  expect(done).toMatchObject({ done: true, metadata: { done: 12, total: 12 } });
  expect(done?.error).toBeUndefined();
  const steps = lines().map((l) => Number(l.split(' ')[1]));
  // Every step ran; only the step in flight at the kill may have run twice.
  expect(new Set(steps)).toEqual(new Set(Array.from({ length: 12 }, (_, i) => i)));
  expect(steps.length - 12).toBeLessThanOrEqual(1);
  // Two processes did the work, and there is still exactly one operation.
  expect(new Set(lines().map((l) => l.split(' ')[2])).size).toBe(2);
  expect(await store.listOperations({ project: 'p', location: 'l' }, { limit: 10 })).toHaveLength(1);
}, 60000);

test('cancel stops a running operation with CANCELLED; unknown kinds fail cleanly', async () => {
  let started = false;
  const runner = new JobRunner(
    store,
    [
      {
        kind: 'forever',
        async run(_op, ctl) {
          started = true;
          await new Promise((_, reject) => ctl.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        },
      },
    ],
    { concurrency: 2, leaseMs: 600, pollMs: 50 },
    silent,
  );
  const ops = new OperationsService(store, { onQueued: () => runner.wake(), onCancelRequested: (n) => runner.cancelLocal(n) });
  runner.start();
  try {
    const op = await ops.enqueue({ project: 'p', location: 'l', kind: 'forever', request: {}, metadata: {} });
    const name = `projects/p/locations/l/operations/${op.id}`;
    await until(() => started);
    await ops.cancelOperation({ name }, ctx);
    await until(async () => (await store.getOperation(opName(op)))?.done === true);
    expect(await ops.getOperation({ name }, ctx)).toMatchObject({ name, done: true, error: { code: 1 } });

    const bad = await ops.enqueue({ project: 'p', location: null, kind: 'no-such-kind', request: {}, metadata: {} });
    await until(async () => (await store.getOperation(opName(bad)))?.done === true);
    expect(await ops.getOperation({ name: `projects/p/operations/${bad.id}` }, ctx)).toMatchObject({ done: true, error: { code: 12 } });
    await ops.deleteOperation({ name }, ctx);
    await expect(ops.getOperation({ name }, ctx)).rejects.toMatchObject({ code: 5 });
  } finally {
    await runner.close();
  }
});
