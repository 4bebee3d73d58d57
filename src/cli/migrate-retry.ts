/**
 * Retries for `metapixel migrate`'s calls: UNAVAILABLE and RESOURCE_EXHAUSTED (a server
 * restarting, a quota or overload) are retried with exponential backoff and jitter (half the
 * delay fixed, half random, so clients that failed together do not retry together);
 * any other error is the call's answer.
 */
const RETRYABLE = new Set([8 /* RESOURCE_EXHAUSTED */, 14 /* UNAVAILABLE */]);

export interface RetryPolicy {
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, firstDelayMs: 500, maxDelayMs: 15000 };

export const isRetryable = (err: unknown) => RETRYABLE.has((err as { code?: unknown }).code as number);

/** `fn`, retried; `attempt` (1-based) lets a create tell a retry from a first try. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= policy.attempts || !isRetryable(e)) throw e;
      const cap = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, cap / 2 + (Math.random() * cap) / 2));
    }
  }
}
