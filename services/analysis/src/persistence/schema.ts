import type { MigrationObject } from '@mikro-orm/core';
import { OutboxMessageEntity } from '@charge/events';
import { Migration20261203100000_init } from '../migrations/Migration20261203100000_init';
import { Migration20261203110000_dbc_files } from '../migrations/Migration20261203110000_dbc_files';
import { Migration20261203190000_outbox_trace_context } from '../migrations/Migration20261203190000_outbox_trace_context';
import { AnalysisResultEntity } from './analysis-result.entity';
import { AnalysisEntity } from './analysis.entity';
import { DbcFileEntity } from './dbc-file.entity';

export const SCHEMA = 'analysis' as const;
export const entities = [AnalysisEntity, AnalysisResultEntity, DbcFileEntity, OutboxMessageEntity];
export const migrations: MigrationObject[] = [
  { name: 'Migration20261203100000_init', class: Migration20261203100000_init },
  { name: 'Migration20261203110000_dbc_files', class: Migration20261203110000_dbc_files },
  {
    name: 'Migration20261203190000_outbox_trace_context',
    class: Migration20261203190000_outbox_trace_context,
  },
];
