import { SpanKind, trace, type SpanContext } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { OutboxRelay } from '../../src/jobs/outbox.ts';
import type { TaskName } from '../../src/jobs/tasks.ts';
import { startTelemetry, stopTelemetry, tracingWanted } from '../../src/telemetry.ts';
import { spawnScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { jobsTestbed, quietLogger } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

// One process plays the API and the worker: the Hono app handles the request,
// a JobServer runs its jobs, and every span lands in one in-memory exporter.
const spans = new InMemorySpanExporter();
const ORDER_TASKS: TaskName[] = ['send_receipt', 'update_inventory', 'ask_for_review'];
/** The span each handler ran in, by job id. */
const handlerSpans = new Map<string, SpanContext | undefined>();

type Worker = ReturnType<typeof jobsTestbed>;
let jobs: Worker;
let api: ReturnType<typeof apiTestbed>;

/** startWorker runs a JobServer on queues of its own, whose handlers note the span they run in. */
async function startWorker(label: string): Promise<Worker> {
  const worker = jobsTestbed(label);
  const mux = new ServeMux();
  for (const task of ORDER_TASKS) {
    mux.handle(task, async (_payload, ctx) => void handlerSpans.set(ctx.jobId, trace.getActiveSpan()?.spanContext()));
  }
  await worker.startServer(mux);
  return worker;
}

beforeAll(async () => {
  // First, as the processes do: the queues, the worker and the app read it when they are built.
  await startTelemetry('test', quietLogger, { spanProcessors: [new SimpleSpanProcessor(spans)] });
  jobs = await startWorker('tracing');
  api = apiTestbed({ redisUrl: services().redisUrl, prefix: jobs.prefix });
  await waitUntil('the producer connection', () => api.redis.status === 'ready');
});
afterAll(async () => {
  await api?.close();
  await jobs?.cleanup();
  await stopTelemetry();
});

/** The jobs an order caused, with the review request (due in 7 days) made due now. */
async function runJobsOf(worker: Worker, orderId: number): Promise<string[]> {
  const queue = worker.client.queue('default');
  const ofOrder = await waitUntil('the order\'s three jobs', async () => {
    const found = (await queue.getJobs(['waiting', 'active', 'delayed', 'completed'])).filter((job) => job.data.order_id === orderId);
    return found.length === 3 && found;
  });
  for (const job of ofOrder) if ((await job.getState()) === 'delayed') await job.promote();
  const ids = ofOrder.map((job) => job.id!);
  await waitUntil('a consumer span for each job', () => ids.every((id) => consumerSpan(id)));
  return ids;
}

const finished = () => spans.getFinishedSpans();
const byKind = (kind: SpanKind) => finished().filter((span) => span.kind === kind);
const jobIdOf = (span: ReadableSpan) => span.attributes['bullmq.job.id'];
const consumerSpan = (jobId: string) => byKind(SpanKind.CONSUMER).find((span) => jobIdOf(span) === jobId);
const producerSpan = (jobId: string) => byKind(SpanKind.PRODUCER).find((span) => jobIdOf(span) === jobId);

/** The names of a span and its ancestors, nearest first, as far as this process saw them. */
function ancestry(span: ReadableSpan): ReadableSpan[] {
  const chain = [span];
  for (let parentId = span.parentSpanContext?.spanId; parentId; ) {
    const parent = finished().find((candidate) => candidate.spanContext().spanId === parentId);
    if (!parent) break;
    chain.push(parent);
    parentId = parent.parentSpanContext?.spanId;
  }
  return chain;
}

function expectOneTrace(httpSpan: ReadableSpan, jobIds: string[]) {
  const traceId = httpSpan.spanContext().traceId;
  for (const id of jobIds) {
    const run = consumerSpan(id)!;
    const add = producerSpan(id)!;
    expect(add, `a producer span for job ${id}`).toBeDefined();
    expect(run.name).toBe('process default');
    expect(add.name).toBe(`add default.${run.attributes['bullmq.job.name']}`);
    expect(run.spanContext().traceId, `job ${id} runs in the request's trace`).toBe(traceId);
    expect(add.spanContext().traceId).toBe(traceId);
    // job run -> its enqueue -> the request
    expect(ancestry(run).map((span) => span.spanContext().spanId)).toEqual([
      run.spanContext().spanId,
      add.spanContext().spanId,
      httpSpan.spanContext().spanId,
    ]);
    // The handler runs inside the job's span, so its own spans would nest there.
    expect(handlerSpans.get(id)?.spanId).toBe(run.spanContext().spanId);
  }
}

describe('one trace from a request to its jobs', () => {
  it('POST /api/orders is a server span, and each job it causes is added and run in its trace', async () => {
    spans.reset();
    const { status, body } = await api.post('/api/orders', { user_id: 1, sku: 'sticker', quantity: 1 });
    expect(status).toBe(201);
    const jobIds = await runJobsOf(jobs, body.order.id);

    const [httpSpan, ...others] = byKind(SpanKind.SERVER);
    expect(others, 'one server span').toEqual([]);
    expect(httpSpan!.name).toBe('POST /api/orders');
    expect(httpSpan!.parentSpanContext).toBeUndefined();
    expect(httpSpan!.attributes['http.response.status_code']).toBe(201);
    expect(jobIds).toHaveLength(3);
    expectOneTrace(httpSpan!, jobIds);
  });

  it('jobs relayed later from the outbox, by another relay, still join the trace of the request that wrote them', async () => {
    spans.reset();
    // An API whose Redis is down: the order is saved with its jobs in the outbox, and the relay cannot send them.
    // Its database numbers orders and rows from 1 again, so its jobs go to queues of their own.
    const later = await startWorker('tracing-later');
    const offline = apiTestbed({ redisUrl: `redis://127.0.0.1:${await freePort()}`, prefix: later.prefix, relayRetryMs: 60_000 });
    try {
      const { status, body } = await offline.post('/api/orders', { user_id: 2, sku: 'mug', quantity: 1 });
      expect(status).toBe(201);
      await offline.relay.idle();
      expect(offline.outbox.countPending()).toBe(3);
      const [httpSpan] = byKind(SpanKind.SERVER);
      expect(offline.outbox.pending().map((row) => row.traceparent)).toEqual(
        Array(3).fill(`00-${httpSpan!.spanContext().traceId}-${httpSpan!.spanContext().spanId}-01`),
      );

      // Later, another relay sends the rows (as an API started after the outage would),
      // kicked from inside an unrelated trace that the jobs must not join.
      const relay = new OutboxRelay(offline.outbox, later.client, quietLogger);
      trace.getTracer('test').startActiveSpan('unrelated', (unrelated) => {
        relay.kick();
        unrelated.end();
      });
      await relay.idle();
      expect(offline.outbox.countPending()).toBe(0);

      const jobIds = await runJobsOf(later, body.order.id);
      expectOneTrace(httpSpan!, jobIds);
    } finally {
      await offline.close();
      await later.cleanup();
    }
  });
});

describe('tracing off', () => {
  it('is off without OTEL_* variables, and OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none keep it off', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_SERVICE_NAME: 'shop' })).toBe(false);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'otlp,console' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(false);
    expect(tracingWanted({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'console' })).toBe(false);
  });

  it('loads no SDK and traces nothing: the API answers, the outbox stores no trace, no tracer provider is registered', async () => {
    const child = spawnScript('test/support/fixtures/tracing-off.ts', withoutOtelVariables({ REDIS_URL: services().redisUrl, QUEUE_PREFIX: uniquePrefix('tracing-off') }), 'tracing-off');
    const line = await child.waitForOutput(/^\{"status".*\}$/m, 20_000);
    expect(JSON.parse(line)).toEqual({ status: 201, started: false, rowsWithTrace: 0, loaded: [], tracerProvider: false });
  });

  it('the same script with OTEL_TRACES_EXPORTER=console loads the SDK and stores the trace with each outbox row', async () => {
    const env = withoutOtelVariables({ REDIS_URL: services().redisUrl, QUEUE_PREFIX: uniquePrefix('tracing-on'), OTEL_TRACES_EXPORTER: 'console' });
    const child = spawnScript('test/support/fixtures/tracing-off.ts', env, 'tracing-on');
    const result = JSON.parse(await child.waitForOutput(/^\{"status".*\}$/m, 20_000));
    expect(result).toMatchObject({ status: 201, started: true, rowsWithTrace: 3, tracerProvider: true });
    expect(result.loaded).toEqual(expect.arrayContaining(['@opentelemetry/sdk-node', '@opentelemetry/sdk-trace-base', 'bullmq-otel']));
    // The console exporter prints the request's span on its own schedule, maybe after the result line.
    await child.waitForOutput(/name: 'POST \/api\/orders'/, 10_000);
  });
});

/** The test's own environment may set OTEL_* variables: the child gets none but those given. */
function withoutOtelVariables(env: Record<string, string>): Record<string, string> {
  const cleared = Object.fromEntries(Object.keys(process.env).filter((key) => key.startsWith('OTEL_')).map((key) => [key, '']));
  return { ...cleared, ...env };
}
