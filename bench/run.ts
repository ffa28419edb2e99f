// npm run bench: ratios measured in one run on this machine, never bare times.
// It starts a Redis of its own on a free port, so it touches no other data, and
// a mail catcher in a process of its own. BENCHMARKS.md explains each part.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { API_GOALS, API_ROUNDS, apiGoals, apiLoad, apiLoadLines } from './api-load.ts';
import { BUSY_GOAL, BUSY_ROUND, busyQueuesRounds } from './busy-queues.ts';
import { routeLatencies } from './enqueue-route.ts';
import { atLeast, goal, goalLines, mark, ms, perSecond, ratio, seconds, type GoalRow } from './format.ts';
import { startMailCatcherProcess } from './mail-catcher.ts';
import { median } from './median.ts';
import { jobServerPickup, rawBullmqPickup } from './pickup.ts';
import { jobServer, rawBullmq } from './throughput.ts';
import { learnerLoop, machineLoad } from './learner-loop.ts';
import { drainLine, relayLines, relayThroughput, relayTitle } from './relay.ts';
import { EXERCISES } from '../workshop/manifest.ts';
import { WORKER_ROUND, WORKER_WARM_UP_JOBS, workerProcessRounds } from './worker-process.ts';
import { scalingLines, scalingTitle, workerScaling } from './worker-scaling.ts';

const JOBS = 5_000;
const CONCURRENCY = 10;
const SCALING = { counts: [1, 2, 4], jobs: 5_000, warmupJobs: 1_000, rounds: 3 };
const PICKUP_ROUNDS = 50;
const REQUESTS = 500;
const RELAY = { rows: 20_000, rounds: 5 };
const LOAD_CONNECTIONS = [API_GOALS.p99Connections, API_GOALS.vsRawConnections];
const LOAD_SECONDS = 4;
const VERDICT_ROUNDS = 3;

const port = await freePort();
const work = await mkdtemp(join(tmpdir(), 'bench-'));
const redis = await startLocalRedis(port, join(work, 'redis'));
const redisUrl = `redis://127.0.0.1:${port}`;
const connection = { url: redisUrl };
const mail = await startMailCatcherProcess();
let run = 0;
const prefix = () => `bench-${run++}`;
const section = (title: string) => {
  console.log(`${title}  [${seconds(performance.now() - benchStart)} into the run]`);
};
const benchStart = performance.now();
/** The goals, rated as the sections run, printed together at the end. */
const goals: GoalRow[] = [];

try {
  console.log(`Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; Node ${process.version}; Redis ${redis.version}; ${machineLoad()}`);
  console.log(`Throughput in this process: ${JOBS} no-op jobs, ${CONCURRENCY} at once`);
  const raw = await rawBullmq(connection, prefix(), JOBS, CONCURRENCY);
  const oneQueue = await jobServer(['default'])(connection, prefix(), JOBS, CONCURRENCY);
  const threeQueues = await jobServer(['critical', 'default', 'low'])(connection, prefix(), JOBS, CONCURRENCY);
  console.log(`  JobServer, 1 queue   vs raw BullMQ Worker: ${ratio(raw / oneQueue)} the throughput (${ms(oneQueue)} vs ${ms(raw)})`);
  console.log(`  JobServer, 3 queues  vs raw BullMQ Worker: ${ratio(raw / threeQueues)} the throughput (${ms(threeQueues)} vs ${ms(raw)})`);

  section(`Worker process: ${WORKER_ROUND.jobs} cleanup_uploads jobs on default, concurrency 10, output to a pipe (${WORKER_ROUND.rounds} rounds, interleaved, on processes kept up after ${WORKER_WARM_UP_JOBS} jobs to warm up)`);
  const uploadsDir = join(work, 'uploads');
  await mkdir(uploadsDir);
  const workerRun = { redisUrl, jobs: WORKER_ROUND.jobs, uploadsDir, databasePath: join(work, 'worker.db'), smtpUrl: mail.smtpUrl };
  goals.push(await workerProcessRounds(workerRun, prefix, WORKER_ROUND.rounds, console.log));

  section(scalingTitle(SCALING));
  const scaling = await workerScaling({ ...SCALING, redisUrl, prefix, uploadsDir, databasePath: join(work, 'worker.db'), smtpUrl: mail.smtpUrl });
  for (const line of scalingLines(scaling)) console.log(line);

  section(`Busy and empty queues: JobServer in this process, weights 6:3:1, ${BUSY_ROUND.jobs} no-op jobs (${BUSY_ROUND.rounds} rounds after a warm-up, interleaved)`);
  const { lowOnly, allThree, criticalAlone } = await busyQueuesRounds(connection, prefix, BUSY_ROUND.jobs, BUSY_ROUND.rounds);
  const allThreeGoal = atLeast('all three queues busy vs one busy queue', allThree, BUSY_GOAL);
  goals.push(allThreeGoal);
  console.log(`  only low busy    vs only critical busy: ${ratio(lowOnly)} the jobs/s ${goal(lowOnly >= BUSY_GOAL, `≥ ${BUSY_GOAL}x`)}`);
  console.log(`  all three busy   vs only critical busy: ${allThreeGoal.value} the jobs/s ${mark(allThreeGoal)} (critical alone: ${perSecond(criticalAlone, 'jobs')})`);

  section(`Pickup latency on an idle pool (median of ${PICKUP_ROUNDS})`);
  const rawPickup = await rawBullmqPickup(connection, prefix(), PICKUP_ROUNDS);
  const ourPickup = await jobServerPickup(connection, prefix(), PICKUP_ROUNDS);
  console.log(`  JobServer vs raw BullMQ Worker: ${ratio(ourPickup / rawPickup)} the latency (${ms(ourPickup)} vs ${ms(rawPickup)})`);

  section(`Request latency over HTTP, one at a time, app in this process (median of ${REQUESTS})`);
  const routes = await routeLatencies(redisUrl, prefix(), REQUESTS);
  console.log(`  POST /api/dev/send-birthday/1 (enqueue) vs GET /healthz (empty): ${ratio(routes.enqueue / routes.empty)} (${ms(routes.enqueue)} vs ${ms(routes.empty)})`);
  console.log(`  POST /api/orders (SQLite + outbox)      vs GET /healthz (empty): ${ratio(routes.createOrder / routes.empty)} (${ms(routes.createOrder)} vs ${ms(routes.empty)})`);

  section(relayTitle(RELAY));
  const relay = await relayThroughput({ ...RELAY, redisUrl, prefix, dir: work });
  for (const line of relayLines(relay)) console.log(line);

  section(`API process under load: autocannon, ${LOAD_SECONDS} s per route, ${API_ROUNDS} rounds interleaved (medians), fresh SQLite file, info logs to a pipe`);
  const loadRun = await apiLoad({ redisUrl, prefix: prefix(), connections: LOAD_CONNECTIONS, seconds: LOAD_SECONDS, rounds: API_ROUNDS });
  for (const line of apiLoadLines(loadRun, (connections) => [drainLine(connections, loadRun.outboxBacklog.get(connections)!)])) console.log(line);
  goals.push(...apiGoals(loadRun.results));

  section(`The learner's loop: npm run exercise N, every exercise (median of ${VERDICT_ROUNDS}; Redis and the mail catcher already up; ${machineLoad()})`);
  const env = { REDIS_URL: redisUrl, SMTP_URL: mail.smtpUrl, MAIL_UI_URL: mail.webUrl };
  const missed = await learnerLoop(env, EXERCISES, VERDICT_ROUNDS, console.log);
  console.log(`  ${missed === 0 ? 'every budget met' : `${missed} budget${missed === 1 ? '' : 's'} MISSED`}; ${machineLoad()}`);

  console.log(`Goals (${machineLoad()}):`);
  for (const line of goalLines(goals)) console.log(line);
  section('Done');
} finally {
  await mail.stop();
  await redis.stop();
  await rm(work, { recursive: true, force: true });
}
