import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { EntitySchema, MigrationObject } from '@mikro-orm/core';
import { z } from 'zod';

/** Every service's schema. Each service's schema generator ignores all the others. */
export const SERVICE_SCHEMAS = ['auth', 'analysis', 'knowledge', 'training', 'audit'] as const;
export type ServiceSchema = (typeof SERVICE_SCHEMAS)[number];

/** Config keys of a service that owns tables. */
export const databaseConfigSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .default('postgresql://postgres@127.0.0.1:5432/charge'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
});

export interface OrmOptions {
  schema: ServiceSchema;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MikroORM's own entity list type
  entities: EntitySchema<any, any>[];
  migrations: MigrationObject[];
  databaseUrl: string;
  poolMax?: number;
}

/**
 * MikroORM options confined to one schema: its own migrations table, and the schema diff
 * told to ignore every other service's schema (by default it covers all of them, and a
 * migration of one service once dropped another service's tables).
 */
export function ormOptions(options: OrmOptions): Options {
  return {
    clientUrl: options.databaseUrl,
    schema: options.schema,
    entities: options.entities,
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    pool: { min: 0, max: options.poolMax ?? 10 },
    extensions: [Migrator],
    migrations: {
      tableName: `${options.schema}.mikro_orm_migrations`,
      migrationsList: options.migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    schemaGenerator: {
      ignoreSchema: SERVICE_SCHEMAS.filter((s) => s !== options.schema),
    },
    forceUtcTimezone: true,
  };
}

export function createOrm(options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init(ormOptions(options));
}

/** Creates the service's schema if needed and applies its pending migrations. */
export async function migrateOrm(orm: MikroORM, schema: ServiceSchema): Promise<string[]> {
  await orm.em.getConnection().execute(`create schema if not exists "${schema}"`);
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
