// How long a learner waits for `npm run exercise`: the cold verdict of one run,
// and the re-run in watch mode after a save, each measured on the real CLI
// process. Redis and the mail catcher are already up, as when `npm start` runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, type Target } from '../workshop/course.ts';
import { median } from './median.ts';

export interface ServiceUrls {
  REDIS_URL: string;
  SMTP_URL: string;
  MAIL_UI_URL: string;
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

/** bareVitest is the median wall time of a plain `vitest run` of the same suite, the floor any check pays, in ms. */
export async function bareVitest(number: number, env: ServiceUrls, rounds: number): Promise<number> {
  const services = { redisUrl: env.REDIS_URL, smtpUrl: env.SMTP_URL, mailUiUrl: env.MAIL_UI_URL, mailBackend: 'maildev', backend: 'local' };
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const at = performance.now();
    await run('npx', ['vitest', 'run', '--config', 'workshop/vitest.config.ts', '--reporter', 'dot'], {
      COURSE_ONLY: String(number),
      COURSE_SERVICES: JSON.stringify(services),
    });
    samples.push(performance.now() - at);
  }
  return median(samples);
}

/**
 * rerunAfterSave runs the watch mode in a pseudo-terminal, saves one of the
 * exercise's files `rounds` times, and returns the median time from each save
 * to the next verdict on screen, in ms. A save rewrites the same bytes, so the
 * files are left as they were. On the starter the end-to-end checks wait for
 * the others; on the solution they boot the API and worker processes.
 */
export async function rerunAfterSave(number: number, slugFile: string, target: Target, env: ServiceUrls, rounds: number): Promise<number> {
  const file = join(ROOT, target, slugFile);
  const child = spawn('script', ['-qfec', `node --import tsx workshop/cli/main.ts exercise ${number}`, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, ...env, COURSE_TARGET: target, WORKSHOP_PROGRESS_FILE: scratchProgress(), NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let verdicts = 0;
  let onVerdict: (() => void) | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    const found = chunk.toString().match(/checks? (pass|fail)/g)?.length ?? 0;
    if (found > 0) {
      verdicts += found;
      onVerdict?.();
    }
  });
  const nextVerdict = (after: number) =>
    new Promise<void>((resolve) => {
      onVerdict = () => verdicts > after && resolve();
      onVerdict();
    });
  try {
    await nextVerdict(0);
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = verdicts;
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
