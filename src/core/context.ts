import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './auth';
import { permissionDenied } from './errors';

/** What the core knows about one call, whichever transport carried it. */
export interface CallContext {
  readonly principal: Principal;
  readonly requestId: string;
  /**
   * Aborted when the client goes away (gRPC call cancelled, HTTP connection closed) or its
   * deadline passes (`grpc-timeout`, `X-Server-Timeout`): work for it should stop.
   */
  readonly signal?: AbortSignal;
}

/**
 * The call (or operation) on whose behalf the current async work runs. CallRunner and
 * JobRunner set it around each call and each operation, so code deep below (a gs:// read,
 * an inference queue) can ask who it works for and whether that one still waits, without
 * every signature in between carrying it. Work outside both (the CLI, start-up) has none.
 */
const current = new AsyncLocalStorage<CallContext>();

export function runInCall<T>(ctx: CallContext, fn: () => T): T {
  return current.run(ctx, fn);
}

export function currentCall(): CallContext | undefined {
  return current.getStore();
}

/** Work done outside any call, even when started from within one (a job woken by a call). */
export function outsideCalls<T>(fn: () => T): T {
  return current.exit(fn);
}

/** A principal that may use exactly one project: what an operation's worker acts as. */
export function projectPrincipal(project: string, id: string): Principal {
  return {
    id,
    defaultProject: project,
    assertProject(p: string) {
      if (p !== project)
        throw permissionDenied(`Permission denied on resource project ${p}: this operation belongs to project ${project}.`);
    },
  };
}
