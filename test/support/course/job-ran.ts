import type { Queue } from 'bullmq';
import { waitUntil } from '../wait.ts';

/**
 * jobRan waits until job `id` has run: completed, failed, or back in the
 * delayed set to wait out a retry. It returns that state. A job that failed
 * because no handler knows its task means the learner has not registered one
 * yet: that is said as the gap it is (TODO(2) in exercises 08 and 10).
 */
export async function jobRan(queue: Queue, id: string, task: string): Promise<string> {
  const state = await waitUntil(
    `job ${id} to run`,
    async () => {
      const state = await queue.getJobState(id);
      return ['completed', 'failed', 'delayed'].includes(state) ? state : false;
    },
    10_000,
  );
  const job = await queue.getJob(id);
  if (/^no handler for task/.test(job?.failedReason ?? '')) {
    throw new Error(`TODO(2) is not done yet: the worker has no handler for ${task}; register yours in register(mux)`);
  }
  return state;
}
