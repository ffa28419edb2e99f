// Scaling out: 1, 2 and 4 worker processes (`npm run worker`, src/cmd/worker.ts)
// sharing one queue on one Redis, each count beside the same number of bare
// BullMQ Worker processes (bench/raw-worker.ts) on the same job set, in the
// same run. Printed as ratios: ours against raw at each count, and each kind
// at 2 and 4 processes against itself at 1.
//
// For each count, both groups of processes start side by side and stay up: a
// warm-up batch on each (not timed), then `rounds` batches, the two kinds
// taking turns, on the same Redis. The group that is not running a batch waits
// in blocking fetches. Processes that stay up are measured warm, as a deployed
// worker runs, and only one start per group is paid.
//
// `npm run bench` runs it as one of its sections; on its own:
//   node --import tsx bench/worker-scaling.ts [--jobs N] [--rounds N] [--counts 1,2,4]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { perSecond, ratio } from './format.ts';
import { startMailCatcherProcess } from './mail-catcher.ts';
import { median } from './median.ts';
import { startWorkers, type WorkerKind, type WorkerResult, type Workers } from './worker-process.ts';
import { arg } from './arg.ts';

export interface ScalingOptions {
  redisUrl: string;
  /** A fresh BullMQ prefix for each group of processes. */
  prefix: () => string;
  /** Jobs per timed batch. */
  jobs: number;
  /** Jobs in the warm-up batch of each group, not timed. */
  warmupJobs: number;
  /** Timed batches per kind and count. */
  rounds: number;
  /** How many processes of each kind, in order. The first is the base of the scaling ratios. */
  counts: number[];
  uploadsDir: string;
  databasePath: string;
  smtpUrl: string;
}

/** What one count measured: each round's pair of batches. */
export interface CountResult {
  rounds: Record<WorkerKind, WorkerResult>[];
}

export type ScalingResults = Map<number, CountResult>;

const OURS: WorkerKind = 'npm run worker';
const RAW: WorkerKind = 'raw BullMQ Worker';

/** workerScaling measures each count in turn; see the top of this file. */
export async function workerScaling(opts: ScalingOptions): Promise<ScalingResults> {
  const redisPid = await redisProcessId(opts.redisUrl);
  const results: ScalingResults = new Map();
  for (const processes of opts.counts) {
    const groups = await startGroups(opts, processes);
    try {
      for (const kind of [RAW, OURS]) await groups[kind].runBatch(opts.warmupJobs);
      const rounds: CountResult['rounds'] = [];
      for (let round = 0; round < opts.rounds; round++) {
        const pair = {} as Record<WorkerKind, WorkerResult>;
        // Take turns going first, so that a drift of the machine's speed does not always favour one kind.
        for (const kind of round % 2 === 0 ? [RAW, OURS] : [OURS, RAW]) pair[kind] = await groups[kind].runBatch(opts.jobs, redisPid);
        rounds.push(pair);
      }
      results.set(processes, { rounds });
    } finally {
      await Promise.all(Object.values(groups).map((group) => group.stop()));
    }
  }
  return results;
}

/** Both kinds' processes for one count, each group on a prefix of its own. */
async function startGroups(opts: ScalingOptions, processes: number): Promise<Record<WorkerKind, Workers>> {
  const run = { redisUrl: opts.redisUrl, uploadsDir: opts.uploadsDir, databasePath: opts.databasePath, smtpUrl: opts.smtpUrl };
  const start = (kind: WorkerKind) => startWorkers(kind, { ...run, prefix: opts.prefix() }, processes);
  const [raw, ours] = await Promise.allSettled([start(RAW), start(OURS)]);
  if (raw.status === 'fulfilled' && ours.status === 'fulfilled') return { [RAW]: raw.value, [OURS]: ours.value } as Record<WorkerKind, Workers>;
  // One group failed to start: stop the other, and report the failure.
  for (const group of [raw, ours]) if (group.status === 'fulfilled') await group.value.stop();
  throw [raw, ours].flatMap((group) => (group.status === 'rejected' ? [group.reason as Error] : []))[0];
}

/** scalingLines prints the results: ratios first, then the jobs/s and where the CPU went. */
export function scalingLines(results: ScalingResults): string[] {
  const rates = (n: number, kind: WorkerKind) => results.get(n)!.rounds.map((pair) => pair[kind].jobsPerSecond);
  const [base, ...more] = [...results.keys()];
  const lines: string[] = [];
  for (const [n, { rounds }] of results) {
    const roundRatios = rounds.map((pair) => pair[OURS].jobsPerSecond / pair[RAW].jobsPerSecond);
    const label = `${n} process${n === 1 ? '  ' : 'es'}`;
    lines.push(
      `  ${label}: npm run worker vs raw BullMQ Worker: ${ratio(median(roundRatios))} the jobs/s` +
        ` (rounds: ${roundRatios.map(ratio).join(', ')}; medians ${perSecond(median(rates(n, OURS)), 'jobs')} vs ${perSecond(median(rates(n, RAW)), 'jobs')})`,
    );
    lines.push(`               ${cpuText(rounds)}`);
  }
  for (const n of more) {
    const scale = (kind: WorkerKind) => ratio(median(rates(n, kind)) / median(rates(base!, kind)));
    lines.push(`  ${n} vs ${base} processes: npm run worker ${scale(OURS)} the jobs/s, raw BullMQ Worker ${scale(RAW)} (${ratio(n / base!)} would be linear)`);
  }
  return lines;
}

/** Where the CPU went, medians over the rounds: cores kept busy by the workers, by Redis and by the whole machine; CPU per job. */
function cpuText(rounds: Record<WorkerKind, WorkerResult>[]): string {
  const med = (kind: WorkerKind, pick: (result: WorkerResult) => number | undefined) => {
    const values = rounds.map((pair) => pick(pair[kind])).filter((value): value is number => value !== undefined);
    return values.length === rounds.length ? median(values) : undefined;
  };
  const fixed = (value: number | undefined, digits: number, unit = '') => (value === undefined ? 'n/a' : `${value.toFixed(digits)}${unit}`);
  const cores = (kind: WorkerKind) =>
    `${fixed(med(kind, (r) => r.cores.workers), 2)} + ${fixed(med(kind, (r) => r.cores.redis), 2)} of ${fixed(med(kind, (r) => r.cores.machine), 2)}`;
  const perJob = (kind: WorkerKind) => `${fixed(med(kind, (r) => r.cpuUsPerJob), 0, ' µs')} + ${fixed(med(kind, (r) => r.redisCpuUsPerJob), 0, ' µs')}`;
  return `cores busy (workers + Redis of the whole machine): ours ${cores(OURS)}, raw ${cores(RAW)}; CPU per job (workers + Redis): ours ${perJob(OURS)}, raw ${perJob(RAW)}`;
}

/** The pid of the Redis server behind the URL, from INFO (undefined if it does not say). */
async function redisProcessId(redisUrl: string): Promise<number | undefined> {
  const redis = new Redis(redisUrl);
  try {
    const match = /^process_id:(\d+)/m.exec(await redis.info('server'));
    return match ? Number(match[1]) : undefined;
  } finally {
    redis.disconnect();
  }
}

/** The section's title, for `npm run bench` and for the script alone. */
export function scalingTitle(opts: Pick<ScalingOptions, 'jobs' | 'rounds' | 'counts'>): string {
  return (
    `Scaling out: ${opts.counts.join(', ')} worker processes sharing ${opts.jobs} cleanup_uploads jobs on default, each count beside as many` +
    ` raw BullMQ Worker processes, concurrency 10 each, on ${cpus().length} cores (${opts.rounds} rounds after a warm-up, interleaved)`
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const jobs = Number(arg('--jobs') ?? 5_000);
  const rounds = Number(arg('--rounds') ?? 3);
  const counts = (arg('--counts') ?? '1,2,4').split(',').map(Number);
  const port = await freePort();
  const work = await mkdtemp(join(tmpdir(), 'bench-scaling-'));
  const redis = await startLocalRedis(port, join(work, 'redis'));
  const mail = await startMailCatcherProcess();
  const startedAt = performance.now();
  try {
    await mkdir(join(work, 'uploads'));
    let run = 0;
    console.log(`Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; Node ${process.version}; Redis ${redis.version}`);
    console.log(scalingTitle({ jobs, rounds, counts }));
    const results = await workerScaling({
      redisUrl: `redis://127.0.0.1:${port}`,
      prefix: () => `scaling-${run++}`,
      jobs,
      warmupJobs: 1_000,
      rounds,
      counts,
      uploadsDir: join(work, 'uploads'),
      databasePath: join(work, 'worker.db'),
      smtpUrl: mail.smtpUrl,
    });
    for (const line of scalingLines(results)) console.log(line);
    console.log(`Done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  } finally {
    await mail.stop();
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
}
