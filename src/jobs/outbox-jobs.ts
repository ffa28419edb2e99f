import { SpanKind, TelemetryAttributes, type JobsOptions, type Queue, type Span } from 'bullmq';
import type { OutboxEntry } from '../db/outbox.ts';
import { bullmqTelemetry } from '../telemetry.ts';
import { QueueUnavailableError, type JobsClient } from './client.ts';
import { failsFast } from './connection.ts';
import { QUEUES, type QueueName } from './defaults.ts';
import { checkPayload, type TaskName } from './tasks.ts';
import { inTraceOf } from './trace-context.ts';
import { isUnavailable } from './unavailable.ts';

/**
 * RELAY_BATCH_SIZE is how many outbox rows one relay pass reads and sends:
 * one SELECT, one addBulk per queue, one UPDATE. With 100 rows a pass, the
 * relay fell behind a burst of orders (`npm run bench`); with 1,000 it keeps
 * up, and a pass still blocks the API's event loop for a few ms only.
 */
export const RELAY_BATCH_SIZE = 1_000;

/** OutboxJob is an outbox row on its way to Redis. */
export interface OutboxJob {
  row: OutboxEntry;
  /** How long the job waits in Redis before it is due, in ms; 0 makes it due now. */
  delay: number;
  /** The job's id in Redis. Unset, BullMQ numbers the job itself. */
  jobId?: string;
}

/** DeadRow is an outbox row that Redis will never take, and why. */
export interface DeadRow {
  id: number;
  task: string;
  queue: string;
  reason: string;
}

/** SentBatch says what sendBatch did: the ids of the rows whose jobs Redis now holds, and the rows it never will. */
export interface SentBatch {
  sent: number[];
  dead: DeadRow[];
}

/** A job as Queue.addBulk takes it, with the row it came from. */
interface BulkJob {
  row: OutboxEntry;
  name: TaskName;
  data: unknown;
  opts: JobsOptions;
}

/**
 * sendBatch hands jobs to Redis: one addBulk per queue, the queues at once.
 * A row whose task, queue or payload is wrong, or a job whose delay is below
 * 0, is not sent: it comes back dead, with the reason. When Redis refuses a queue's bulk for anything but
 * an outage, that queue's jobs are sent again one by one, so that only the
 * rows Redis refuses come back dead. Each job joins the trace of the
 * request that wrote its row.
 *
 * It rejects when Redis cannot be reached (isUnavailable). Some jobs may be
 * in Redis by then: sending them again adds nothing, as long as each has a
 * jobId of its own.
 */
export async function sendBatch(client: JobsClient, jobs: readonly OutboxJob[]): Promise<SentBatch> {
  const dead: DeadRow[] = [];
  const byQueue = new Map<QueueName, BulkJob[]>();
  const defaults = client.jobOptions();
  for (const { row, delay, jobId } of jobs) {
    if (!isQueueName(row.queue)) {
      dead.push(deadRow(row, `unknown queue "${row.queue}", expected one of ${QUEUES.join(', ')}`));
      continue;
    }
    // As JobsClient.enqueueIn does: NaN, Infinity or a delay below 0 is a caller's bug, not "now".
    if (!Number.isFinite(delay) || delay < 0) {
      dead.push(deadRow(row, `delay must be 0 or more ms, got ${delay}`));
      continue;
    }
    const checked = checkPayload(row.task as TaskName, row.payload);
    if (!checked.ok) {
      dead.push(deadRow(row, checked.reason));
      continue;
    }
    const bulk = byQueue.get(row.queue) ?? [];
    bulk.push({ row, name: row.task as TaskName, data: checked.data, opts: { ...defaults, jobId, delay } });
    byQueue.set(row.queue, bulk);
  }

  const results = await Promise.allSettled([...byQueue].map(([name, bulk]) => sendToQueue(client.queue(name), bulk)));
  const sent: number[] = [];
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
    sent.push(...result.value.sent);
    dead.push(...result.value.dead);
  }
  return { sent, dead };
}

/** deadRowMessage is the log line for a row set aside, with the commands that list and requeue it. */
export function deadRowMessage(row: DeadRow): string {
  return `outbox: row ${row.id} set aside as dead: ${row.reason}; requeue it with npm run jobs -- outbox requeue ${row.id} (npm run jobs -- outbox lists the dead ones)`;
}

function isQueueName(name: string): name is QueueName {
  return (QUEUES as readonly string[]).includes(name);
}

function deadRow(row: OutboxEntry, reason: string): DeadRow {
  return { id: row.id, task: row.task, queue: row.queue, reason };
}

/** sendToQueue adds one queue's jobs in one addBulk; if Redis refuses it for anything but an outage, one by one. */
async function sendToQueue(queue: Queue, bulk: BulkJob[]): Promise<SentBatch> {
  failFast(queue);
  try {
    await addBulk(queue, bulk);
    return { sent: bulk.map(({ row }) => row.id), dead: [] };
  } catch (err) {
    if (isUnavailable(err)) throw err;
  }
  const results = await Promise.allSettled(bulk.map((one) => addBulk(queue, [one])));
  const batch: SentBatch = { sent: [], dead: [] };
  for (const [i, result] of results.entries()) {
    const { row } = bulk[i]!;
    if (result.status === 'fulfilled') batch.sent.push(row.id);
    else if (isUnavailable(result.reason)) throw result.reason;
    else batch.dead.push(deadRow(row, `Redis refused the job: ${messageOf(result.reason)}`));
  }
  return batch;
}

/**
 * failFast throws QueueUnavailableError while a fail-fast connection is down,
 * as JobsClient does before each add: BullMQ itself would wait for Redis to
 * come back, and the relay would hang instead of trying again later.
 */
function failFast(queue: Queue): void {
  const connection = queue.opts.connection;
  if (failsFast(connection) && connection.status !== 'ready') {
    throw new QueueUnavailableError(`Redis is not reachable (connection ${connection.status})`);
  }
}

/**
 * addBulk is Queue.addBulk, with each job in its own row's trace. BullMQ
 * traces a bulk as one span and gives every job that span's context, so here
 * each job gets an add span of its own, in the trace of its row's
 * traceparent, and carries that span's context (`opts.telemetry.metadata`)
 * to the worker. BullMQ's span for the whole bulk goes in the trace of the
 * oldest row, never in that of whatever request kicked the relay.
 */
async function addBulk(queue: Queue, bulk: BulkJob[]): Promise<void> {
  const spans = bulk.map((job) => startAddSpan(queue, job));
  for (const [i, traced] of spans.entries()) if (traced) bulk[i]!.opts.telemetry = { metadata: traced.metadata };
  try {
    const added = await inTraceOf(bulk[0]?.row.traceparent, () => queue.addBulk(bulk));
    for (const [i, job] of added.entries()) spans[i]?.span.setAttribute(TelemetryAttributes.JobId, job.id!);
  } catch (err) {
    for (const traced of spans) traced?.span.recordException(err as Error);
    throw err;
  } finally {
    for (const traced of spans) traced?.span.end();
  }
}

/** startAddSpan starts the producer span of one job, as Queue.add names it, in the trace of its row. Undefined while tracing is off. */
function startAddSpan(queue: Queue, { row, name }: BulkJob): { span: Span; metadata: string } | undefined {
  const telemetry = bullmqTelemetry();
  if (!telemetry) return undefined;
  return inTraceOf(row.traceparent, () => {
    const parent = telemetry.contextManager.active();
    const span = telemetry.tracer.startSpan(`add ${queue.name}.${name}`, { kind: SpanKind.PRODUCER }, parent);
    span.setAttributes({
      [TelemetryAttributes.QueueName]: queue.name,
      [TelemetryAttributes.QueueOperation]: 'add',
      [TelemetryAttributes.JobName]: name,
    });
    return { span, metadata: telemetry.contextManager.getMetadata(span.setSpanOnContext(parent)) };
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
