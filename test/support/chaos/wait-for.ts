import { waitUntil } from '../wait.ts';

/**
 * waitFor polls `check` (every 25 ms) until it returns true. On timeout it
 * throws with `state()`, called then, so the message shows the last counts
 * rather than those from when the wait began.
 */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, state: () => unknown, timeoutMs: number): Promise<void> {
  try {
    await waitUntil(what, check, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(state())}`, { cause: err });
  }
}
