// The jobs inspector: `npm run jobs -- <command>`, like asynq's CLI. It looks
// into the queues at REDIS_URL, or on the Redis Cluster of REDIS_CLUSTER_NODES
// (under QUEUE_PREFIX), and can re-queue a dead job or enqueue a task by hand.
// `outbox` reads the API's outbox in SQLite (DATABASE_PATH) and needs no Redis.
// `npm run jobs -- --help` lists the commands.
import { loadConfig, type Config } from '../config.ts';
import { InvalidPayloadError, JobsClient } from '../jobs/client.ts';
import { producerConnection, targetAddress, waitForRedis } from '../jobs/connection.ts';
import { Scheduler } from '../jobs/cron.ts';
import { QUEUES } from '../jobs/defaults.ts';
import { dueAt } from '../jobs/due.ts';
import { Inspector } from '../jobs/inspector.ts';
import type { Payload } from '../jobs/tasks.ts';
import { formatDuration } from './duration.ts';
import { JOBS_USAGE, parseJobsArgs, UsageError, type JobsCommand } from './jobs-args.ts';
import { formatDeadJobs, formatJob, formatSchedules, formatStats, formatTime } from './jobs-format.ts';
import { isOutboxCommand, outboxOverview, runOutboxCommand } from './jobs-outbox.ts';

/** CONNECT_TIMEOUT_MS is how long to wait for Redis before saying it cannot be reached. */
const CONNECT_TIMEOUT_MS = 3_000;
/** RUN_TIMEOUT_MS ends a command that takes longer (a Redis that stopped answering) with an error. */
const RUN_TIMEOUT_MS = 10_000;
/** DEAD_LIMIT is how many dead jobs `dead` lists per queue, newest first. */
const DEAD_LIMIT = 50;
/**
 * Control characters (but newlines) that came with job data must not drive the
 * terminal, nor may bidirectional overrides reorder what it shows.
 */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

let command: JobsCommand;
let config: Config;
try {
  config = loadConfig();
  command = parseJobsArgs(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError && err.showUsage) process.stderr.write(`${JOBS_USAGE}\n`);
  fail((err as Error).message);
}
if (command.name === 'help') {
  print(JOBS_USAGE.trimEnd());
  process.exit(0);
}
if (isOutboxCommand(command)) {
  // Before any Redis connection: the outbox is in SQLite, and these commands must work while Redis is down.
  try {
    print(runOutboxCommand(command, config.databasePath));
  } catch (err) {
    fail((err as Error).message);
  }
  process.exit(0);
}

const where = `${targetAddress(config)} (prefix "${config.queuePrefix}")`;
// Fail-fast connection: with Redis down, commands fail at once instead of queueing up.
const redis = producerConnection(config);
await waitForRedis(redis, CONNECT_TIMEOUT_MS).catch((err: Error) => fail(`cannot reach Redis at ${where}: ${err.message}`));
const client = new JobsClient(redis, { prefix: config.queuePrefix });
const timer = setTimeout(() => fail(`Redis at ${where} did not answer within ${RUN_TIMEOUT_MS / 1_000} s`), RUN_TIMEOUT_MS);

const code = await run(command).catch((err: Error) => fail(err instanceof InvalidPayloadError ? err.message : `${err.message} (Redis at ${where})`));
clearTimeout(timer);
await client.close();
redis.disconnect();
process.exit(code);

/** run carries out one command and returns the exit code. */
async function run(command: JobsCommand): Promise<number> {
  const inspector = new Inspector(client);
  switch (command.name) {
    case 'help':
    case 'outbox':
    case 'outbox-requeue':
      return 0; // handled before Redis was connected
    case 'stats':
      print(`queues at ${where}\n`);
      print(formatStats(await inspector.counts()));
      print(`\n${outboxOverview(config.databasePath)}`);
      return 0;
    case 'dead': {
      const queues = command.queue ? [command.queue] : QUEUES;
      const lists = await Promise.all(queues.map((queue) => inspector.deadJobs(queue, DEAD_LIMIT)));
      const newestFirst = lists.flat().sort((a, b) => (b.failedAt?.getTime() ?? 0) - (a.failedAt?.getTime() ?? 0));
      print(formatDeadJobs(newestFirst, command.queue));
      if (lists.some((list) => list.length === DEAD_LIMIT)) print(`(the newest ${DEAD_LIMIT} per queue; /admin/system/jobs has them all)`);
      return 0;
    }
    case 'show': {
      const job = await inspector.job(command.queue, command.id);
      if (!job) return fail(`no job ${command.id} in queue ${command.queue}`);
      // A retry's due time is not on the job: only the delayed set holds it.
      if (job.state === 'scheduled') job.dueAt = (await dueAt(client.queue(command.queue), command.id)) ?? job.dueAt;
      print(formatJob(job, new Date()));
      return 0;
    }
    case 'requeue': {
      if (await inspector.requeue(command.queue, command.id)) {
        print(`re-queued job ${command.id} in ${command.queue}: it runs again with a fresh set of attempts`);
        return 0;
      }
      const job = await inspector.job(command.queue, command.id);
      return fail(job ? `job ${command.id} in ${command.queue} is ${job.state}, not dead: only dead jobs can be re-queued` : `no dead job ${command.id} in queue ${command.queue}`);
    }
    case 'schedules': {
      const scheduler = new Scheduler(client);
      const entries = (await Promise.all(QUEUES.map(async (queue) => (await scheduler.list(queue)).map((e) => ({ ...e, queue }))))).flat();
      print(formatSchedules(entries, new Date()));
      return 0;
    }
    case 'enqueue': {
      const { task, payload, queue, delayMs, maxRetry } = command;
      // The parser checked the payload against the schema; the client checks it again.
      const checked = payload as Payload<typeof task>;
      const job = delayMs > 0 ? await client.enqueueIn(task, checked, delayMs, { queue, maxRetry }) : await client.enqueue(task, checked, { queue, maxRetry });
      const due = delayMs > 0 ? `, due at ${formatTime(new Date(Date.now() + delayMs))} (in ${formatDuration(delayMs)})` : '';
      print(`enqueued ${task} as job ${job.id} on queue ${job.queue}${due}`);
      return 0;
    }
  }
}

function print(text: string): void {
  process.stdout.write(`${text.replace(CONTROL, '?')}\n`);
}

/** fail prints the error on one line and exits 1. */
function fail(message: string): never {
  process.stderr.write(`error: ${message.replace(/\s*\n\s*/g, ' ').replace(CONTROL, '?')}\n`);
  process.exit(1);
}
