// Mail jobs per second through a real worker process (`npm run worker`):
// send_birthday_email jobs, each one email to the SMTP server at smtpUrl. Run
// that server in a process of its own, so its work is not counted here.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/database.ts';
import { seed } from '../src/db/seed.ts';
import { JobsClient } from '../src/jobs/client.ts';
import { startNode } from './child.ts';

export interface MailRun {
  /** The Redis the jobs go through, e.g. redis://127.0.0.1:6390. */
  redisUrl: string;
  /** The SMTP server the worker sends to, e.g. smtp://127.0.0.1:1025; a mail catcher in another process. */
  smtpUrl: string;
  /** QUEUE_PREFIX of this run; give each run its own. */
  prefix: string;
  /** How many send_birthday_email jobs, all for user 1. Default 2,000. */
  jobs?: number;
  /**
   * The checkout whose worker runs (its src/cmd/worker.ts and src/mail/mailer.ts),
   * e.g. a `git worktree` of an older commit, with node_modules linked in.
   * Default: this repository.
   */
  root?: string;
}

const POLL_MS = 10;

/**
 * mailJobsPerSecond queues the jobs while their queue is paused, starts the
 * worker, and once it says "worker started" resumes the queue and times it
 * until no job is left. It throws if any job failed or waits for a retry:
 * then the mail server refused some email, and the number would mean nothing.
 */
export async function mailJobsPerSecond(run: MailRun): Promise<number> {
  const jobs = run.jobs ?? 2_000;
  // The worker finds user 1 in this database; outside production the API seeds it.
  const dir = await mkdtemp(join(tmpdir(), 'bench-mail-'));
  const databasePath = join(dir, 'shop.db');
  const db = openDatabase(databasePath);
  seed(db);
  db.close();

  const client = new JobsClient({ url: run.redisUrl }, { prefix: run.prefix });
  const queue = client.queue('default');
  await queue.pause();
  for (let i = 0; i < jobs; i += 500) {
    const batch = Array.from({ length: Math.min(500, jobs - i) }, () => ({
      name: 'send_birthday_email',
      data: { user_id: 1 },
      opts: client.jobOptions(),
    }));
    await queue.addBulk(batch);
  }

  const worker = await startNode('src/cmd/worker.ts', {
    REDIS_URL: run.redisUrl,
    SMTP_URL: run.smtpUrl,
    QUEUE_PREFIX: run.prefix,
    DATABASE_PATH: databasePath,
    UPLOADS_DIR: join(dir, 'uploads'),
    LOG_LEVEL: 'info',
  }, /worker started/, { cwd: run.root });
  try {
    const startedAt = performance.now();
    await queue.resume();
    for (;;) {
      const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
      if (counts.delayed || counts.failed) throw new Error(`${counts.delayed} jobs wait for a retry and ${counts.failed} failed`);
      if (!counts.wait && !counts.prioritized && !counts.active) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return jobs / ((performance.now() - startedAt) / 1000);
  } finally {
    await worker.stop();
    await queue.obliterate({ force: true });
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
}
