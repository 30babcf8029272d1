/**
 * users.deleted is durable: events published while a service is down are handled when it
 * comes back, a failing handler is retried, malformed events are dropped, and the replicas
 * of one service share the work while two services each see every event. Real nats-server.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { eventually, TestNatsServer } from '@charge/testing';
import {
  connectNats,
  ensureStream,
  onUsersDeleted,
  USERS_DELETED_SUBJECT,
  usersDeletedDurable,
} from '../src';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const event = (userId: unknown) => JSON.stringify({ user_id: userId, deleted_at: new Date().toISOString() });

describe('users.deleted on the USERS stream', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await TestNatsServer.start();
    nc = await connectNats(nats.url, 'users-deleted-test');
    await ensureStream(await jetstreamManager(nc), 'USERS');
  });

  afterAll(async () => {
    await nc?.drain();
    await nats?.dispose();
  });

  test('an event published while the service is down is handled when it starts', async () => {
    const seen: number[] = [];
    const handler = async (id: number) => void seen.push(id);
    // The service ran once (its consumer exists), then stopped.
    await (
      await onUsersDeleted(nc, { queue: 'svc-a', handler, logger: quiet })
    )();
    nc.publish(USERS_DELETED_SUBJECT, event(41));
    nc.publish(USERS_DELETED_SUBJECT, event('not a number'));
    nc.publish(USERS_DELETED_SUBJECT, event(42));
    await nc.flush();
    expect(seen).toEqual([]);

    const stop = await onUsersDeleted(nc, { queue: 'svc-a', handler, logger: quiet });
    try {
      expect(
        await eventually(
          async () => [...seen],
          (s) => s.length >= 2,
          5000,
        ),
      ).toEqual([41, 42]);
      const jsm = await jetstreamManager(nc);
      const outstanding = async () => {
        const info = await jsm.consumers.info('USERS', usersDeletedDurable('svc-a'));
        return info.num_ack_pending + info.num_pending;
      };
      // Every event acknowledged or terminated (the malformed one): nothing left to redeliver.
      expect(await eventually(outstanding, (n) => n === 0, 3000)).toBe(0);
    } finally {
      await stop();
    }
  });

  test('a handler that fails is retried until it succeeds', async () => {
    let attempts = 0;
    const stop = await onUsersDeleted(nc, {
      queue: 'svc-flaky',
      logger: quiet,
      handler: async (id) => {
        if (id !== 77) return;
        attempts++;
        if (attempts < 3) throw new Error('database briefly unavailable');
      },
    });
    try {
      nc.publish(USERS_DELETED_SUBJECT, event(77));
      expect(
        await eventually(
          async () => attempts,
          (n) => n >= 3,
          10_000,
        ),
      ).toBe(3);
    } finally {
      await stop();
    }
  });

  test('replicas of one service share events; another service sees every event', async () => {
    const a1: number[] = [];
    const a2: number[] = [];
    const b: number[] = [];
    const stops = [
      await onUsersDeleted(nc, {
        queue: 'svc-shared',
        logger: quiet,
        handler: async (id) => void a1.push(id),
      }),
      await onUsersDeleted(nc, {
        queue: 'svc-shared',
        logger: quiet,
        handler: async (id) => void a2.push(id),
      }),
      await onUsersDeleted(nc, { queue: 'svc-other', logger: quiet, handler: async (id) => void b.push(id) }),
    ];
    try {
      // Both consumers were created before, at the stream's start: take only the new ids.
      for (const id of [501, 502, 503, 504]) nc.publish(USERS_DELETED_SUBJECT, event(id));
      const mine = (xs: number[]) => xs.filter((x) => x > 500);
      await eventually(
        async () => mine(a1).length + mine(a2).length,
        (n) => n >= 4,
        5000,
      );
      await eventually(
        async () => mine(b).length,
        (n) => n >= 4,
        5000,
      );
      expect([...mine(a1), ...mine(a2)].sort()).toEqual([501, 502, 503, 504]);
      expect(mine(b)).toEqual([501, 502, 503, 504]);
    } finally {
      for (const stop of stops) await stop();
    }
  });
});
