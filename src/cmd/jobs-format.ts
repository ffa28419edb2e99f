import type { DeadOutboxEntry } from '../db/outbox.ts';
import type { ScheduledTask } from '../jobs/cron.ts';
import type { QueueName } from '../jobs/defaults.ts';
import type { DeadJob, JobDetails, QueueCounts } from '../jobs/inspector.ts';
import { formatDuration } from './duration.ts';

/** STACK_LINES is how many lines of a failed job's stack `show` prints. */
export const STACK_LINES = 6;
/** ERROR_WIDTH is how much of an error the dead-job table shows. */
export const ERROR_WIDTH = 60;
/** OUTBOX_TEXT_WIDTH is how much of a dead outbox row's reason, and of its payload (as JSON), `outbox` prints. */
export const OUTBOX_TEXT_WIDTH = 300;
/** OUTBOX_NAME_WIDTH is how much of a dead outbox row's task and queue `outbox` prints: a hand-edited row may hold anything. */
export const OUTBOX_NAME_WIDTH = 60;

/** OutboxCounts: how many outbox rows wait for Redis, and how many Redis refused for good. */
export interface OutboxCounts {
  pending: number;
  dead: number;
}

const COUNT_COLUMNS = ['active', 'pending', 'scheduled', 'dead', 'completed'] as const;

/** formatStats prints one row per queue with its counts by state. */
export function formatStats(counts: Record<QueueName, QueueCounts>): string {
  const rows = Object.entries(counts).map(([queue, c]) => [queue, ...COUNT_COLUMNS.map((state) => String(c[state]))]);
  return table(['queue', ...COUNT_COLUMNS], rows, [false, true, true, true, true, true]);
}

/** formatDeadJobs prints dead jobs as a table, in the order given, or a line saying there are none. */
export function formatDeadJobs(jobs: DeadJob[], queue?: QueueName): string {
  if (jobs.length === 0) return queue ? `no dead jobs in ${queue}` : 'no dead jobs';
  const rows = jobs.map((job) => [job.id, job.queue, job.task, String(job.attemptsMade), formatTime(job.failedAt), oneLine(job.error, ERROR_WIDTH)]);
  return table(['id', 'queue', 'task', 'attempts', 'failed at', 'error'], rows, [false, false, false, true]);
}

/** formatJob prints one job: state, task, attempts, times, error, payload (pretty JSON) and the top of its last stack. */
export function formatJob(job: JobDetails, now: Date): string {
  const fields: [string, string][] = [
    ['state', job.state],
    ['task', job.task],
    ['attempts', `${job.attemptsMade} made of ${job.maxAttempts} allowed`],
    ['created', formatTime(job.createdAt)],
  ];
  if (job.dueAt) fields.push(['due', `${formatTime(job.dueAt)} (${relative(job.dueAt, now)})`]);
  if (job.finishedAt) fields.push([job.state === 'dead' ? 'failed at' : 'finished', formatTime(job.finishedAt)]);
  if (job.error) fields.push([job.state === 'dead' ? 'error' : 'last error', oneLine(job.error)]);

  const lines = [`job ${job.id} in queue ${job.queue}`, ...aligned(fields), 'payload', indent(JSON.stringify(job.payload ?? null, null, 2))];
  const stack = job.stacktrace.at(-1);
  if (job.error && stack) {
    const stackLines = stack.split('\n');
    const shown = stackLines.length > STACK_LINES ? `stack (first ${STACK_LINES} of ${stackLines.length} lines)` : 'stack';
    lines.push(shown, indent(stackLines.slice(0, STACK_LINES).join('\n')));
  }
  return lines.join('\n');
}

/** formatSchedules prints the cron entries with their next run, or a hint when there are none. */
export function formatSchedules(entries: (ScheduledTask & { queue: QueueName })[], now: Date): string {
  if (entries.length === 0) return 'no cron schedules: start the scheduler (npm run scheduler), or a worker with RUN_SCHEDULER=true';
  const rows = entries.map((e) => [e.task, e.pattern, e.queue, e.next ? `${formatTime(e.next)} (${relative(e.next, now)})` : '-']);
  return table(['task', 'pattern', 'queue', 'next run'], rows);
}

/** formatOutboxCounts is the overview's outbox line, pointing at `outbox` when rows are dead. */
export function formatOutboxCounts({ pending, dead }: OutboxCounts): string {
  const line = `outbox: ${pending} pending, ${dead} dead`;
  return dead > 0 ? `${line} (npm run jobs -- outbox lists them)` : line;
}

/**
 * formatOutbox prints the outbox's counts, then each dead row given (oldest
 * first) with its reason and its payload as one line of JSON, both cut to
 * OUTBOX_TEXT_WIDTH, or a line saying there are none. Line breaks in the
 * row's text become spaces; the caller still masks control characters.
 */
export function formatOutbox(where: string, counts: OutboxCounts, dead: DeadOutboxEntry[]): string {
  const head = `outbox in ${where}: ${counts.pending} pending, ${counts.dead} dead`;
  if (dead.length === 0) return `${head}\nno dead outbox rows`;
  const rows = dead.map((entry) => {
    const fields: [string, string][] = [
      ['task', flatten(entry.task, OUTBOX_NAME_WIDTH)],
      ['queue', flatten(entry.queue, OUTBOX_NAME_WIDTH)],
      ['died at', formatTime(new Date(entry.deadAt))],
      ['attempts', String(entry.attempts)],
      ['reason', flatten(entry.error || '(none recorded)', OUTBOX_TEXT_WIDTH)],
      ['payload', flatten(JSON.stringify(entry.payload) ?? String(entry.payload), OUTBOX_TEXT_WIDTH)],
    ];
    return [`dead row ${entry.id}`, ...aligned(fields).map((line) => `  ${line}`)].join('\n');
  });
  const shown = dead.length < counts.dead ? `the oldest ${dead.length} of ${counts.dead} dead rows; ` : '';
  return [head, ...rows, `${shown}once the cause is fixed, send one again with: npm run jobs -- outbox requeue <id>`].join('\n\n');
}

/** formatTime prints a time in UTC to the second, "2026-11-28 02:00:00 UTC", or "-" when unset. */
export function formatTime(date: Date | undefined): string {
  return date ? `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '-';
}

/** table lines up rows under a header, two spaces apart; right-aligned columns are marked true. */
export function table(header: string[], rows: string[][], right: boolean[] = []): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [header, ...rows].map(line).join('\n');
}

/** oneLine keeps the first line of a text, cut to max characters with an ellipsis. */
export function oneLine(text: string, max = 200): string {
  const first = text.split('\n', 1)[0] ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/** flatten puts a text on one line, its line breaks as spaces, cut to max characters with an ellipsis. */
export function flatten(text: string, max: number): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ');
  if (line.length <= max) return line;
  const chars = Array.from(line); // so the cut never splits a character in two
  return chars.length <= max ? line : `${chars.slice(0, max - 1).join('')}…`;
}

function relative(when: Date, now: Date): string {
  const ms = when.getTime() - now.getTime();
  return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
}

function aligned(fields: [string, string][]): string[] {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}

function indent(text: string): string {
  return text.split('\n').map((line) => `  ${line}`).join('\n');
}
