import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Telemetry } from 'bullmq';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from './logger.ts';

/**
 * Tracing with OpenTelemetry: one trace from a request to the jobs it causes.
 * Off unless the standard OTEL_* variables ask for traces. While it is off,
 * no OpenTelemetry SDK is loaded and BullMQ and Hono get no hook, so nothing
 * is traced and nothing costs. Each process calls startTelemetry() once,
 * before it builds its queues, its worker or its app.
 */
export interface Tracing {
  /** Given to every BullMQ Queue and Worker: a producer span per add, a consumer span per job run. */
  bullmq: Telemetry;
  /** The Hono middleware that makes each request a server span. */
  http: MiddlewareHandler;
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

let tracing: Tracing | undefined;

/**
 * tracingWanted reads the OTEL_* variables as the SDK does: traces are on when
 * OTEL_TRACES_EXPORTER names an exporter (otlp, console, zipkin) or an OTLP
 * endpoint is set, and OTEL_SDK_DISABLED=true turns everything off.
 */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  if (exporters.length > 0) return exporters[0] !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface TelemetryOptions {
  env?: NodeJS.ProcessEnv;
  /** Tests pass their own (an in-memory exporter); then tracing is on whatever the variables say. */
  spanProcessors?: SpanProcessor[];
}

/**
 * startTelemetry starts tracing for the process named `service` ('api',
 * 'worker', 'scheduler') if the variables ask for it, and says so in one line.
 * It resolves true when tracing is on. A second call changes nothing.
 */
export async function startTelemetry(service: string, log: Logger, opts: TelemetryOptions = {}): Promise<boolean> {
  const env = opts.env ?? process.env;
  if (tracing) return true;
  if (!opts.spanProcessors && !tracingWanted(env)) return false;
  // Loaded here only: with tracing off, the SDK never is.
  const { startTracing } = await import('./telemetry-sdk.ts');
  const serviceName = env.OTEL_SERVICE_NAME || `background-jobs-${service}`;
  tracing = startTracing(serviceName, opts.spanProcessors);
  // The exporters' names only: an endpoint or its headers may hold a key.
  const exporters = opts.spanProcessors ? 'the test\'s' : env.OTEL_TRACES_EXPORTER || 'otlp';
  log.info({ service: serviceName, exporter: exporters }, 'tracing on (OpenTelemetry)');
  return true;
}

/** tracingOn says whether startTelemetry turned tracing on. */
export function tracingOn(): boolean {
  return tracing !== undefined;
}

/** bullmqTelemetry is the `telemetry` option for BullMQ, or undefined while tracing is off. */
export function bullmqTelemetry(): Telemetry | undefined {
  return tracing?.bullmq;
}

/** httpTracing is the middleware that traces each request, or undefined while tracing is off. */
export function httpTracing(): MiddlewareHandler | undefined {
  return tracing?.http;
}

/** stopTelemetry sends the spans still buffered; the processes call it last on shutdown. */
export async function stopTelemetry(): Promise<void> {
  const stopping = tracing;
  tracing = undefined;
  await stopping?.shutdown();
}
