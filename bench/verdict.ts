// How long a learner waits for `npm run exercise N`, measured on the real CLI
// process: the cold verdict of a run from start to exit, and in watch mode the
// re-run after a save, on the starter (its checks fail) and on the solution
// (every check passes, so the checks that boot the learner's processes run).
// Redis and the mail catcher are already up, as when `npm start` runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { editedFiles, ROOT, type Target } from '../workshop/course.ts';
import type { Exercise } from '../workshop/manifest.ts';
import { median } from './median.ts';

export interface ServiceUrls {
  REDIS_URL: string;
  SMTP_URL: string;
  MAIL_UI_URL: string;
}

/** The learner's loop of one exercise, in ms (medians). */
export interface LoopTimes {
  cold: number;
  rerunOnStarter: number;
  rerunPassing: number;
}

/**
 * THINK_MS: how long after a verdict the next save comes. A learner reads the
 * verdict and edits before saving again; meanwhile the CLI starts the
 * learner's processes for the next run (workshop/warm/).
 */
const THINK_MS = 2_000;

/** BUDGETS_MS: what a learner should wait at most (issue: "feedback in seconds"). */
export const BUDGETS_MS = { cold: 10_000, rerunOnStarter: 2_000, rerunPassing: 2_000, rerunPassingWithProcesses: 4_000 } as const;

/** The exercises whose passing checks start the learner's own processes get the longer re-run budget. */
export const STARTS_PROCESSES = new Set([4, 5, 10, 11]);

export function budgetOf(exercise: Exercise, what: keyof LoopTimes): number {
  if (what === 'rerunPassing' && STARTS_PROCESSES.has(exercise.number)) return BUDGETS_MS.rerunPassingWithProcesses;
  return BUDGETS_MS[what];
}

/** measureLoop measures one exercise: `rounds` cold runs and `rounds` saves on each target. */
export async function measureLoop(exercise: Exercise, env: ServiceUrls, rounds: number): Promise<LoopTimes> {
  return {
    cold: await coldVerdict(exercise.number, env, rounds),
    rerunOnStarter: await rerunAfterSave(exercise, 'exercises', env, rounds),
    rerunPassing: await rerunAfterSave(exercise, 'solutions', env, rounds),
  };
}

/** coldVerdict is the median wall time of `npm run exercise N -- --once`, from start to exit, in ms. */
export async function coldVerdict(number: number, env: ServiceUrls, rounds: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const at = performance.now();
    await run('npm', ['run', '--silent', 'exercise', String(number), '--', '--once'], { ...env, WORKSHOP_PROGRESS_FILE: scratchProgress() });
    samples.push(performance.now() - at);
  }
  return median(samples);
}

/**
 * rerunAfterSave runs the watch mode in a pseudo-terminal, saves the
 * exercise's first file `rounds` times, THINK_MS after each verdict, and
 * returns the median time from each save to the next finished verdict on
 * screen, in ms. A save rewrites the same bytes, so the files are left as
 * they were.
 */
export async function rerunAfterSave(exercise: Exercise, target: Target, env: ServiceUrls, rounds: number): Promise<number> {
  const file = join(ROOT, target, exercise.slug, editedFiles(exercise)[0]!);
  const child = spawn('script', ['-qfec', `node --import tsx workshop/cli/main.ts exercise ${exercise.number}`, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, ...env, COURSE_TARGET: target, WORKSHOP_PROGRESS_FILE: scratchProgress(), NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let output = '';
  let finished = 0;
  let sawRunning = false;
  let onFinished: (() => void) | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    // A screen is whole once its last line, the keys, has come.
    let end: number;
    while ((end = output.indexOf('q quit')) >= 0) {
      const screen = output.slice(0, end);
      output = output.slice(end + 'q quit'.length);
      // A screen with a verdict and no "⟳" line, after one that had it: a check has finished.
      if (screen.includes('⟳')) sawRunning = true;
      else if (sawRunning && /checks? (pass|fail)|could not run/.test(screen)) {
        sawRunning = false;
        finished++;
        onFinished?.();
      }
    }
  });
  const nextVerdict = (after: number) =>
    new Promise<void>((resolve) => {
      onFinished = () => finished > after && resolve();
      onFinished();
    });
  try {
    await nextVerdict(0);
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await new Promise((resolve) => setTimeout(resolve, THINK_MS));
      const before = finished;
      const at = performance.now();
      writeFileSync(file, readFileSync(file));
      await nextVerdict(before);
      samples.push(performance.now() - at);
    }
    return median(samples);
  } finally {
    child.stdin.write('q');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

function scratchProgress(): string {
  return join(mkdtempSync(join(tmpdir(), 'bench-progress-')), 'progress.json');
}

function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
    child.once('error', reject);
    // The exercise exits 1 on a failing check: a finished verdict either way.
    child.once('exit', () => resolve());
  });
}
