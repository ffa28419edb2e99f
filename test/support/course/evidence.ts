import type { Queue } from 'bullmq';
import { onTestFailed } from 'vitest';
import { dueAt } from '../../../src/jobs/due.ts';
import type { Inbox, Mail } from '../services/inbox.ts';
import type { ChildScript } from '../child-script.ts';
import { formatLogLines } from './log.ts';
import type { Evidence } from '../../../workshop/shared/verdict.ts';

declare module 'vitest' {
  interface TaskMeta {
    evidence?: Evidence[];
  }
}

const MAX_LINES = 25;

/**
 * explain adds a section to the verdict, shown only if the current test
 * fails: `describe` runs then, so it shows the state at the moment of failure.
 * Call it inside a test, before the checks it helps to understand.
 */
export function explain(title: string, describe: () => string | Promise<string>): void {
  onTestFailed(async ({ task }) => {
    let text: string;
    try {
      text = await describe();
    } catch (err) {
      text = `(could not be read: ${(err as Error).message})`;
    }
    (task.meta.evidence ??= []).push({ title, text: clip(text) });
  });
}

/** explainJob shows a job as Redis holds it: state, attempts, error, payload. `id` is read when the test fails. */
export function explainJob(queue: Queue, id: () => string | undefined, title = 'the job in Redis'): void {
  explain(title, async () => {
    const jobId = id();
    if (!jobId) return 'no job was enqueued';
    const job = await queue.getJob(jobId);
    if (!job) return `no job ${jobId} in the "${queue.name}" queue`;
    const state = await job.getState();
    const lines = [
      `job ${job.id} (${job.name}) in "${queue.name}": ${state}, attempts made ${job.attemptsMade} of ${job.opts.attempts ?? 1}`,
      `payload ${JSON.stringify(job.data)}`,
    ];
    if (job.failedReason) lines.push(`error   ${job.failedReason}`);
    if (state === 'delayed') lines.push(`due at  ${(await dueAt(queue, jobId))?.toISOString() ?? '(not in the delayed set)'}`);
    return lines.join('\n');
  });
}

/** explainLog shows the log lines that mention a job (or all lines, with no id). */
export function explainLog(title: string, lines: () => string[], jobId?: () => string | undefined): void {
  explain(title, () => {
    const id = jobId?.();
    const wanted = id ? lines().filter((line) => line.includes(`"job":"${id}"`)) : lines();
    if (wanted.length === 0) return id ? `nothing about job ${id}` : '(nothing)';
    return formatLogLines(wanted);
  });
}

/** explainOutput shows the last lines a process wrote, log lines made readable. */
export function explainOutput(child: ChildScript, title: string): void {
  explain(title, () => {
    const lines = child.output().trim().split('\n').filter(Boolean);
    return lines.length === 0 ? '(it wrote nothing)' : formatLogLines(lines.slice(-MAX_LINES));
  });
}

/** explainInbox lists what the mail catcher holds (the emails that `filter` keeps, newest last). */
export function explainInbox(inbox: Inbox, filter: (m: Mail) => boolean = () => true): void {
  explain('the inbox', async () => {
    const mails = (await inbox.list()).filter(filter);
    if (mails.length === 0) return 'no email for this check';
    return mails.slice(-10).map((m) => `to ${m.to.join(', ') || '(nobody)'}: "${m.subject}"`).join('\n');
  });
}

function clip(text: string): string {
  const lines = text.split('\n');
  return lines.length <= MAX_LINES ? text : [...lines.slice(0, MAX_LINES), `… ${lines.length - MAX_LINES} more lines`].join('\n');
}
