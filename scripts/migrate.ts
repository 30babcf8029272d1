/**
 * Applies every service's committed migrations to DATABASE_URL (default: the local
 * `charge` database, created when missing). Each service migrates only its own schema.
 */
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createOrm, migrateOrm, type ServiceSchema } from '@charge/service-kit';
import type { EntitySchema, MigrationObject } from '@mikro-orm/core';

interface SchemaModule {
  SCHEMA: ServiceSchema;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  entities: EntitySchema<any, any>[];
  migrations: MigrationObject[];
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      await client.query(`create database "${name.replace(/"/g, '""')}"`);
      console.log(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/charge';
  await ensureDatabase(databaseUrl);
  const servicesDir = path.resolve(__dirname, '..', 'services');
  const only = process.argv.slice(2);
  for (const service of readdirSync(servicesDir).sort()) {
    const file = path.join(servicesDir, service, 'src', 'persistence', 'schema.ts');
    if (!existsSync(file) || (only.length && !only.includes(service))) continue;
    const mod = (await import(file)) as SchemaModule;
    const orm = await createOrm({
      schema: mod.SCHEMA,
      entities: mod.entities,
      migrations: mod.migrations,
      databaseUrl,
    });
    try {
      const applied = await migrateOrm(orm, mod.SCHEMA);
      console.log(`${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
    } finally {
      await orm.close();
    }
  }
}

main().catch((error) => {
  console.error(`migrate failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
