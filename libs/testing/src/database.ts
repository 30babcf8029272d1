import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createOrm, migrateOrm, type PersistenceModule } from '@charge/service-kit';

/** The machine's PostgreSQL (trust auth). Override with TEST_PG_URL. */
export function adminDatabaseUrl(): string {
  return process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates a fresh, empty database for one test file (dropped by `drop()`). */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = `ct_${prefix.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = adminDatabaseUrl();
  await withClient(admin, (c) => c.query(`create database "${name}"`));
  const url = admin.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  return {
    name,
    url,
    drop: () =>
      withClient(admin, (c) => c.query(`drop database if exists "${name}" with (force)`)).then(
        () => undefined,
      ),
  };
}

export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Applies the committed migrations of each service's persistence module (its
 * `persistence/schema.ts`) to a database, in order, as `npm run migrate` does.
 */
export async function migrateSchemas(databaseUrl: string, ...modules: PersistenceModule[]): Promise<void> {
  for (const mod of modules) {
    const orm = await createOrm({
      schema: mod.SCHEMA,
      entities: mod.entities,
      migrations: mod.migrations,
      databaseUrl,
    });
    try {
      await migrateOrm(orm, mod.SCHEMA);
    } finally {
      await orm.close();
    }
  }
}
