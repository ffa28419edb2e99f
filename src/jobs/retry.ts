import { RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from './defaults.ts';

/**
 * The backoff type each job carries (client.ts). BullMQ has no built-in
 * strategy by that name, so it asks the worker's `backoffStrategy` function
 * (server.ts), which answers with retryDelay.
 */
export const RETRY_BACKOFF = 'exponential-jitter';

export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: RETRY_BASE_DELAY_MS,
  maxDelayMs: RETRY_MAX_DELAY_MS,
};

/**
 * retryDelay is the wait before retry number `retry` (1 for the first retry).
 * It doubles each time, up to the policy's cap, and is jittered into the upper
 * half of that value: with a 1 s base the third retry waits between 2 and 4 s.
 */
export function retryDelay(retry: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY, random = Math.random): number {
  const ceiling = Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
