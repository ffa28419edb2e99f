import type { Queue } from 'bullmq';
import { waitUntil } from '../wait.ts';

/** RUN_TIMEOUT_MS: a job of the exercises runs in milliseconds; one still running after this is stuck. */
const RUN_TIMEOUT_MS = 10_000;

/**
 * jobRan waits until job `id` has run: completed, failed, or back in the
 * delayed set to wait out a retry. It returns that state. A job that failed
 * because no handler knows its task means the learner has not registered one
 * yet: that is said as the gap it is (TODO(2) in exercises 08 and 10). A job
 * that is still running when the wait ends is said to be stuck.
 */
export async function jobRan(queue: Queue, id: string, task: string): Promise<string> {
  let state: string;
  try {
    state = await waitUntil(
      `job ${id} to run`,
      async () => {
        const state = await queue.getJobState(id);
        return ['completed', 'failed', 'delayed'].includes(state) ? state : false;
      },
      RUN_TIMEOUT_MS,
    );
  } catch (err) {
    // The worker started it and it never ended: the handler is stuck, not slow.
    if ((await queue.getJobState(id)) === 'active') {
      throw new Error(`job ${id} (${task}) started, and ${RUN_TIMEOUT_MS / 1000} s later its handler has not returned: does it await something that never settles?`);
    }
    throw err;
  }
  const job = await queue.getJob(id);
  if (/^no handler for task/.test(job?.failedReason ?? '')) {
    throw new Error(`TODO(2) is not done yet: the worker has no handler for ${task}; register yours in register(mux)`);
  }
  return state;
}
