// npm run bench: ratios measured in one run on this machine, never bare times.
// It starts a Redis of its own on a free port, so it touches no other data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { startMailCatcher } from '../src/dev/mail-catcher.ts';
import { routeLatencies } from './enqueue-route.ts';
import { jobServerPickup, rawBullmqPickup } from './pickup.ts';
import { jobServer, rawBullmq } from './throughput.ts';
import { bareVitest, coldVerdict, rerunAfterSave } from './verdict.ts';

const JOBS = 5_000;
const CONCURRENCY = 10;
const PICKUP_ROUNDS = 50;
const REQUESTS = 500;
const VERDICT_ROUNDS = 3;

const port = await freePort();
const dataDir = await mkdtemp(join(tmpdir(), 'bench-redis-'));
const redis = await startLocalRedis(port, dataDir);
const redisUrl = `redis://127.0.0.1:${port}`;
const connection = { url: redisUrl };
let run = 0;
const prefix = () => `bench-${run++}`;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

try {
  console.log(`Throughput: ${JOBS} no-op jobs, ${CONCURRENCY} at once`);
  const raw = await rawBullmq(connection, prefix(), JOBS, CONCURRENCY);
  const oneQueue = await jobServer(['default'])(connection, prefix(), JOBS, CONCURRENCY);
  const threeQueues = await jobServer(['critical', 'default', 'low'])(connection, prefix(), JOBS, CONCURRENCY);
  console.log(`  JobServer, 1 queue   vs raw BullMQ Worker: ${(raw / oneQueue).toFixed(2)}x the throughput (${fmt(oneQueue)} vs ${fmt(raw)})`);
  console.log(`  JobServer, 3 queues  vs raw BullMQ Worker: ${(raw / threeQueues).toFixed(2)}x the throughput (${fmt(threeQueues)} vs ${fmt(raw)})`);

  console.log(`Pickup latency on an idle pool (median of ${PICKUP_ROUNDS})`);
  const rawPickup = await rawBullmqPickup(connection, prefix(), PICKUP_ROUNDS);
  const ourPickup = await jobServerPickup(connection, prefix(), PICKUP_ROUNDS);
  console.log(`  JobServer vs raw BullMQ Worker: ${(ourPickup / rawPickup).toFixed(2)}x the latency (${fmt(ourPickup)} vs ${fmt(rawPickup)})`);

  console.log(`Request latency over HTTP (median of ${REQUESTS})`);
  const routes = await routeLatencies(redisUrl, prefix(), REQUESTS);
  console.log(`  POST /api/dev/send-birthday/1 (enqueue) vs GET /healthz (empty): ${(routes.enqueue / routes.empty).toFixed(2)}x (${fmt(routes.enqueue)} vs ${fmt(routes.empty)})`);
  console.log(`  POST /api/orders (SQLite + outbox)      vs GET /healthz (empty): ${(routes.createOrder / routes.empty).toFixed(2)}x (${fmt(routes.createOrder)} vs ${fmt(routes.empty)})`);

  console.log(`The workshop's check (median of ${VERDICT_ROUNDS}; Redis and the mail catcher already up)`);
  const mail = await startMailCatcher();
  try {
    const env = { REDIS_URL: redisUrl, SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`, MAIL_UI_URL: `http://127.0.0.1:${mail.webPort}` };
    for (const [number, file] of [[1, '01-enqueue-now/jobs/client.ts'], [10, '10-try-it/api/routes/dev.ts']] as const) {
      const bare = await bareVitest(number, env, VERDICT_ROUNDS);
      const cold = await coldVerdict(number, env, VERDICT_ROUNDS);
      const onStarter = await rerunAfterSave(number, file, 'exercises', env, VERDICT_ROUNDS);
      const onSolution = await rerunAfterSave(number, file, 'solutions', env, VERDICT_ROUNDS);
      console.log(`  exercise ${number}: cold verdict (npm run exercise ${number} -- --once) ${fmtS(cold)}, budget 10 s; ${(cold / bare).toFixed(2)}x a bare \`vitest run\` of its suite (${fmtS(bare)})`);
      console.log(`  exercise ${number}: re-run after a save, in watch mode: ${fmtS(onStarter)} on the starter, ${fmtS(onSolution)} with every check passing, budget 2 s; ${(onStarter / cold).toFixed(2)}x and ${(onSolution / cold).toFixed(2)}x the cold verdict`);
    }
  } finally {
    await mail.stop();
  }
} finally {
  await redis.stop();
  await rm(dataDir, { recursive: true, force: true });
}
