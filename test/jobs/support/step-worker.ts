/**
 * A worker process for the job-runner crash test: runs operations of kind 'steps' from an
 * embedded store. Each step appends "step N" to a log (fsync'd) and then checkpoints.
 * Usage: node --import tsx step-worker.ts DATA_DIR LOG_FILE
 */
import { appendFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import pino from 'pino';
import { openStore } from '../../../src/store/open-store';
import { JobRunner } from '../../../src/jobs/job-runner';

const [dataDir, logFile] = process.argv.slice(2);

async function main() {
  const store = await openStore({ dataDir });
  const runner = new JobRunner(
    store.operations,
    [
      {
        kind: 'steps',
        async run(op, ctl) {
          const total = (op.request as { steps: number }).steps;
          let next = (op.checkpoint as { next?: number } | undefined)?.next ?? 0;
          for (; next < total; next++) {
            ctl.signal.throwIfAborted();
            const fd = openSync(logFile, 'a');
            appendFileSync(fd, `step ${next} ${process.pid}\n`);
            fsyncSync(fd);
            closeSync(fd);
            await new Promise((r) => setTimeout(r, 80));
            await ctl.progress({ done: next + 1, total }, { next: next + 1 });
          }
          return { '@type': 'type.googleapis.com/google.protobuf.Empty' };
        },
      },
    ],
    { concurrency: 1, leaseMs: 1000, pollMs: 100 },
    pino({ level: 'silent' }),
  );
  runner.start();
  process.stdout.write('ready\n');
}

void main();
