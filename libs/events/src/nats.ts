import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';

/** Config keys of a service that talks to NATS. */
export const natsConfigSchema = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
});

/** Connects with unlimited reconnects: a NATS outage delays events, it never drops them. */
export function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
}
