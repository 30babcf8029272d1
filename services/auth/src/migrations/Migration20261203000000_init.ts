import { Migration } from '@mikro-orm/migrations';
import { outboxTableSql } from '@charge/events';

/** users and user_sessions as in the seed design (timestamptz), plus rotation, throttling and the outbox. */
export class Migration20261203000000_init extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "auth"."users" (
      "id" serial primary key,
      "username" varchar(50) not null unique,
      "email" varchar(100) not null unique,
      "password_hash" varchar(255) not null,
      "first_name" varchar(50) null,
      "last_name" varchar(50) null,
      "role" varchar(20) not null default 'user',
      "is_active" boolean not null default true,
      "avatar_url" varchar(255) null,
      "last_login" timestamptz null,
      "created_at" timestamptz not null default current_timestamp,
      "updated_at" timestamptz not null default current_timestamp
    );`);
    this.addSql(`create index "idx_users_username" on "auth"."users" ("username");`);
    this.addSql(`create index "idx_users_email" on "auth"."users" ("email");`);
    this.addSql(`create index "idx_users_role" on "auth"."users" ("role");`);
    // Case-insensitive uniqueness (the plain UNIQUE constraints are the seed's).
    this.addSql(`create unique index "users_username_lower_unique" on "auth"."users" (lower("username"));`);
    this.addSql(`create unique index "users_email_lower_unique" on "auth"."users" (lower("email"));`);

    this.addSql(`create table "auth"."user_sessions" (
      "id" serial primary key,
      "user_id" integer not null references "auth"."users" ("id") on delete cascade,
      "token_hash" varchar(255) not null unique,
      "expires_at" timestamptz not null,
      "ip_address" varchar(45) null,
      "user_agent" text null,
      "created_at" timestamptz not null default current_timestamp
    );`);
    this.addSql(`create index "idx_user_sessions_user_id" on "auth"."user_sessions" ("user_id");`);
    this.addSql(`create index "idx_user_sessions_expires" on "auth"."user_sessions" ("expires_at");`);

    this.addSql(`create table "auth"."rotated_refresh_tokens" (
      "token_hash" varchar(64) primary key,
      "session_id" integer not null references "auth"."user_sessions" ("id") on delete cascade,
      "rotated_at" timestamptz not null default now()
    );`);
    this.addSql(
      `create index "idx_rotated_refresh_tokens_session_id" on "auth"."rotated_refresh_tokens" ("session_id");`,
    );

    this.addSql(`create table "auth"."login_throttles" (
      "email" varchar(100) primary key,
      "failed_count" integer not null,
      "window_started_at" timestamptz not null,
      "locked_until" timestamptz null
    );`);

    for (const sql of outboxTableSql('auth')) this.addSql(sql);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "auth"."outbox_messages";`);
    this.addSql(`drop table if exists "auth"."login_throttles";`);
    this.addSql(`drop table if exists "auth"."rotated_refresh_tokens";`);
    this.addSql(`drop table if exists "auth"."user_sessions";`);
    this.addSql(`drop table if exists "auth"."users";`);
  }
}
