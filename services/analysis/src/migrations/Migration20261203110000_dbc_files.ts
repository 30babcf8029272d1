import { Migration } from '@mikro-orm/migrations';

/** Uploaded DBC files (text kept in the row: they are small) and the DBC chosen per analysis. */
export class Migration20261203110000_dbc_files extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "analysis"."dbc_files" (
      "id" serial primary key,
      "name" varchar(100) not null,
      "file_name" varchar(255) null,
      "file_size" integer not null,
      "file_sha256" char(64) not null,
      "content" text not null,
      "message_count" integer not null,
      "signal_count" integer not null,
      "user_id" integer not null,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(`create index "idx_dbc_files_user_id" on "analysis"."dbc_files" ("user_id");`);
    this.addSql(`alter table "analysis"."charging_analyses" add column "dbc_id" integer null
      references "analysis"."dbc_files" ("id") on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "analysis"."charging_analyses" drop column "dbc_id";`);
    this.addSql(`drop table if exists "analysis"."dbc_files";`);
  }
}
