/**
 * Starts a throwaway jongodb (an in-memory, MongoDB-wire-compatible server; see
 * /work/shared/facts/infrastructure.md) for tests that need a MongoDB.
 *
 * The binary takes only --host, --port, --database, --replica-set-name and
 * --topology-profile (it has no --help). With --port=0 it binds a free port itself and
 * reports it in its `JONGODB_URI=` ready line, which avoids the race of probing for a free
 * port and handing it over.
 *
 * No orphans: jongodb runs under a tiny `sh` watchdog that kills it as soon as its stdin
 * closes. stop() closes that pipe; and if the test process dies without calling stop()
 * (even by SIGKILL), the kernel closes the pipe and the watchdog still kills jongodb.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const BIN = join(__dirname, '../../node_modules/@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb');
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * $1.. = the jongodb command line. The watchdog reads its stdin (kept on fd 3: a background
 * job's own stdin is /dev/null in a non-interactive shell) until EOF, then kills jongodb;
 * `wait` makes the shell exit whenever jongodb exits, however that happens.
 */
const WATCHDOG = 'exec 3<&0; "$@" 3<&- & pid=$!; (cat <&3 >/dev/null; kill "$pid" 2>/dev/null) & wait "$pid"';

export interface Jongodb {
  /** mongodb://127.0.0.1:PORT/<unique db>?directConnection=true */
  uri: string;
  stop(): Promise<void>;
}

export async function startJongodb(): Promise<Jongodb> {
  const child = spawn('sh', ['-c', WATCHDOG, 'jongodb-watchdog', BIN, '--host=127.0.0.1', '--port=0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, so a last-resort kill reaches jongodb too
  });
  const stop = () => stopChild(child);
  try {
    const reported = await readyUri(child);
    const url = new URL(reported);
    url.pathname = `/metapixel_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    url.searchParams.set('directConnection', 'true');
    return { uri: url.toString(), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Resolves with the URI from the `JONGODB_URI=` line; rejects with the output so far if
 *  the server exits or stays silent past START_TIMEOUT_MS. */
function readyUri(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`jongodb did not start (${why}). Output:\n${output || '(none)'}`));
    };
    const timer = setTimeout(() => fail(`no JONGODB_URI line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /^JONGODB_URI=(\S+)/m.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? code}`));
  });
}

/** Closes the watchdog's stdin (it kills jongodb) and waits for the watchdog to exit;
 *  SIGKILLs the whole process group if that takes too long. */
async function stopChild(child: ChildProcess): Promise<void> {
  // Always end stdin, even after an exit: it also ends the watchdog's `cat`.
  child.stdin?.end();
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS)));
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late && child.pid !== undefined) {
    process.kill(-child.pid, 'SIGKILL');
    await exited;
  }
}
