import type { MigrationObject } from '@mikro-orm/core';
import { OutboxMessageEntity } from '@charge/events';
import { Migration20261203120000_init } from '../migrations/Migration20261203120000_init';
import { Migration20261203190000_outbox_trace_context } from '../migrations/Migration20261203190000_outbox_trace_context';
import { ConfigEntity } from './config.entity';
import { DatasetEntity } from './dataset.entity';
import { EvaluationEntity } from './evaluation.entity';
import { LogEntity } from './log.entity';
import { MetricEntity } from './metric.entity';
import { ModelVersionEntity } from './model-version.entity';
import { TaskEntity } from './task.entity';

export const SCHEMA = 'training' as const;

export const entities = [
  DatasetEntity,
  ConfigEntity,
  ModelVersionEntity,
  TaskEntity,
  MetricEntity,
  LogEntity,
  EvaluationEntity,
  OutboxMessageEntity,
];

export const migrations: MigrationObject[] = [
  { name: 'Migration20261203120000_init', class: Migration20261203120000_init },
  {
    name: 'Migration20261203190000_outbox_trace_context',
    class: Migration20261203190000_outbox_trace_context,
  },
];
