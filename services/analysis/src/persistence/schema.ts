import type { MigrationObject } from '@mikro-orm/core';
import { OutboxMessageEntity } from '@charge/events';
import { Migration20261203100000_init } from '../migrations/Migration20261203100000_init';
import { AnalysisResultEntity } from './analysis-result.entity';
import { AnalysisEntity } from './analysis.entity';

export const SCHEMA = 'analysis' as const;
export const entities = [AnalysisEntity, AnalysisResultEntity, OutboxMessageEntity];
export const migrations: MigrationObject[] = [
  { name: 'Migration20261203100000_init', class: Migration20261203100000_init },
];
