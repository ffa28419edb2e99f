import type { Job } from 'bullmq';
import { symbols } from 'pino';
import type { Logger } from '../logger.ts';

/**
 * JobLines writes the two lines that every job gets, `job started` and `job
 * done in N ms`, byte for byte as `log.info(fields, msg)` would, at about
 * half the cost.
 *
 * Why by hand: a busy worker runs thousands of jobs a second, and these two
 * lines were all that the worker process spent beyond a bare BullMQ Worker
 * (BENCHMARKS.md). pino's general path handles any arguments, serializers,
 * redaction and hooks, and in a busy process it cost about 5 µs a line; a
 * template whose fields are known ahead, about 2.5.
 *
 * It formats by hand only where that gives pino's own bytes: when it is
 * made, it formats a sample line of each kind both ways, and compares. A
 * logger set up another way (a mixin, a message prefix, another message
 * key, one of these fields redacted, a destination that wants metadata, or
 * no pino logger at all, as in some tests) gets plain `log.info` calls.
 */
export class JobLines {
  readonly #log: Logger;
  /** The logger's own parts, when the lines can be written by hand: else undefined. */
  readonly #pino: PinoParts | undefined;

  constructor(log: Logger) {
    this.#log = log;
    this.#pino = handFormattable(log);
  }

  /** Whether the lines are formatted by hand; else each is a log.info call. */
  get byHand(): boolean {
    return this.#pino !== undefined;
  }

  /** started: `job started`, with the job's id, task, queue and attempt (1 on the first run). */
  started(job: Job): void {
    const attempt = job.attemptsMade + 1;
    if (!this.#canFormat(job, attempt)) {
      this.#log.info({ job: job.id, task: job.name, queue: job.queueName, attempt }, 'job started');
      return;
    }
    this.#write(job, startedEnd(attempt));
  }

  /** done: `job done in <ms> ms`, with the job's id, task, queue and ms. */
  done(job: Job, ms: number): void {
    if (!this.#canFormat(job, ms)) {
      this.#log.info({ job: job.id, task: job.name, queue: job.queueName, ms }, `job done in ${ms} ms`);
      return;
    }
    this.#write(job, doneEnd(ms));
  }

  /** Whether this line can be written by hand: a pino logger that suits, a job with an id, and a number that JSON can hold. */
  #canFormat(job: Job, n: number): boolean {
    return this.#pino !== undefined && typeof job.id === 'string' && Number.isFinite(n);
  }

  /** Writes an info line, as pino's write() does: level, time, bindings, the job's fields, then `end`. */
  #write(job: Job, end: string): void {
    if (!this.#log.isLevelEnabled('info')) return;
    const { head, time, bindings, stream, hook } = this.#pino!;
    const line = lineByHand(head, time(), bindings(), job, end);
    stream.write(hook ? hook(line) : line);
  }
}

/** lineByHand is a line as pino's asJson writes it: head, time, bindings, the job's fields, then the line's own end. */
function lineByHand(head: string, time: string, bindings: string, job: Job, end: string): string {
  return `${head}${time}${bindings},"job":${JSON.stringify(job.id)},"task":${JSON.stringify(job.name)},"queue":${JSON.stringify(job.queueName)}${end}`;
}

/** The end of a `job started` line: its attempt and message. */
function startedEnd(attempt: number): string {
  return `,"attempt":${attempt},"msg":"job started"}\n`;
}

/** The end of a `job done` line: its ms and message. */
function doneEnd(ms: number): string {
  return `,"ms":${ms},"msg":"job done in ${ms} ms"}\n`;
}

/** pino's formatting of a line: the fields, the message, the level's number and the time part. */
type AsJson = (this: Logger, fields: object, msg: string, level: number, time: string) => string;

/** What JobLines takes from a pino logger. */
interface PinoParts {
  /** What an info line starts with, before its time: `{"level":30`. */
  head: string;
  /** pino's time function: `,"time":1765000000000`. */
  time: () => string;
  /** The logger's bindings as pino writes them, read at each line (setBindings may change them). */
  bindings: () => string;
  stream: { write(line: string): void };
  /** pino's streamWrite hook (the secret scrubber), if any. */
  hook: ((line: string) => string) | undefined;
}

/**
 * handFormattable returns the logger's parts when a line formatted by hand
 * is the line pino would write: it formats a sample of each kind both ways.
 */
function handFormattable(log: Logger): PinoParts | undefined {
  const internals = log as unknown as Record<symbol, unknown>;
  const asJson = internals[symbols.asJsonSym];
  const time = internals[symbols.timeSym];
  const stream = internals[symbols.streamSym] as { write?: unknown; [key: symbol]: unknown } | undefined;
  const hooks = internals[symbols.hooksSym] as { streamWrite?: (line: string) => string; logMethod?: unknown } | undefined;
  // What pino does outside asJson, in write() and before it, and that a line by hand would skip.
  const skipsSomething =
    typeof asJson !== 'function' ||
    typeof time !== 'function' ||
    typeof stream?.write !== 'function' ||
    stream[symbols.needsMetadataGsym] === true ||
    internals[symbols.mixinSym] ||
    hooks?.logMethod ||
    log.msgPrefix;
  if (skipsSomething) return undefined;

  const level = log.levels.values.info!;
  const bindings = () => internals[symbols.chindingsSym] as string;
  // A job and a time that no formatting could leave as they are by chance.
  const sample = { id: 'sample "id" \\ é', name: 'sample_task', queueName: 'sample queue' } as Job;
  const SAMPLE_TIME = ',"time":-1';
  const byPino = (fields: object, msg: string) => (asJson as AsJson).call(log, fields, msg, level, SAMPLE_TIME);
  const fields = { job: sample.id, task: sample.name, queue: sample.queueName };
  const started = byPino({ ...fields, attempt: 7 }, 'job started');
  const head = started.slice(0, started.indexOf(SAMPLE_TIME));
  const byHand = (end: string) => lineByHand(head, SAMPLE_TIME, bindings(), sample, end);
  const same = head.length > 0 && started === byHand(startedEnd(7)) && byPino({ ...fields, ms: 12 }, 'job done in 12 ms') === byHand(doneEnd(12));
  if (!same) return undefined;
  return { head, time: time as () => string, bindings, stream: stream as PinoParts['stream'], hook: hooks?.streamWrite };
}
