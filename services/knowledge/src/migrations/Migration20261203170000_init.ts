import { Migration } from '@mikro-orm/migrations';
import { outboxTableSql } from '@charge/events';

const S = '"knowledge"';

/**
 * The seed design's three tables with timestamptz and jsonb (user ids as plain indexed
 * integers: users live in auth), per-collection chunking settings, the chunk table (jieba
 * tokens with a generated tsvector and GIN index, primary tag, metadata, vector id), the
 * ingest event log and the outbox.
 */
export class Migration20261203170000_init extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table ${S}."knowledge_collections" (
      "id" serial primary key,
      "name" varchar(100) not null,
      "description" text null,
      "collection_type" varchar(50) not null default 'document',
      "chroma_collection_id" varchar(255) null unique,
      "document_count" integer null default 0,
      "chunk_count" integer not null default 0,
      "embedding_model" varchar(100) null default 'bge-base-zh-v1.5',
      "chunk_size" integer not null default 800,
      "chunk_overlap" integer not null default 100,
      "is_active" boolean not null default true,
      "created_by" integer null,
      "created_at" timestamptz not null default current_timestamp,
      "updated_at" timestamptz not null default current_timestamp);`);
    this.addSql(
      `create index "idx_knowledge_collections_created_by" on ${S}."knowledge_collections" ("created_by");`,
    );
    this.addSql(
      `create index "idx_knowledge_collections_active" on ${S}."knowledge_collections" ("is_active");`,
    );
    this.addSql(
      `create index "idx_knowledge_collections_type" on ${S}."knowledge_collections" ("collection_type");`,
    );

    this.addSql(`create table ${S}."knowledge_documents" (
      "id" serial primary key,
      "collection_id" integer not null references ${S}."knowledge_collections" ("id") on delete cascade,
      "filename" varchar(255) not null,
      "file_path" varchar(500) not null,
      "file_size" bigint null,
      "file_type" varchar(50) null,
      "content" text null,
      "chunk_count" integer null default 0,
      "meta_info" jsonb null,
      "upload_status" varchar(20) not null default 'uploading',
      "processing_error" text null,
      "replaces_id" integer null,
      "uploaded_by" integer null,
      "created_at" timestamptz not null default current_timestamp,
      "updated_at" timestamptz not null default current_timestamp);`);
    this.addSql(
      `create index "idx_knowledge_documents_collection_id" on ${S}."knowledge_documents" ("collection_id");`,
    );
    this.addSql(
      `create index "idx_knowledge_documents_uploaded_by" on ${S}."knowledge_documents" ("uploaded_by");`,
    );
    this.addSql(
      `create index "idx_knowledge_documents_status" on ${S}."knowledge_documents" ("upload_status");`,
    );

    this.addSql(`create table ${S}."knowledge_chunks" (
      "id" uuid primary key,
      "document_id" integer not null references ${S}."knowledge_documents" ("id") on delete cascade,
      "collection_id" integer not null references ${S}."knowledge_collections" ("id") on delete cascade,
      "ordinal" integer not null,
      "content" text not null,
      "tokens" text not null,
      "tsv" tsvector generated always as (to_tsvector('simple', "tokens")) stored,
      "primary_key" varchar(255) null,
      "primary_tag" varchar(255) null,
      "metadata" jsonb not null default '{}',
      "vector_id" varchar(64) not null,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(
      `create index "idx_knowledge_chunks_document" on ${S}."knowledge_chunks" ("document_id", "ordinal");`,
    );
    this.addSql(
      `create index "idx_knowledge_chunks_tag" on ${S}."knowledge_chunks" ("collection_id", "primary_tag");`,
    );
    this.addSql(`create index "idx_knowledge_chunks_tsv" on ${S}."knowledge_chunks" using gin ("tsv");`);
    this.addSql(
      `create index "idx_knowledge_chunks_metadata" on ${S}."knowledge_chunks" using gin ("metadata" jsonb_path_ops);`,
    );

    this.addSql(`create table ${S}."knowledge_document_events" (
      "id" bigserial primary key,
      "document_id" integer not null references ${S}."knowledge_documents" ("id") on delete cascade,
      "stage" varchar(20) not null,
      "message" text not null default '',
      "done" integer not null default 0,
      "total" integer not null default 0,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(
      `create index "idx_knowledge_document_events_document" on ${S}."knowledge_document_events" ("document_id", "id");`,
    );

    this.addSql(`create table ${S}."rag_queries" (
      "id" serial primary key,
      "collection_id" integer not null references ${S}."knowledge_collections" ("id") on delete cascade,
      "query_text" text not null,
      "result_count" integer null default 0,
      "response_text" jsonb null,
      "user_id" integer null,
      "query_time_ms" integer null,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(`create index "idx_rag_queries_collection_id" on ${S}."rag_queries" ("collection_id");`);
    this.addSql(`create index "idx_rag_queries_created_at" on ${S}."rag_queries" ("created_at");`);
    this.addSql(`create index "idx_rag_queries_user_id" on ${S}."rag_queries" ("user_id");`);

    for (const sql of outboxTableSql('knowledge')) this.addSql(sql);
  }
}
