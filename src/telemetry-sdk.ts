// The only file that loads the OpenTelemetry SDK. telemetry.ts imports it when tracing is on, never otherwise.
import { httpInstrumentationMiddleware } from '@hono/otel';
import { context, INVALID_SPAN_CONTEXT, propagation, trace, type Context } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind, type Telemetry } from 'bullmq';
import { BullMQOtel, BullMQOTelSpan } from 'bullmq-otel';
import type { Tracing } from './telemetry.ts';

/**
 * startTracing starts the Node SDK, which reads the OTEL_* variables: the
 * exporter (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*), the sampler, the
 * propagators, the resource. This app sends traces only: no metrics, no logs,
 * so the SDK's default OTLP metrics and logs exporters are not started.
 */
export function startTracing(serviceName: string, spanProcessors?: SpanProcessor[]): Tracing {
  const sdk = new NodeSDK({ serviceName, spanProcessors, metricReaders: [], logRecordProcessors: [] });
  sdk.start();
  return {
    bullmq: jobTracesOnly(new BullMQOtel({ tracerName: 'bullmq' })),
    http: httpInstrumentationMiddleware({ serviceName }),
    async shutdown() {
      await sdk.shutdown();
      // Unregister the SDK, so a test process can start it again.
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/**
 * jobTracesOnly keeps BullMQ's spans that belong to a trace (an add, a job's
 * run and its fetch) and drops its housekeeping outside any trace: the stalled
 * check every 5 s, a blocking fetch that found no job, a close. Each of those
 * would be a one-span trace of its own, dozens a minute per worker, burying
 * the requests.
 */
function jobTracesOnly(telemetry: BullMQOtel): Telemetry<Context> {
  const tracer = telemetry.tracer;
  return {
    contextManager: telemetry.contextManager,
    tracer: {
      startSpan(name, options, parent?: Context) {
        const housekeeping = options?.kind === SpanKind.INTERNAL && !trace.getSpan(parent ?? context.active());
        return housekeeping ? new BullMQOTelSpan(trace.wrapSpanContext(INVALID_SPAN_CONTEXT)) : tracer.startSpan(name, options, parent);
      },
    },
  };
}
