/**
 * One writer per data directory. The embedded store must never be opened by two servers
 * (docs/deployment.md); `metapixel.lock` in the directory names the process that holds it.
 * A lock left by a process that is gone (kill -9, a crash) on this host is taken over.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A failure to start whose message says it all (no stack trace is printed). */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'metapixel.lock');
  const me = { pid: process.pid, host: os.hostname() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(file);
    if (holder && holder.host === me.host && holder.pid !== me.pid && alive(holder.pid)) {
      throw new StartupError(
        `data directory ${path.resolve(dataDir)} is in use by process ${holder.pid} (${file}); two servers must never share one data directory.`,
      );
    }
    if (holder && holder.host !== me.host) {
      throw new StartupError(
        `data directory ${path.resolve(dataDir)} is locked by host ${holder.host} (${file}); two servers must never share one data directory. If that server is gone for good, delete the lock file.`,
      );
    }
    rmSync(file, { force: true }); // left by a process that is gone (or by this one's former self)
  }
  throw new StartupError(`could not lock data directory ${path.resolve(dataDir)} (${file}).`);
}

function readHolder(file: string): { pid: number; host: string } | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; host?: unknown };
    return typeof v.pid === 'number' && typeof v.host === 'string' ? { pid: v.pid, host: v.host } : undefined;
  } catch {
    return undefined; // half-written by a process that died: stale
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
