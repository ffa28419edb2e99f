import { parseArgs } from 'node:util';
import { DEFAULT_MAX_RETRY, DEFAULT_QUEUE, QUEUES, type QueueName } from '../jobs/defaults.ts';
import { checkPayload, isTaskName, TASK_NAMES, type TaskName } from '../jobs/tasks.ts';
import { MAX_DURATION_MS, parseDuration, quote } from './duration.ts';

/** MAX_RETRY_LIMIT is the most retries `enqueue --max-retry` accepts. */
export const MAX_RETRY_LIMIT = 100;
/** MAX_PAYLOAD_CHARS bounds the JSON payload given to `enqueue`: 64 KiB. */
export const MAX_PAYLOAD_CHARS = 64 * 1_024;
/** MAX_ID_LENGTH bounds a job id given to `show` or `requeue`. */
export const MAX_ID_LENGTH = 200;
/** MAX_OUTBOX_ID is the largest outbox row id `outbox requeue` accepts: the largest whole number a JS number holds exactly. */
export const MAX_OUTBOX_ID = Number.MAX_SAFE_INTEGER;

/** JobsCommand is one parsed command line of `npm run jobs`. */
export type JobsCommand =
  | { name: 'help' }
  | { name: 'stats' }
  | { name: 'schedules' }
  | { name: 'dead'; queue: QueueName | undefined }
  | { name: 'show'; queue: QueueName; id: string }
  | { name: 'requeue'; queue: QueueName; id: string }
  | { name: 'outbox' }
  | { name: 'outbox-requeue'; id: number }
  | { name: 'enqueue'; task: TaskName; payload: unknown; queue: QueueName; delayMs: number; maxRetry: number | undefined };

/** UsageError: the command line is wrong. showUsage says whether the whole usage should follow the message. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly showUsage = false) {
    super(message);
  }
}

/** JOBS_USAGE is what `npm run jobs -- --help` prints. */
export const JOBS_USAGE = `Usage: npm run jobs -- <command> [arguments]

Look into the job queues (${QUEUES.join(', ')}) at REDIS_URL (or on the Redis Cluster
of REDIS_CLUSTER_NODES), under QUEUE_PREFIX, and into the API's outbox in the
database at DATABASE_PATH.

Commands:
  stats                       jobs per queue: active, pending, scheduled, dead, completed (the default)
  dead [queue]                dead jobs, newest first
  show <queue> <id>           one job: state, task, payload, attempts, error and stack
  requeue <queue> <id>        send a dead job back to its queue, with a fresh set of attempts
  schedules                   the cron table, with each entry's next run
  outbox                      outbox rows pending and dead, each dead one with its reason (needs no Redis)
  outbox requeue <id>         make a dead outbox row pending again, for the API's relay to send
  enqueue <task> ['<json>']   put a task on a queue (the payload defaults to {})
      --queue <queue>         ${QUEUES.join(', ')} (default: ${DEFAULT_QUEUE})
      --in <duration>         run it later: 30s, 10m, 2h, 7d (at most ${MAX_DURATION_MS / 86_400_000}d)
      --max-retry <n>         retries after the first attempt, 0 to ${MAX_RETRY_LIMIT} (default: ${DEFAULT_MAX_RETRY})
  help, -h, --help            this text

Tasks: ${TASK_NAMES.join(', ')}

Examples:
  npm run jobs -- enqueue send_welcome '{"to": "ada@example.test", "name": "Ada"}'
  npm run jobs -- enqueue resize_image '{"upload": "sample.png", "width": 200}' --in 30s --queue low
  npm run jobs -- dead default
  npm run jobs -- requeue default 42
  npm run jobs -- outbox requeue 7
`;

const ENQUEUE_OPTIONS = ['queue', 'in', 'max-retry'] as const;

/**
 * parseJobsArgs reads the arguments after `npm run jobs --`. No command means
 * stats. It checks every input it can without Redis (queue names, task names,
 * the payload against its task's schema, durations, numbers) and throws
 * UsageError with a one-line reason when one is wrong.
 */
export function parseJobsArgs(argv: string[]): JobsCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        queue: { type: 'string', short: 'q' },
        in: { type: 'string' },
        'max-retry': { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { name: 'help' };

  const [name = 'stats', ...args] = positionals;
  const misplaced = ENQUEUE_OPTIONS.find((option) => values[option] !== undefined);
  if (misplaced && name !== 'enqueue') throw new UsageError(`--${misplaced} only goes with enqueue`);

  switch (name) {
    case 'help':
    case 'stats':
    case 'schedules':
      expectArgs(name, args, 0, 0, '');
      return { name };
    case 'dead':
      expectArgs(name, args, 0, 1, '[queue]');
      return { name, queue: args[0] === undefined ? undefined : parseQueue(args[0]) };
    case 'show':
    case 'requeue':
      expectArgs(name, args, 2, 2, '<queue> <id>');
      return { name, queue: parseQueue(args[0]!), id: parseId(args[1]!) };
    case 'outbox':
      return parseOutbox(args);
    case 'enqueue': {
      expectArgs(name, args, 1, 2, "<task> ['<json payload>']");
      const task = parseTask(args[0]!);
      return {
        name,
        task,
        payload: parsePayload(task, args[1] ?? '{}'),
        queue: values.queue === undefined ? DEFAULT_QUEUE : parseQueue(values.queue),
        delayMs: values.in === undefined ? 0 : usage(() => parseDuration(values.in!), '--in'),
        maxRetry: values['max-retry'] === undefined ? undefined : parseMaxRetry(values['max-retry']),
      };
    }
    default:
      throw new UsageError(`unknown command ${quote(name)}`, true);
  }
}

/** parseQueue checks a queue name. */
export function parseQueue(text: string): QueueName {
  if ((QUEUES as readonly string[]).includes(text)) return text as QueueName;
  throw new UsageError(`unknown queue ${quote(text)}: use ${QUEUES.join(', ')}`);
}

function parseTask(text: string): TaskName {
  if (isTaskName(text)) return text;
  throw new UsageError(`unknown task ${quote(text)}: use one of ${TASK_NAMES.join(', ')}`);
}

function parsePayload(task: TaskName, text: string): unknown {
  if (text.length > MAX_PAYLOAD_CHARS) throw new UsageError(`the payload is too long: at most ${MAX_PAYLOAD_CHARS} characters`);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the payload is not valid JSON: ${(err as Error).message}`);
  }
  const checked = checkPayload(task, payload);
  if (!checked.ok) throw new UsageError(checked.reason);
  return checked.data;
}

function parseId(text: string): string {
  if (text === '' || text.length > MAX_ID_LENGTH || /\s/.test(text)) {
    throw new UsageError(`${quote(text)} is not a job id`);
  }
  return text;
}

/** parseOutbox reads what follows `outbox`: nothing (list), or `requeue <id>`. */
function parseOutbox(args: string[]): JobsCommand {
  const [action, ...rest] = args;
  if (action === undefined) return { name: 'outbox' };
  if (action !== 'requeue') throw new UsageError(`unknown outbox command ${quote(action)}: use outbox, or outbox requeue <id>`);
  expectArgs('outbox requeue', rest, 1, 1, '<id>');
  return { name: 'outbox-requeue', id: parseOutboxId(rest[0]!) };
}

/** parseOutboxId reads an outbox row id: a whole number from 1 to MAX_OUTBOX_ID, digits only. */
function parseOutboxId(text: string): number {
  const id = Number(text);
  if (!/^[1-9]\d*$/.test(text) || id > MAX_OUTBOX_ID) {
    throw new UsageError(`${quote(text)} is not an outbox row id: a whole number of 1 or more (npm run jobs -- outbox lists them)`);
  }
  return id;
}

function parseMaxRetry(text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || count > MAX_RETRY_LIMIT) {
    throw new UsageError(`--max-retry must be a whole number from 0 to ${MAX_RETRY_LIMIT}, got ${quote(text)}`);
  }
  return count;
}

function expectArgs(name: string, args: string[], min: number, max: number, shape: string): void {
  if (args.length >= min && args.length <= max) return;
  const form = `usage: npm run jobs -- ${name}${shape ? ` ${shape}` : ''}`;
  throw new UsageError(args.length < min ? `${name} needs more arguments (${form})` : `too many arguments for ${name} (${form})`);
}

/** usage runs a parser whose RangeError is a usage mistake, naming the option. */
function usage<T>(parse: () => T, option: string): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(`${option}: ${(err as Error).message}`);
  }
}
