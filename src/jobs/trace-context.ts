import { context, isSpanContextValid, ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { tracingOn } from '../telemetry.ts';

/** version 00, trace id, parent span id, flags: https://www.w3.org/TR/trace-context/#traceparent-header */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * currentTraceparent is the active span as a W3C traceparent, the form the
 * outbox stores with a row. Undefined with tracing off or outside any span.
 */
export function currentTraceparent(): string | undefined {
  if (!tracingOn()) return undefined;
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || !isSpanContextValid(span)) return undefined;
  const sampled = (span.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
  return `00-${span.traceId}-${span.spanId}-${sampled ? '01' : '00'}`;
}

/**
 * inTraceOf runs `fn` as part of the trace a stored traceparent names. A row
 * without one runs outside any trace: the relay may have been kicked by an
 * unrelated request, and its job must not join that request's trace.
 */
export function inTraceOf<T>(traceparent: string | undefined, fn: () => T): T {
  if (!tracingOn()) return fn();
  return context.with(contextOf(traceparent), fn);
}

function contextOf(traceparent: string | undefined): Context {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!match) return ROOT_CONTEXT;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  const span = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
  return isSpanContextValid(span) ? trace.setSpanContext(ROOT_CONTEXT, span) : ROOT_CONTEXT;
}
