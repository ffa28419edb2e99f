// The JobServer with its default weights (critical 6, default 3, low 1) when
// only some queues have work: a slot should not wait on the empty ones, so
// `low` alone should drain about as fast as `critical` alone. And when all
// three have work, a slot that moves from one queue to another should cost no
// more than one that stays: all three busy should run about as fast as one.
//
// Alone: node --import tsx bench/busy-queues.ts [--rounds 5] [--jobs 20000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConnectionOptions } from 'bullmq';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { DEFAULT_QUEUE_WEIGHTS, type QueueName } from '../src/jobs/defaults.ts';
import { atLeast, mark, perSecond, ratio } from './format.ts';
import { machineLoad } from './learner-loop.ts';
import { median } from './median.ts';
import { jobServer } from './throughput.ts';
import { arg } from './arg.ts';

/** busyQueuesRate fills `busy` in turn with `jobs` no-op jobs in all, runs them with concurrency 10, and returns jobs per second. */
export async function busyQueuesRate(connection: ConnectionOptions, prefix: string, jobs: number, busy: QueueName[]): Promise<number> {
  const ms = await jobServer(busy, DEFAULT_QUEUE_WEIGHTS)(connection, prefix, jobs, 10);
  return jobs / (ms / 1000);
}

/** BUSY_GOAL: `low` alone, and all three queues busy, should each run at least this ratio of `critical` alone. */
export const BUSY_GOAL = 0.95;

/**
 * The timed rounds of the goal, in `npm run bench` and alone: about 2 s of
 * work each. A run of 5,000 took under a second and measured the warm-up as
 * much as the rate.
 */
export const BUSY_ROUND = { rounds: 5, jobs: 20_000 };

/** The medians of busyQueuesRounds: each ratio is taken within a round, against that round's `critical` alone. */
export interface BusyQueuesRatios {
  lowOnly: number;
  allThree: number;
  /** jobs/s with only `critical` busy, the median of the rounds. */
  criticalAlone: number;
}

/**
 * busyQueuesRounds runs `low` alone, `critical` alone and all three busy, in
 * turn, `rounds` times, each kind first in turn, after one untimed run of
 * each; `onRound` hears each round's rates as it ends.
 */
export async function busyQueuesRounds(
  connection: ConnectionOptions,
  prefix: () => string,
  jobs: number,
  rounds: number,
  onRound: (round: { low: number; critical: number; all: number }) => void = () => {},
): Promise<BusyQueuesRatios> {
  const busy = { low: [] as number[], critical: [] as number[], all: [] as number[] };
  const kinds: [keyof typeof busy, QueueName[]][] = [
    ['low', ['low']],
    ['critical', ['critical']],
    ['all', ['critical', 'default', 'low']],
  ];
  // Untimed: the first runs in a process are the slower (low alone against
  // critical alone came out at 0.83x to 0.89x in the first round, 1.02x to
  // 1.06x in the next two).
  for (const [, queues] of kinds) await busyQueuesRate(connection, prefix(), jobs, queues);
  for (let round = 0; round < rounds; round++) {
    // Whichever runs first in a round ran about a tenth slower (low alone
    // against critical alone: 0.85x first, 0.98x last): each goes first in turn.
    const rate = {} as Record<keyof typeof busy, number>;
    for (let i = 0; i < kinds.length; i++) {
      const [kind, queues] = kinds[(round + i) % kinds.length]!;
      busy[kind].push((rate[kind] = await busyQueuesRate(connection, prefix(), jobs, queues)));
    }
    onRound(rate);
  }
  return {
    lowOnly: median(busy.low.map((low, i) => low / busy.critical[i]!)),
    allThree: median(busy.all.map((all, i) => all / busy.critical[i]!)),
    criticalAlone: median(busy.critical),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const jobs = Number(arg('--jobs') ?? BUSY_ROUND.jobs);
  const rounds = Number(arg('--rounds') ?? BUSY_ROUND.rounds);
  const port = await freePort();
  const work = await mkdtemp(join(tmpdir(), 'bench-busy-'));
  const redis = await startLocalRedis(port, join(work, 'redis'));
  const connection = { url: `redis://127.0.0.1:${port}` };
  let run = 0;
  try {
    console.log(`Busy and empty queues: JobServer, weights 6:3:1, ${jobs} no-op jobs, ${rounds} rounds after a warm-up, interleaved; Redis ${redis.version}; ${machineLoad()}`);
    let round = 0;
    const { lowOnly, allThree } = await busyQueuesRounds(connection, () => `busy-${run++}`, jobs, rounds, ({ low, critical, all }) =>
      console.log(`  round ${++round}: low ${ratio(low / critical)}, all three ${ratio(all / critical)} (critical alone ${perSecond(critical, 'jobs')})`),
    );
    for (const [label, value] of [['only low busy   ', lowOnly], ['all three busy  ', allThree]] as const) {
      const row = atLeast(label, value, BUSY_GOAL);
      console.log(`  ${label} vs only critical busy: ${row.value} the jobs/s ${mark(row)}`);
    }
    console.log(`  ${machineLoad()}`);
  } finally {
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
}
