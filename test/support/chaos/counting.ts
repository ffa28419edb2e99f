import type { ChildScript } from '../child-script.ts';

/** tally counts how often each value occurs. */
export function tally<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** extraRuns is how many occurrences there are beyond the first of each value: 0 when none came twice. */
export function extraRuns<T>(counts: Map<T, number>): number {
  let extra = 0;
  for (const count of counts.values()) extra += count - 1;
  return extra;
}

/** missingFrom lists the expected values that `seen` does not hold. */
export function missingFrom<T>(expected: Iterable<T>, seen: { has(value: T): boolean }): T[] {
  return [...expected].filter((value) => !seen.has(value));
}

/** Counts above 1, as `key×count`, for an assertion message that shows what came twice. */
export function repeated<T>(counts: Map<T, number>): string[] {
  return [...counts].filter(([, count]) => count > 1).map(([key, count]) => `${String(key)}×${count}`);
}

/** A worker log line about one job: its id and when it was written (pino's epoch ms). */
export interface JobLogLine {
  job: string;
  time: number;
}

/** jobLines returns the worker's log lines whose msg matches and that name a job, in order. */
export function jobLines(worker: ChildScript, msg: RegExp): JobLogLine[] {
  const lines: JobLogLine[] = [];
  for (const line of worker.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { msg?: string; job?: string; time?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // a line cut short by a kill
    }
    if (entry.job !== undefined && entry.msg !== undefined && msg.test(entry.msg)) lines.push({ job: String(entry.job), time: Number(entry.time) });
  }
  return lines;
}

/** jobIdsLogged returns the job id of each worker log line whose msg matches, once per line. */
export function jobIdsLogged(worker: ChildScript, msg: RegExp): string[] {
  return jobLines(worker, msg).map((line) => line.job);
}
