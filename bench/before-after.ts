// node --import tsx bench/before-after.ts: the fixes that came out of profiling,
// measured before and after in one run. "Before" is a copy of the app with the
// fixed files as in git's HEAD (see before-tree.ts); both run against the same
// Redis, interleaved, each as a ratio to the bare baseline of the same round.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { apiLoad } from './api-load.ts';
import { beforeTree } from './before-tree.ts';
import { cpuLine, loadLine, perSecond, ratio } from './format.ts';
import { startMailCatcherProcess } from './mail-catcher.ts';
import { median } from './median.ts';
import { workerProcessRate } from './worker-process.ts';
import { arg } from './arg.ts';

/** The app files that the profile's fixes may touch. */
const FIXED_FILES = ['src/logger.ts', 'src/log-secrets.ts', 'src/jobs/job-log.ts', 'src/jobs/redis-errors.ts', 'src/db', 'src/api'];
/** `--only worker` or `--only api` runs one half. */
const only = arg('--only');
const JOBS = 5_000;
const ROUNDS = 3;
const LOAD_SECONDS = 4;

const port = await freePort();
const work = await mkdtemp(join(tmpdir(), 'bench-before-after-'));
const redis = await startLocalRedis(port, join(work, 'redis'));
const redisUrl = `redis://127.0.0.1:${port}`;
const mail = await startMailCatcherProcess();
const before = await beforeTree(FIXED_FILES);
const trees = { before: before.dir, after: undefined };
let run = 0;
const prefix = () => `before-after-${run++}`;
try {
  console.log(`"Before" puts back: ${before.restored.join(', ') || '(nothing: no fix yet)'}`);

  if (only !== 'api') await workerBeforeAfter();
  if (only !== 'worker') await apiBeforeAfter();
} finally {
  await mail.stop();
  await redis.stop();
  await rm(work, { recursive: true, force: true });
  await rm(before.dir, { recursive: true, force: true });
}

async function workerBeforeAfter() {
  const uploadsDir = join(work, 'uploads');
  await mkdir(uploadsDir, { recursive: true });
  console.log(`Worker process, ${JOBS} cleanup_uploads jobs, ${ROUNDS} rounds: jobs/s as a ratio to the raw BullMQ Worker process of the same round`);
  const ratios = { before: [] as number[], after: [] as number[] };
  const cpuRatios = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const options = { redisUrl, jobs: JOBS, uploadsDir, databasePath: join(work, 'worker.db'), smtpUrl: mail.smtpUrl };
    const raw = await workerProcessRate('raw BullMQ Worker', { ...options, prefix: prefix() });
    const cpu: string[] = [];
    for (const [name, cwd] of Object.entries(trees) as [keyof typeof trees, string | undefined][]) {
      const ours = await workerProcessRate('npm run worker', { ...options, prefix: prefix(), node: { cwd } });
      ratios[name].push(ours.jobsPerSecond / raw.jobsPerSecond);
      if (ours.cpuUsPerJob !== undefined && raw.cpuUsPerJob !== undefined) {
        cpuRatios[name].push(ours.cpuUsPerJob / raw.cpuUsPerJob);
        cpu.push(`${name} ${ours.cpuUsPerJob.toFixed(0)} µs`);
      }
    }
    console.log(
      `  round ${round + 1}: raw ${perSecond(raw.jobsPerSecond, 'jobs')}; before ${ratio(ratios.before.at(-1)!)}, after ${ratio(ratios.after.at(-1)!)};` +
        ` CPU per job: raw ${raw.cpuUsPerJob?.toFixed(0)} µs, ${cpu.join(', ')}`,
    );
  }
  console.log(`  median: before ${ratio(median(ratios.before))}, after ${ratio(median(ratios.after))} the raw worker's jobs/s`);
  if (cpuRatios.after.length > 0) {
    console.log(`  CPU per job, median: before ${ratio(median(cpuRatios.before))}, after ${ratio(median(cpuRatios.after))} the raw worker's`);
  }

}

async function apiBeforeAfter() {
  console.log(`API process under load, ${LOAD_SECONDS} s per route (each tree its own fresh SQLite file)`);
  for (const [name, cwd] of Object.entries(trees) as [keyof typeof trees, string | undefined][]) {
    const { results, outboxBacklog } = await apiLoad({ redisUrl, prefix: prefix(), connections: [10, 50], seconds: LOAD_SECONDS, node: { cwd } });
    for (const [connections, byRoute] of results) {
      const { empty, rawAdd, birthday, orders } = byRoute as Required<typeof byRoute>;
      console.log(`  ${name}, ${connections} connections:`);
      console.log(`    ${loadLine('GET /healthz', empty)}`);
      console.log(`    ${loadLine('raw queue.add', rawAdd)}`);
      console.log(`    ${loadLine('POST /api/dev/send-birthday/1', birthday)}  ${ratio(birthday.rps / rawAdd.rps)} raw`);
      console.log(`    ${loadLine('POST /api/orders', orders)}  ${ratio(orders.rps / empty.rps)} empty; outbox backlog ${outboxBacklog.get(connections)?.rows}`);
      console.log(`    CPU per request: ${cpuLine({ empty, rawAdd, birthday, orders })}`);
    }
  }
}
