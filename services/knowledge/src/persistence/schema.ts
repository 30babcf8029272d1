import type { MigrationObject } from '@mikro-orm/core';
import { OutboxMessageEntity } from '@charge/events';
import { Migration20261203170000_init } from '../migrations/Migration20261203170000_init';
import { Migration20261203190000_outbox_trace_context } from '../migrations/Migration20261203190000_outbox_trace_context';
import { ChunkEntity } from './chunk.entity';
import { CollectionEntity } from './collection.entity';
import { DocumentEventEntity } from './document-event.entity';
import { DocumentEntity } from './document.entity';
import { RagQueryEntity } from './rag-query.entity';

export const SCHEMA = 'knowledge' as const;

export const entities = [
  CollectionEntity,
  DocumentEntity,
  ChunkEntity,
  DocumentEventEntity,
  RagQueryEntity,
  OutboxMessageEntity,
];

export const migrations: MigrationObject[] = [
  { name: 'Migration20261203170000_init', class: Migration20261203170000_init },
  {
    name: 'Migration20261203190000_outbox_trace_context',
    class: Migration20261203190000_outbox_trace_context,
  },
];
