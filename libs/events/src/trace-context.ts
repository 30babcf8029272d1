import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { headers as natsHeaders, Match, type MsgHdrs } from '@nats-io/nats-core';

/** W3C trace context (and anything else the registered propagator writes) of a staged message. */
export type TraceCarrier = Record<string, string>;

const TRACER = '@charge/events';

const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => carrier?.keys() ?? [],
  get: (carrier, key) => {
    if (!carrier?.has(key, Match.IgnoreCase)) return undefined;
    const values = carrier.values(key, Match.IgnoreCase);
    return values.length > 1 ? values : values[0];
  },
};

/**
 * Starts and ends a PRODUCER span for one message staged in the outbox (a child of the
 * active span, e.g. the RPC that stages it) and returns its context in propagation form
 * (`traceparent`, `tracestate`), or null when no tracer provider is registered.
 */
export function producerTraceContext(subject: string, messageId: string): TraceCarrier | null {
  const span = trace.getTracer(TRACER).startSpan(
    `create ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'create',
        'messaging.operation.name': 'outbox',
        'messaging.destination.name': subject,
        'messaging.message.id': messageId,
      },
    },
    context.active(),
  );
  const carrier: TraceCarrier = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  span.end();
  return Object.keys(carrier).length ? carrier : null;
}

/** NATS message headers carrying a stored trace context (undefined when there is none). */
export function traceHeaders(carrier: TraceCarrier | null | undefined, into?: MsgHdrs): MsgHdrs | undefined {
  const entries = Object.entries(carrier ?? {}).filter(([, v]) => typeof v === 'string' && v);
  if (!entries.length) return into;
  const h = into ?? natsHeaders();
  for (const [key, value] of entries) h.set(key, value);
  return h;
}

/** The producer's context from a message's headers (ROOT_CONTEXT's span-less context when absent). */
export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

export interface ConsumerSpanOptions {
  subject: string;
  /** JetStream stream name, when the message came from one. */
  stream?: string;
  /** Durable consumer or queue group name. */
  consumer?: string;
  messageId?: string;
  deliveryCount?: number;
  headers: MsgHdrs | undefined;
}

/** The span options of a JetStream message handled by `consumer` of `stream`. */
export function jetStreamSpanOptions(
  msg: { subject: string; headers?: MsgHdrs; info: { deliveryCount: number } },
  stream: string,
  consumer: string,
): ConsumerSpanOptions {
  return {
    subject: msg.subject,
    stream,
    consumer,
    messageId: msg.headers?.get('Nats-Msg-Id') || undefined,
    deliveryCount: msg.info.deliveryCount,
    headers: msg.headers,
  };
}

/**
 * Runs `fn` inside a CONSUMER span whose parent is the producer context found in the
 * message headers (so downstream calls made by `fn`, and its log records, continue the
 * producer's trace). The span is ended by the caller (after the ack/nak/term decision).
 */
export function startConsumerSpan<T>(options: ConsumerSpanOptions, fn: (span: Span) => T): T {
  const parent = extractTraceContext(options.headers);
  const attributes: Record<string, string | number> = {
    'messaging.system': 'nats',
    'messaging.operation.type': 'process',
    'messaging.destination.name': options.subject,
  };
  if (options.stream) attributes['messaging.nats.stream'] = options.stream;
  if (options.consumer) attributes['messaging.consumer.group.name'] = options.consumer;
  if (options.messageId) attributes['messaging.message.id'] = options.messageId;
  if (options.deliveryCount !== undefined)
    attributes['messaging.nats.delivery_count'] = options.deliveryCount;
  return trace
    .getTracer(TRACER)
    .startActiveSpan(`process ${options.subject}`, { kind: SpanKind.CONSUMER, attributes }, parent, fn);
}

/** Marks a consumer span failed (nak or term). */
export function failSpan(span: Span, error: unknown, outcome: string): void {
  span.setAttribute('messaging.nats.outcome', outcome);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
}
