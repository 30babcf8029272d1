import type { MigrationObject } from '@mikro-orm/core';
import { OutboxMessageEntity } from '@charge/events';
import { Migration20261203000000_init } from '../migrations/Migration20261203000000_init';
import { Migration20261203190000_outbox_trace_context } from '../migrations/Migration20261203190000_outbox_trace_context';
import { LoginThrottleEntity } from './login-throttle.entity';
import { UserEntity } from './user.entity';
import { RotatedTokenEntity, UserSessionEntity } from './user-session.entity';

export { SCHEMA } from './schema-name';

export const entities = [
  UserEntity,
  UserSessionEntity,
  RotatedTokenEntity,
  LoginThrottleEntity,
  OutboxMessageEntity,
];

export const migrations: MigrationObject[] = [
  { name: 'Migration20261203000000_init', class: Migration20261203000000_init },
  {
    name: 'Migration20261203190000_outbox_trace_context',
    class: Migration20261203190000_outbox_trace_context,
  },
];
