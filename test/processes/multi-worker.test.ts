// Scale out: three `npm run worker` processes on one Redis, every queue full.
// Together they must keep the 6:3:1 weights, run each job once, all take part,
// and each hold no more jobs than its slots plus one held job per queue.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { QUEUES, type QueueName } from '../../src/jobs/defaults.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { services } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { sleep, waitUntil } from '../support/wait.ts';

const PROCESSES = 3;
const PER_QUEUE = 600;
const TOTAL = PER_QUEUE * QUEUES.length;
/** Slots per process: WORKER_CONCURRENCY, set explicitly below. */
const CONCURRENCY = 10;
/**
 * A JobServer holds at most one job per queue beyond its slots: the blocking
 * fetch of a queue found empty (src/jobs/empty-queues.ts), or a slot's next
 * job fetched beside the result of its last (src/jobs/server.ts #process). So
 * a process never has more than CONCURRENCY + QUEUES.length jobs active.
 */
const HELD_BOUND = QUEUES.length;

const bed = jobsTestbed('multi-worker');
const redis = new Redis(services().redisUrl);
const tempDirs: string[] = [];
const tempDir = (label: string) => {
  const dir = mkdtempSync(join(tmpdir(), `jobs-multi-worker-${label}-`));
  tempDirs.push(dir);
  return dir;
};

afterAll(async () => {
  await stopAll();
  await bed.cleanup();
  redis.disconnect();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** One JSON log line of a worker process (pino). */
interface LogLine {
  msg: string;
  job?: string;
  queue?: QueueName;
  pid: number;
}

function logLines(worker: ChildScript): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of worker.output().split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      // not a log line
    }
  }
  return lines;
}

const key = (queue: string, id: string) => `${queue}:${id}`;

/**
 * Samples the active lists of the three queues in one MULTI (one instant in
 * Redis) until stopped, keeping every sample's job keys. A job a worker has
 * fetched, running or held for a free slot, is in its queue's active list.
 */
function sampleActive(prefix: string) {
  const samples: string[][] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const multi = redis.multi();
      for (const queue of QUEUES) multi.lrange(`${prefix}:${queue}:active`, 0, -1);
      const replies = (await multi.exec()) ?? [];
      samples.push(replies.flatMap(([err, ids], i) => (err ? [] : (ids as string[]).map((id) => key(QUEUES[i]!, id)))));
      await sleep(2);
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

const shares = (queues: QueueName[]) =>
  Object.fromEntries(QUEUES.map((q) => [q, queues.filter((x) => x === q).length / queues.length])) as Record<QueueName, number>;

describe('three worker processes on one Redis, every queue full', () => {
  it('serve the queues 6:3:1 together, run every job exactly once, each take a share, and hold at most concurrency + one job per queue', async () => {
    // Fill every queue while it is paused, so that no process starts early and takes the lot.
    const enqueued = new Set<string>();
    for (const queue of QUEUES) {
      const q = bed.client.queue(queue);
      await q.pause();
      const jobs = await q.addBulk(
        Array.from({ length: PER_QUEUE }, () => ({
          name: 'cleanup_uploads',
          data: {},
          // The app's options (26 attempts, backoff), but keep every completed job to read it back.
          opts: { ...bed.client.jobOptions(), removeOnComplete: false },
        })),
      );
      for (const job of jobs) enqueued.add(key(queue, job.id!));
    }
    expect(enqueued.size).toBe(TOTAL);

    // `npm run worker`, three times. cleanup_uploads lists an empty uploads folder: quick, and real.
    const uploadsDir = tempDir('uploads');
    const workers = Array.from({ length: PROCESSES }, (_, i) =>
      spawnScript(
        'src/cmd/worker.ts',
        {
          REDIS_URL: services().redisUrl,
          SMTP_URL: services().smtpUrl,
          QUEUE_PREFIX: bed.prefix,
          DATABASE_PATH: join(tempDir(`db-${i + 1}`), 'app.db'),
          UPLOADS_DIR: uploadsDir,
          WORKER_CONCURRENCY: String(CONCURRENCY),
          LOG_LEVEL: 'info',
        },
        `worker-${i + 1}`,
      ),
    );
    await Promise.all(workers.map((worker) => worker.waitForOutput(/worker started/, 60_000)));

    const sampler = sampleActive(bed.prefix);
    try {
      await Promise.all(QUEUES.map((queue) => bed.client.queue(queue).resume()));
      await waitUntil(
        `all ${TOTAL} jobs to finish`,
        async () => {
          const counts = await Promise.all(QUEUES.map((queue) => bed.client.queue(queue).getJobCounts('completed', 'failed', 'delayed')));
          const failed = counts.reduce((sum, c) => sum + c.failed! + c.delayed!, 0);
          if (failed > 0) throw new Error(`${failed} jobs failed: ${JSON.stringify(counts)}`);
          return counts.reduce((sum, c) => sum + c.completed!, 0) === TOTAL;
        },
        60_000,
      );
    } finally {
      await sampler.stop();
    }

    // Stop the workers, so that every log line is written, and read their logs.
    for (const worker of workers) worker.kill('SIGTERM');
    for (const worker of workers) expect(await worker.exited).toEqual({ code: 0, signal: null });
    const logs = workers.map(logLines);

    // Every job completed, on its first attempt, started once.
    const completed: Job[] = [];
    for (const queue of QUEUES) {
      const q = bed.client.queue(queue);
      expect(await q.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed')).toEqual({
        wait: 0,
        prioritized: 0,
        active: 0,
        delayed: 0,
        failed: 0,
      });
      completed.push(...(await q.getJobs(['completed'], 0, -1)));
    }
    expect(new Set(completed.map((job) => key(job.queueName, job.id!)))).toEqual(enqueued);
    const retried = completed.filter((job) => job.attemptsMade !== 1 || job.attemptsStarted !== 1);
    expect(retried.map((job) => `${key(job.queueName, job.id!)} made ${job.attemptsMade}, started ${job.attemptsStarted}`)).toEqual([]);

    // The logs agree: across the three processes, each job has exactly one `job started` line.
    const startedBy = new Map<string, number>(); // job -> index of the worker that ran it
    const duplicates: string[] = [];
    logs.forEach((lines, worker) => {
      for (const line of lines) {
        if (line.msg !== 'job started') continue;
        const jobKey = key(line.queue!, line.job!);
        if (startedBy.has(jobKey)) duplicates.push(`${jobKey} on worker ${startedBy.get(jobKey)! + 1} and ${worker + 1}`);
        startedBy.set(jobKey, worker);
      }
    });
    expect(duplicates).toEqual([]);
    expect(new Set(startedBy.keys())).toEqual(enqueued);

    // Each process took part: a fair share is a third; none may be near zero.
    const perProcess = workers.map((_, i) => [...startedBy.values()].filter((w) => w === i).length);
    console.log(`[multi-worker] jobs per process: ${perProcess.join(', ')} of ${TOTAL}`);
    for (const count of perProcess) expect(count).toBeGreaterThan(TOTAL * 0.1);

    // The weights, over every process together, while every queue still had work:
    // order the starts by processedOn and cut where the first queue ran out.
    const byStart = [...completed].sort((a, b) => a.processedOn! - b.processedOn!);
    const lastStart = Object.fromEntries(QUEUES.map((q) => [q, 0])) as Record<QueueName, number>;
    for (const job of byStart) lastStart[job.queueName as QueueName] = job.processedOn!;
    const firstEmptied = Math.min(...Object.values(lastStart));
    const window = byStart.filter((job) => job.processedOn! < firstEmptied).map((job) => job.queueName as QueueName);
    const measured = shares(window);
    console.log(`[multi-worker] shares over the first ${window.length} starts (every queue still had work): ${JSON.stringify(measured)}`);
    // 6:3:1 would exhaust critical after about PER_QUEUE / 0.6 starts. A 1:1:1 split would
    // put critical near 1/3 over a window of nearly every job; strict priority (FIFO by
    // queue) near 1. Each bound is several standard deviations from 0.6, 0.3 and 0.1.
    expect(measured.critical).toBeGreaterThan(0.5);
    expect(measured.critical).toBeLessThan(0.7);
    expect(measured.default).toBeGreaterThan(0.2);
    expect(measured.default).toBeLessThan(0.4);
    expect(measured.low).toBeGreaterThan(0.04);
    expect(measured.low).toBeLessThan(0.17);
    expect(window.length).toBeGreaterThan(PER_QUEUE); // a window that says something

    // No process ever ran more than CONCURRENCY jobs at once (its `job started` and `job done` lines) ...
    const maxRunning = logs.map((lines) => {
      let running = 0;
      let max = 0;
      for (const line of lines) {
        if (line.msg === 'job started') max = Math.max(max, ++running);
        else if (line.msg.startsWith('job done')) running--;
      }
      return max;
    });
    console.log(`[multi-worker] most jobs running at once, per process: ${maxRunning.join(', ')}`);
    for (const max of maxRunning) expect(max).toBeLessThanOrEqual(CONCURRENCY);

    // ... and none ever had more than CONCURRENCY + HELD_BOUND jobs active in Redis.
    const unknown = new Set<string>();
    const peakActive = workers.map(() => 0);
    let peakTotal = 0;
    for (const sample of sampler.samples) {
      const perWorker = workers.map(() => 0);
      for (const jobKey of sample) {
        const worker = startedBy.get(jobKey);
        if (worker === undefined) unknown.add(jobKey);
        else perWorker[worker]!++;
      }
      perWorker.forEach((n, i) => (peakActive[i] = Math.max(peakActive[i]!, n)));
      peakTotal = Math.max(peakTotal, sample.length);
    }
    console.log(
      `[multi-worker] ${sampler.samples.length} samples of the active lists; peak active per process: ${peakActive.join(', ')} (bound ${CONCURRENCY + HELD_BOUND}); all together: ${peakTotal} (bound ${PROCESSES * (CONCURRENCY + HELD_BOUND)})`,
    );
    expect([...unknown]).toEqual([]);
    expect(sampler.samples.some((sample) => sample.length > 0)).toBe(true);
    for (const peak of peakActive) expect(peak).toBeLessThanOrEqual(CONCURRENCY + HELD_BOUND);
    expect(peakTotal).toBeLessThanOrEqual(PROCESSES * (CONCURRENCY + HELD_BOUND));
  }, 180_000);
});
