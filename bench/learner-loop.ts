// The learner's loop of every exercise: cold verdict, re-run after a save on
// the starter, re-run with every check passing, each against its budget.
// Part of `npm run bench`; alone:
//   node --import tsx bench/learner-loop.ts [--rounds N] [exercise numbers…]
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { findExercise, pad2 } from '../workshop/course.ts';
import { EXERCISES, type Exercise } from '../workshop/manifest.ts';
import { seconds } from './format.ts';
import { startMailCatcherProcess } from './mail-catcher.ts';
import { budgetOf, measureLoop, type LoopTimes, type ServiceUrls } from './verdict.ts';

/** learnerLoop measures each exercise and prints one row per exercise; it returns how many budgets were missed. */
export async function learnerLoop(env: ServiceUrls, exercises: readonly Exercise[], rounds: number, say: (line: string) => void): Promise<number> {
  let missed = 0;
  const cell = (exercise: Exercise, times: LoopTimes, what: keyof LoopTimes) => {
    const budget = budgetOf(exercise, what);
    const met = times[what] <= budget;
    if (!met) missed++;
    return `${seconds(times[what]).padStart(6)} ${met ? 'met   ' : 'MISSED'} (≤ ${budget / 1000} s)`;
  };
  say(`  ${'exercise'.padEnd(34)} ${'cold'.padEnd(23)} ${'re-run, starter'.padEnd(23)} re-run, every check passing`);
  for (const exercise of exercises) {
    const times = await measureLoop(exercise, env, rounds);
    const name = `${pad2(exercise.number)} ${exercise.title}`.slice(0, 34).padEnd(34);
    say(`  ${name} ${cell(exercise, times, 'cold')}  ${cell(exercise, times, 'rerunOnStarter')}  ${cell(exercise, times, 'rerunPassing')}`);
  }
  return missed;
}

/** loadLine is the machine's load average, for the record beside the numbers. */
export function machineLoad(): string {
  const [one, five] = loadavg();
  return `load average ${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min) on ${cpus().length} cores`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3;
  const numbers = args.filter((arg, i) => /^\d+$/.test(arg) && args[i - 1] !== '--rounds');
  const exercises = numbers.length > 0 ? numbers.map((n) => findExercise(n)) : EXERCISES;
  const port = await freePort();
  const work = await mkdtemp(join(tmpdir(), 'bench-loop-'));
  const redis = await startLocalRedis(port, join(work, 'redis'));
  const mail = await startMailCatcherProcess();
  const startedAt = performance.now();
  try {
    console.log(`Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; Node ${process.version}; Redis ${redis.version}; ${machineLoad()}`);
    console.log(`The learner's loop, median of ${rounds} (Redis and the mail catcher already up)`);
    const missed = await learnerLoop({ REDIS_URL: `redis://127.0.0.1:${port}`, SMTP_URL: mail.smtpUrl, MAIL_UI_URL: mail.webUrl }, exercises, rounds, console.log);
    console.log(`${missed === 0 ? 'Every budget met' : `${missed} budget${missed === 1 ? '' : 's'} missed`}; ${machineLoad()}; done in ${seconds(performance.now() - startedAt)}`);
  } finally {
    await mail.stop();
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
}
