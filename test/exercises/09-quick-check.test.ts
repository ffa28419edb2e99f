// Exercise 09: the quick check. Storage is down while a resize runs: predict what
// happens, then make resizeImage tell a passing outage (retry) from an error no retry
// can fix (dead at once), and watch it in a real worker.
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { OrderRepo } from '../../src/db/orders.ts';
import { UserRepo } from '../../src/db/users.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { DEFAULT_MAX_RETRY, RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from '../../src/jobs/defaults.ts';
import { Handlers } from '../../src/jobs/handlers.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { DEFAULT_RETRY_POLICY, retryDelay } from '../../src/jobs/retry.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { Uploads } from '../../src/storage/uploads.ts';
import type { JobState, Prediction, Range } from '../../solutions/09-quick-check/prediction.ts';
import { explain, explainJob, explainLog, explainOutput } from '../support/course/evidence.ts';
import { afterEarlierChecks, fileUnderCheck, startProcess } from '../support/course/exercise.ts';
import { captureLog, formatLogLines } from '../support/course/log.ts';
import { stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const SAMPLE_PNG = join(import.meta.dirname, '..', '..', 'docs', 'sample.png');
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------
// Part 1: the prediction, compared with what src/ really does.

/** loadPrediction imports the learner's prediction.ts (or the solution's). */
async function loadPrediction(): Promise<Prediction> {
  const module = (await import(/* @vite-ignore */ fileUnderCheck('prediction.ts'))) as { prediction: Prediction };
  return module.prediction;
}

/** notAnswered stops the test while an answer is still '?', without giving the answer away. */
function notAnswered(field: keyof Prediction): never {
  throw new Error(`TODO(1) is not done yet: answer ${field} in prediction.ts (your best guess is fine: the check explains the right answer)`);
}

/** answered: prediction.ts has no '?' left. */
async function answered(): Promise<boolean> {
  return !Object.values(await loadPrediction()).includes('?');
}

/**
 * handlerCheck runs a check of the handler. What such a check shows when it
 * fails (the job's attempts, "1 of …", the state it ended in, the worker's
 * log) answers the prediction, so while prediction.ts has a '?' left a
 * failure says only that the prediction comes first, and shows no evidence.
 * The check runs all the same, so a starter that passed it would show.
 * `check` gets whether to add evidence.
 */
async function handlerCheck(check: (explained: boolean) => Promise<void>): Promise<void> {
  const predicted = await answered();
  try {
    await check(predicted);
  } catch (err) {
    if (predicted) throw err;
    throw new Error("TODO(1) is not done yet: answer prediction.ts first; this check's details would give your answers away");
  }
}

/** totalRetryWait is how long all the retries wait, in ms, with the jitter pinned to `random`. */
function totalRetryWait(random: () => number): number {
  let total = 0;
  for (let retry = 1; retry <= DEFAULT_MAX_RETRY; retry++) total += retryDelay(retry, DEFAULT_RETRY_POLICY, random);
  return total;
}

// The real values. Jitter puts each wait between half of and the whole of its ceiling.
const REAL_RUNS = DEFAULT_MAX_RETRY + 1;
const REAL_FIRST_RETRY_S: Range = [retryDelay(1, DEFAULT_RETRY_POLICY, () => 0) / 1_000, retryDelay(1, DEFAULT_RETRY_POLICY, () => 1) / 1_000];
const REAL_ALL_RETRIES_DAYS: Range = [totalRetryWait(() => 0) / DAY_MS, totalRetryWait(() => 1) / DAY_MS];
const REAL_END: JobState = 'failed';

/**
 * wrongAnswer fails a prediction check with one message in plain words: what
 * you answered, the right answer, and why, taken from the code. Nothing else
 * around it: this message is the point of the step.
 */
function wrongAnswer(message: string): never {
  const error = new Error(message);
  Error.captureStackTrace(error, wrongAnswer); // "checked at" names the check, not this helper
  throw error;
}

/** show prints an answer as it is written in prediction.ts. */
function show(answer: unknown): string {
  if (Array.isArray(answer)) return `[${answer.map(show).join(', ')}]`;
  return typeof answer === 'string' ? `'${answer}'` : String(answer);
}

/**
 * rangeProblem says what is wrong with an answer for a real range, or nothing.
 * It accepts any honest answer near the truth: the range has to overlap the
 * real one (give or take 10 %), and may not end above one and a half times
 * its end ("0 to 1 s" is fine for 0.5 to 1 s; "1 to 2 s" is the next retry).
 */
function rangeProblem(answer: unknown, [lo, hi]: Range, unit: string): string | undefined {
  if (!Array.isArray(answer) || answer.length !== 2) return `a range is two numbers in brackets, smallest first, such as [2, 5]`;
  const [from, to] = answer as unknown[];
  if (typeof from !== 'number' || typeof to !== 'number' || !Number.isFinite(from) || !Number.isFinite(to) || from < 0) {
    return 'both ends of the range should be numbers, 0 or more';
  }
  if (from > to) return `a range goes smallest first: [${to}, ${from}]`;
  if (to < lo * 0.9) return `that is too short`;
  if (from > hi * 1.1) return `that is too long`;
  if (to > hi * 1.5) return `that reaches too high: it never takes ${to} ${unit}`;
  return undefined;
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

describe('your prediction, in prediction.ts', () => {
  it('how many times the job runs at most (TODO 1)', async () => {
    const { runsAtMost } = await loadPrediction();
    if (runsAtMost === '?') notAnswered('runsAtMost');
    if (runsAtMost === REAL_RUNS) return;

    wrongAnswer(
      `You answered runsAtMost: ${show(runsAtMost)}. The job runs at most ${REAL_RUNS} times: the first run, then ` +
        `DEFAULT_MAX_RETRY = ${DEFAULT_MAX_RETRY} retries (src/jobs/defaults.ts). BullMQ counts the first run as an ` +
        `attempt, so JobsClient gives each job attempts: maxRetry + 1 = ${REAL_RUNS}, and the worker logs ` +
        `"attempt 1 of ${REAL_RUNS}".` +
        (runsAtMost === DEFAULT_MAX_RETRY ? ` ${DEFAULT_MAX_RETRY} is the number of retries; the first run comes on top.` : '') +
        (runsAtMost === 1 ? " One run, with no retry, is BullMQ's own default; this app sets 25 retries, as asynq does." : ''),
    );
  });

  it('how long the job waits before its first retry (TODO 1)', async () => {
    const { firstRetryAfterSeconds } = await loadPrediction();
    if (firstRetryAfterSeconds === '?') notAnswered('firstRetryAfterSeconds');
    const problem = rangeProblem(firstRetryAfterSeconds, REAL_FIRST_RETRY_S, 's');
    if (!problem) return;

    const [lo, hi] = REAL_FIRST_RETRY_S;
    wrongAnswer(
      `You answered firstRetryAfterSeconds: ${show(firstRetryAfterSeconds)}: ${problem}. The first retry runs ${lo} to ${hi} s ` +
        `after the failure. retryDelay(1) in src/jobs/retry.ts starts from RETRY_BASE_DELAY_MS = ` +
        `${RETRY_BASE_DELAY_MS / 1_000} s and jitters it into its upper half, so that a burst of jobs that failed ` +
        `together does not retry in lockstep. Each next wait doubles: 1 to 2 s, 2 to 4 s, and so on. ` +
        `Any range that overlaps ${show(REAL_FIRST_RETRY_S)} and ends by ${round(hi * 1.5, 2)} passes.`,
    );
  });

  it('how long all the retries take when storage never comes back (TODO 1)', async () => {
    const { allRetriesTakeDays } = await loadPrediction();
    if (allRetriesTakeDays === '?') notAnswered('allRetriesTakeDays');
    const problem = rangeProblem(allRetriesTakeDays, REAL_ALL_RETRIES_DAYS, 'days');
    if (!problem) return;

    const [lo, hi] = REAL_ALL_RETRIES_DAYS;
    // The first retry whose wait reaches the cap, and how long the doubling ones before it wait in all.
    const cappedFrom = Math.ceil(Math.log2(RETRY_MAX_DELAY_MS / RETRY_BASE_DELAY_MS)) + 1;
    const doublingHours = (random: () => number) =>
      round(Array.from({ length: cappedFrom - 1 }, (_, i) => retryDelay(i + 1, DEFAULT_RETRY_POLICY, random)).reduce((a, b) => a + b, 0) / 3_600_000, 1);
    const capHours = RETRY_MAX_DELAY_MS / 3_600_000;
    wrongAnswer(
      `You answered allRetriesTakeDays: ${show(allRetriesTakeDays)}: ${problem}. The ${DEFAULT_MAX_RETRY} retries wait ` +
        `${round(lo, 2)} to ${round(hi, 2)} days in all. Retry n waits half of to all of ${RETRY_BASE_DELAY_MS / 1_000} s × 2^(n-1) ` +
        `(src/jobs/retry.ts), capped at RETRY_MAX_DELAY_MS = ${capHours} h from retry ${cappedFrom} on. The ` +
        `${cappedFrom - 1} doubling waits add up to only ${doublingHours(() => 0)} to ${doublingHours(() => 1)} hours; ` +
        `the ${DEFAULT_MAX_RETRY - cappedFrom + 1} capped ones, ${capHours / 2} to ${capHours} hours each, make the rest: ` +
        `long enough to outlast most outages. (asynq's own curve stretches over about three weeks.) ` +
        `Any range that overlaps [${round(lo, 1)}, ${round(hi, 1)}] and ends by ${round(hi * 1.5, 1)} passes.`,
    );
  });

  it('the state the job ends in when storage never comes back (TODO 1)', async () => {
    const { endsIn } = await loadPrediction();
    if (endsIn === '?') notAnswered('endsIn');
    if (endsIn === REAL_END) return;

    const aside: Record<string, string> = {
      dead: " That is the app's word for it; BullMQ names the state failed, and that is the name prediction.ts takes.",
      delayed: ' A job is delayed between two attempts, while it waits out its backoff, but not after the last one.',
      waiting: ' A job waits only until a worker is free; after its last attempt nothing takes it again.',
      completed: ' completed is for a run that succeeds, and with storage down none does.',
      active: ' active is for a job that is running right now.',
    };
    wrongAnswer(
      `You answered endsIn: ${show(endsIn)}. After its ${REAL_RUNS}th run fails, the job is dead: BullMQ moves it to ` +
        `its ${show(REAL_END)} set, with its payload, last error, stack and attempts, and keeps it there until someone ` +
        `re-queues it. The admin page and the jobs inspector (\`jobs dead\`) list it as dead.${aside[endsIn] ?? ''}`,
    );
  });
});

// ---------------------------------------------------------------------------
// Part 2: resizeImage in a worker (the app's JobServer, in this test), with the
// uploads folder taken away and brought back.

/** A mailer that must never be called: resizing sends no email. */
const noMail: Mailer = {
  async send() {
    throw new Error('resize_image should not send email');
  },
  close() {},
};

/**
 * outcome waits until the job is done, dead, or has failed `failures` times,
 * and returns its state then. It never waits for all 26 attempts.
 */
async function outcome(queue: Queue, id: string, failures = 1) {
  return waitUntil(
    `job ${id} to run`,
    async () => {
      // A job and its state are read in two calls: keep them only if the state held between both.
      const state = await queue.getJobState(id);
      const job = await queue.getJob(id);
      if (!job || (await queue.getJobState(id)) !== state) return undefined;
      if (state === 'completed' || state === 'failed' || job.attemptsMade >= failures) return { state, job };
      return undefined;
    },
    15_000,
  );
}

/**
 * retryNow brings a job's next retry forward, as if its backoff were over: a
 * delayed job is promoted to waiting, and the worker takes it at once. A job
 * whose retry already runs is left as it is.
 */
async function retryNow(queue: Queue, id: string): Promise<void> {
  const job = await queue.getJob(id);
  // It may fall due between the two calls: then promote() finds it waiting, and there is nothing to do.
  if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
}

describe('Handlers.resizeImage, in a worker', () => {
  const bed = jobsTestbed('ex09');
  const log = captureLog();
  const db = openDatabase(':memory:');
  const root = mkdtempSync(join(tmpdir(), 'ex09-'));
  const uploads = new Uploads(join(root, 'uploads'));
  const away = join(root, 'uploads.off');
  const queue = () => bed.client.queue('default');

  /** explainRun shows the job in Redis and what the worker logged about it; `upload` names them when a check runs several. */
  function explainRun(id: () => string | undefined, upload?: string): void {
    const about = upload ? ` for "${upload}"` : '';
    explainJob(queue(), id, `the job${about} in Redis`);
    explainLog(`the worker logged${about}`, log.lines, id);
  }

  beforeAll(async () => {
    await uploads.ensureFolder();
    await uploads.write('sample.png', await readFile(SAMPLE_PNG));
    await uploads.write('notes.png', Buffer.from('these are notes, not pixels'));
    const mux = new ServeMux();
    new Handlers({ mailer: noMail, uploads, users: new UserRepo(db), orders: new OrderRepo(db), digestTo: 'digest@example.test' }).register(mux);
    // Retries in tens of milliseconds instead of seconds; the same curve otherwise.
    await bed.startServer(mux, { logger: log.logger, queues: { default: 1 } });
  });
  afterAll(async () => {
    await bed.cleanup();
    db.close();
  });

  it('while storage is down the job is retried, not dead, and it completes once storage is back (TODO 2)', () =>
    handlerCheck(async (explained) => {
      let id: string | undefined;
      if (explained) explainRun(() => id);

      await rename(uploads.dir, away); // storage is down
      try {
        ({ id } = await bed.client.enqueue('resize_image', { upload: 'sample.png', width: 120 }));
        const { state, job } = await outcome(queue(), id);
        expect(job.failedReason, 'the job should fail while storage is down').toMatch(/unavailable/);
        expect(
          state,
          `storage being down is a passing failure: the job should wait for its retry (delayed), not be dead (failed). ` +
            `Its error was: ${job.failedReason}`,
        ).not.toBe('failed');
        expect(job.attemptsMade, 'the job should have attempts left').toBeLessThan(job.opts.attempts ?? 1);
      } finally {
        await rename(away, uploads.dir); // storage is back
      }

      await retryNow(queue(), id);
      const { state, job } = await outcome(queue(), id, Number.POSITIVE_INFINITY);
      expect(state, `once storage is back, the next retry should resize the image; the job ended ${state}: ${job.failedReason}`).toBe('completed');
      const resized = await sharp(await uploads.read('sample-w120.png')).metadata();
      expect({ width: resized.width, height: resized.height }, 'sample-w120.png should be sample.png, 120 pixels wide').toEqual({ width: 120, height: 90 });
    }),
  );

  it('a missing upload, or a name that is not a plain file name, is dead after one attempt, with a reason naming it (TODO 3)', () =>
    handlerCheck(async (explained) => {
      for (const upload of ['ghost.png', '../etc/passwd']) {
        let id: string | undefined;
        if (explained) explainRun(() => id, upload);

        ({ id } = await bed.client.enqueue('resize_image', { upload, width: 120 }));
        const { state, job } = await outcome(queue(), id);
        expect(state, `no retry brings "${upload}" back: the job should be dead (failed) at once. Its error was: ${job.failedReason}`).toBe('failed');
        expect(job.attemptsMade, 'the job should have run once, not 26 times').toBe(1);
        expect(job.failedReason, 'the reason should name the upload').toContain(upload);
      }
    }),
  );

  it('a file that is not an image is dead after one attempt, with a reason naming it (TODO 4)', () =>
    handlerCheck(async (explained) => {
      let id: string | undefined;
      if (explained) explainRun(() => id);

      ({ id } = await bed.client.enqueue('resize_image', { upload: 'notes.png', width: 120 }));
      const { state, job } = await outcome(queue(), id);
      expect(state, `the same bytes will never be an image: the job should be dead (failed) at once. Its error was: ${job.failedReason}`).toBe('failed');
      expect(job.attemptsMade, 'the job should have run once, not 26 times').toBe(1);
      expect(job.failedReason, 'the reason should name the upload and say that it is not an image').toMatch(/notes\.png.*not an image/);
    }),
  );
});

// ---------------------------------------------------------------------------
// Part 3: the README's "Run it yourself", with your worker and the jobs CLI.

describe('your worker, with storage taken away under it', () => {
  const root = mkdtempSync(join(tmpdir(), 'ex09-e2e-'));
  const uploadsDir = join(root, 'uploads');
  const env = {
    REDIS_URL: services().redisUrl,
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: uniquePrefix('ex09-e2e'),
    DATABASE_PATH: join(root, 'shop.db'),
    UPLOADS_DIR: uploadsDir,
    // A first retry 30 to 60 s away: the job stays scheduled while `jobs show`
    // looks at it, and the check brings the retry forward once storage is back.
    RETRY_BASE_DELAY_MS: '60000',
  };
  // The check enqueues as `jobs 9 enqueue` does, through a JobsClient on your worker's queues.
  const client = new JobsClient(redisConnection({ redisUrl: env.REDIS_URL }), { prefix: env.QUEUE_PREFIX });
  let worker: ChildScript;
  let ghost: { id: string; line: Promise<string>; dead: Promise<string> };

  // Your worker starts once the checks above pass (see afterEarlierChecks).
  // The resize of a file that does not exist goes first, while the folder is
  // there, and `jobs dead` looks at it while the outage check runs.
  const endToEnd = afterEarlierChecks(async () => {
    mkdirSync(uploadsDir, { recursive: true });
    writeFileSync(join(uploadsDir, 'sample.png'), await readFile(SAMPLE_PNG));
    worker = startProcess('worker', env);
    const { id } = await client.enqueue('resize_image', { upload: 'ghost.png', width: 120 });
    await worker.waitForOutput(/worker started/, 45_000);
    const line = outcomeLine(id);
    // The same promise, handled now: the ghost check reads its outcome, this start does not fail on it.
    line.catch(() => undefined);
    ghost = { id, line, dead: line.then(() => jobs('dead'), () => '') };
    ghost.dead.catch(() => undefined);
    await line.catch(() => undefined); // the folder goes away only after the ghost's resize ran
  });
  afterAll(async () => {
    await stopAll();
    await client.close();
  });

  /** jobs runs `node --import tsx workshop/run.ts jobs 9 <args>` and returns what it printed. */
  async function jobs(...args: string[]): Promise<string> {
    const child = startProcess('jobs', env, args);
    const { code } = await child.exited;
    if (code !== 0) throw new Error(`jobs ${args.join(' ')} should succeed; it printed:\n${child.output()}`);
    return child.output();
  }

  /** outcomeLine waits for the worker's first "failed", "dead" or "done" line about the job, and returns it as a terminal shows it. */
  async function outcomeLine(id: string, outcomes = 'failed|dead|done'): Promise<string> {
    const line = await worker.waitForOutput(new RegExp(`[^\\n]*"job":"${id}"[^\\n]*"msg":"job (${outcomes})[^\\n]*`), 20_000);
    return formatLogLines([line]);
  }

  it('retries the resize while the uploads folder is away, and finishes it once it is back (TODO 2)', { timeout: 90_000 }, async () => {
    await endToEnd();
    let id: string | undefined;
    explainOutput(worker, 'your worker wrote');
    explainJob(client.queue('default'), () => id);

    renameSync(uploadsDir, join(root, 'uploads.off')); // mv uploads uploads.off
    try {
      ({ id } = await client.enqueue('resize_image', { upload: 'sample.png', width: 120 }));
      const first = await outcomeLine(id);
      expect(first, 'with storage down, your worker should log "job failed (attempt 1 of 26), retrying at …" and keep the job').toMatch(/job failed \(attempt 1 of 26\), retrying at/);

      const shown = await jobs('show', 'default', id);
      explain('jobs show default <id> printed', () => shown);
      expect(shown, 'the job should wait for its next retry (scheduled), not be dead').toMatch(/^state\s+scheduled$/m);
      expect(shown, 'the job should carry the last error: storage is unavailable').toMatch(/^last error\s+uploads storage is unavailable/m);
      expect(shown, 'jobs show should say when the next retry is due').toMatch(/^due\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in .+\)$/m);
    } finally {
      renameSync(join(root, 'uploads.off'), uploadsDir); // mv uploads.off uploads
    }

    await retryNow(client.queue('default'), id!); // as if its backoff were over
    const last = await outcomeLine(id!, 'done|dead');
    expect(last, 'once storage is back, the next retry should finish the job').toMatch(/job done/);
    const resized = await sharp(join(uploadsDir, 'sample-w120.png')).metadata();
    expect(resized.width, 'uploads/sample-w120.png should be 120 pixels wide').toBe(120);
  });

  it('kills the resize of a file that does not exist at once: `jobs dead` lists it (TODO 3)', { timeout: 60_000 }, async () => {
    await endToEnd();
    explainOutput(worker, 'your worker wrote');

    const line = await ghost.line;
    expect(line, 'no retry brings ghost.png back: your worker should log "job dead after 1 of 26 attempts: …", naming the file').toMatch(/job dead after 1 of 26 attempts: .*ghost\.png/);

    const dead = await ghost.dead;
    explain('jobs dead printed', () => dead);
    expect(dead, `jobs dead should list job ${ghost.id}, with its error`).toMatch(new RegExp(`^${ghost.id}\\s+default\\s+resize_image\\s+1\\s.*ghost\\.png`, 'm'));
  });
});
