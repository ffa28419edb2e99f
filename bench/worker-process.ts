// The worker as users run it: `npm run worker`, a process of its own, against a
// bare BullMQ Worker process on the same jobs. Each process starts once and
// says it is ready; for each batch, the jobs are queued while its queue is
// paused, then the queue is resumed and timed until every job is done.
// startWorkers and runBatch are the two halves, for benchmarks that start
// several processes of a kind side by side and time several batches on them
// (bench/worker-scaling.ts).
//
// Alone: node --import tsx bench/worker-process.ts [--rounds 8] [--jobs 10000]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConnectionOptions, Queue } from 'bullmq';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { JobsClient } from '../src/jobs/client.ts';
import { startNode, type Child, type NodeOptions } from './child.ts';
import { atLeast, mark, perSecond, ratio, type GoalRow } from './format.ts';
import { machineLoad } from './learner-loop.ts';
import { startMailCatcherProcess } from './mail-catcher.ts';
import { median } from './median.ts';
import { cpuMs, machineBusyMs, monotonicUs } from './process-cpu.ts';
import { arg } from './arg.ts';

export interface WorkerRun {
  redisUrl: string;
  prefix: string;
  jobs: number;
  uploadsDir: string;
  databasePath: string;
  smtpUrl: string;
  /** How to start the process: node flags, and the folder to run it from. */
  node?: NodeOptions;
}

/** Which process takes the jobs: the workshop's worker, or the bare BullMQ baseline. */
export type WorkerKind = 'npm run worker' | 'raw BullMQ Worker';

export interface WorkerResult {
  jobsPerSecond: number;
  /** The CPU time per job of the worker processes together, in µs (undefined without /proc). */
  cpuUsPerJob: number | undefined;
  /** The CPU time Redis spent while the jobs ran, per job, in µs (undefined without /proc or a Redis pid). */
  redisCpuUsPerJob: number | undefined;
  /**
   * Cores kept busy while the jobs ran (CPU time over wall time): by the worker
   * processes, by Redis, and by every process on the machine, these and others.
   */
  cores: { workers: number | undefined; redis: number | undefined; machine: number | undefined };
  /** When the jobs ran, in monotonicUs(), to cut a CPU profile to them. */
  window: [number, number];
}

const POLL_MS = 10;

/** The worker's goal: at least `target` times a bare BullMQ Worker process's jobs/s, never below `floor`. */
export const WORKER_GOAL = { target: 1.0, floor: 0.9 };

/** The timed rounds of the worker's goal: about 1.5 s of work each. */
export const WORKER_ROUND = { rounds: 8, jobs: 10_000 };

/** The jobs each process runs before the timed rounds, untimed: its code is compiled by then. */
export const WORKER_WARM_UP_JOBS = 2_000;

/**
 * workerProcessRounds starts one process of each kind, each on a prefix of its
 * own, and keeps both up for every round, as a deploy keeps a worker up for
 * hours: each first runs WORKER_WARM_UP_JOBS jobs, untimed, then `rounds`
 * times the same batch, the two taking turns (the one that goes first
 * alternates) while the other waits in its blocking fetch. It prints the
 * median of the rounds' ratios against the goal, and the CPU time per job,
 * and returns the goal's row.
 *
 * Why many rounds on processes kept up, not a fresh process each round: on
 * a shared machine the rate of either kind drifts by a third within a minute,
 * so one round's ratio is a noisy draw, and the median of more draws is
 * steadier. A fresh process also timed its own start-up compiling, which a
 * worker that runs for hours does not have.
 */
export async function workerProcessRounds(run: Omit<WorkerRun, 'prefix'>, prefix: () => string, rounds: number, print: (line: string) => void): Promise<GoalRow> {
  const kinds: WorkerKind[] = ['raw BullMQ Worker', 'npm run worker'];
  const rates: Record<WorkerKind, number[]> = { 'raw BullMQ Worker': [], 'npm run worker': [] };
  const cpu: Record<WorkerKind, number[]> = { 'raw BullMQ Worker': [], 'npm run worker': [] };
  const roundRatios: number[] = [];
  const started: Partial<Record<WorkerKind, Workers>> = {};
  try {
    for (const kind of kinds) {
      started[kind] = await startWorkers(kind, { ...run, prefix: prefix() }, 1);
      await started[kind].runBatch(WORKER_WARM_UP_JOBS);
    }
    for (let round = 0; round < rounds; round++) {
      for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
        const result = await started[kind]!.runBatch(run.jobs);
        rates[kind].push(result.jobsPerSecond);
        if (result.cpuUsPerJob !== undefined) cpu[kind].push(result.cpuUsPerJob);
      }
      roundRatios.push(rates['npm run worker'][round]! / rates['raw BullMQ Worker'][round]!);
    }
  } finally {
    await Promise.all(Object.values(started).map((workers) => workers.stop()));
  }
  const row = atLeast('worker process vs bare BullMQ Worker process, same jobs', median(roundRatios), WORKER_GOAL.target, WORKER_GOAL.floor);
  print(
    `  npm run worker vs raw BullMQ Worker process: ${row.value} the jobs/s ${mark(row)}` +
      ` (rounds: ${roundRatios.map(ratio).join(', ')}; medians ${perSecond(median(rates['npm run worker']), 'jobs')} vs ${perSecond(median(rates['raw BullMQ Worker']), 'jobs')})`,
  );
  if (cpu['npm run worker'].length > 0) {
    const [ours, raw] = [median(cpu['npm run worker']), median(cpu['raw BullMQ Worker'])];
    print(`  CPU time per job (user + system, median): ${ratio(ours / raw)} the raw worker's (${ours.toFixed(0)} µs vs ${raw.toFixed(0)} µs)`);
  }
  return row;
}

/** workerProcessRate runs `jobs` cleanup_uploads jobs through one worker process and measures it. */
export async function workerProcessRate(kind: WorkerKind, run: WorkerRun): Promise<WorkerResult> {
  const workers = await startWorkers(kind, run, 1);
  try {
    return await workers.runBatch(run.jobs);
  } finally {
    await workers.stop();
  }
}

/** Worker processes of one kind on one prefix, started and ready, sharing its `default` queue. */
export interface Workers {
  pids: number[];
  /**
   * runBatch queues `jobs` cleanup_uploads jobs while the queue is paused, then
   * resumes it and times it until every job is done. With redisPid, the CPU
   * time of Redis is measured too. A job that fails stops the benchmark.
   */
  runBatch(jobs: number, redisPid?: number): Promise<WorkerResult>;
  /** stop sends each process SIGTERM and resolves once all have exited. */
  stop(): Promise<void>;
}

/**
 * startWorkers starts `processes` processes of the kind side by side, as a
 * deploy would, on the run's prefix, and resolves once every one says it is
 * ready. Their queue is paused until a batch runs.
 */
export async function startWorkers(kind: WorkerKind, run: Omit<WorkerRun, 'jobs'>, processes: number): Promise<Workers> {
  const client = new JobsClient({ url: run.redisUrl } satisfies ConnectionOptions, { prefix: run.prefix });
  const queue = client.queue('default');
  await queue.pause();

  const env = { REDIS_URL: run.redisUrl, QUEUE_PREFIX: run.prefix, UPLOADS_DIR: run.uploadsDir };
  const start = () =>
    kind === 'npm run worker'
      ? startNode('src/cmd/worker.ts', { ...env, DATABASE_PATH: run.databasePath, SMTP_URL: run.smtpUrl, LOG_LEVEL: 'info' }, /worker started/, run.node)
      : startNode('bench/raw-worker.ts', env, /raw worker ready/, run.node);
  const starting = await Promise.allSettled(Array.from({ length: processes }, start));
  const children = starting.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(children.map((child) => child.stop()));
    await client.close();
  };
  const failed = starting.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop(); // should one fail to start, the others are stopped
    throw failed.reason;
  }
  const pids = children.map((child) => child.process.pid!);
  return { pids, runBatch: (jobs, redisPid) => runBatch(kind, client, queue, children, jobs, redisPid), stop };
}

async function runBatch(kind: WorkerKind, client: JobsClient, queue: Queue, children: Child[], jobs: number, redisPid: number | undefined): Promise<WorkerResult> {
  await queue.pause();
  for (let i = 0; i < jobs; i += 500) {
    const batch = Array.from({ length: Math.min(500, jobs - i) }, () => ({
      name: 'cleanup_uploads',
      data: {},
      opts: client.jobOptions(),
    }));
    await queue.addBulk(batch);
  }

  const pids = children.map((child) => child.process.pid);
  const cpuBefore = totalCpuMs(pids);
  const redisBefore = redisPid === undefined ? undefined : cpuMs(redisPid);
  const machineBefore = machineBusyMs();
  const from = monotonicUs();
  const startedAt = performance.now();
  await queue.resume();
  for (;;) {
    const { wait, prioritized, active, delayed, failed } = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
    // A failed attempt waits in `delayed` for its retry: none should fail here.
    if (delayed! + failed! > 0) throw new Error(`${kind}: jobs failed (${delayed} waiting to retry, ${failed} dead)`);
    if (wait! + prioritized! + active! === 0) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const wallMs = performance.now() - startedAt;
  const perWallMs = (ms: number | undefined) => (ms === undefined ? undefined : ms / wallMs);
  const cpu = difference(cpuBefore, totalCpuMs(pids));
  const redisCpu = redisPid === undefined ? undefined : difference(redisBefore, cpuMs(redisPid));
  const machineCpu = difference(machineBefore, machineBusyMs());
  return {
    jobsPerSecond: jobs / (wallMs / 1000),
    cpuUsPerJob: cpu === undefined ? undefined : (cpu * 1000) / jobs,
    redisCpuUsPerJob: redisCpu === undefined ? undefined : (redisCpu * 1000) / jobs,
    cores: { workers: perWallMs(cpu), redis: perWallMs(redisCpu), machine: perWallMs(machineCpu) },
    window: [from, monotonicUs()],
  };
}

/** The CPU time of the processes together, in ms, or undefined if /proc does not tell one of them. */
function totalCpuMs(pids: (number | undefined)[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

function difference(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after - before;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const jobs = Number(arg('--jobs') ?? WORKER_ROUND.jobs);
  const rounds = Number(arg('--rounds') ?? WORKER_ROUND.rounds);
  const port = await freePort();
  const work = await mkdtemp(join(tmpdir(), 'bench-worker-'));
  const redis = await startLocalRedis(port, join(work, 'redis'));
  const mail = await startMailCatcherProcess();
  let run = 0;
  try {
    const uploadsDir = join(work, 'uploads');
    await mkdir(uploadsDir);
    console.log(`Worker process: ${jobs} cleanup_uploads jobs on default, ${rounds} rounds interleaved after ${WORKER_WARM_UP_JOBS} to warm up; Redis ${redis.version}; ${machineLoad()}`);
    const options = { redisUrl: `redis://127.0.0.1:${port}`, jobs, uploadsDir, databasePath: join(work, 'worker.db'), smtpUrl: mail.smtpUrl };
    await workerProcessRounds(options, () => `worker-${run++}`, rounds, console.log);
    console.log(`  ${machineLoad()}`);
  } finally {
    await mail.stop();
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
}
