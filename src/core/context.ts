import type { Principal } from './auth';

/** What the core knows about one call, whichever transport carried it. */
export interface CallContext {
  readonly principal: Principal;
  readonly requestId: string;
}
