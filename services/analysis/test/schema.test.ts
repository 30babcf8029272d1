import { createOrm, migrateOrm } from '@charge/service-kit';
import { createTestDatabase, withClient, type TestDatabase } from '@charge/testing';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';

/**
 * Differences the ORM's schema diff reports that are intended: the migration owns the
 * foreign key of analysis_results and the check constraints on status/progress (the ORM
 * cannot compare normalized check expressions, and re-adding them makes it re-type
 * "status").
 */
const INTENDED = [
  /drop constraint "analysis_results_analysis_id_fkey"/,
  /(drop|add) constraint (if exists )?"?charging_analyses_(status|progress)_check"?/,
  /alter column "status" type varchar\(40\) using \("status"::varchar\(40\)\)/,
  /drop constraint "charging_analyses_dbc_id_foreign"|drop constraint "charging_analyses_dbc_id_fkey"/,
];

describe('analysis schema', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('analysisschema');
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('the init migration creates what the entities describe, and only in its own schema', async () => {
    await withClient(db.url, (c) =>
      c.query('create schema auth; create table auth.users (id serial primary key)'),
    );
    const orm = await createOrm({ schema: SCHEMA, entities, migrations, databaseUrl: db.url });
    try {
      expect(await migrateOrm(orm, SCHEMA)).toEqual([
        'Migration20261203100000_init',
        'Migration20261203110000_dbc_files',
        'Migration20261203190000_outbox_trace_context',
      ]);
      const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, schema: SCHEMA });
      const unexpected = diff
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !INTENDED.some((re) => re.test(l)));
      expect(unexpected).toEqual([]);
      expect(await migrateOrm(orm, SCHEMA)).toEqual([]);
    } finally {
      await orm.close();
    }
    const tables = await withClient(db.url, (c) =>
      c
        .query(
          `select table_schema || '.' || table_name as t from information_schema.tables
                 where table_schema in ('analysis', 'auth') order by 1`,
        )
        .then((r) => r.rows.map((x) => x.t)),
    );
    expect(tables).toEqual([
      'analysis.analysis_results',
      'analysis.charging_analyses',
      'analysis.dbc_files',
      'analysis.mikro_orm_migrations',
      'analysis.outbox_messages',
      'auth.users',
    ]);
    const columns = await withClient(db.url, (c) =>
      c
        .query(
          `select column_name, data_type from information_schema.columns
                 where table_schema = 'analysis' and table_name = 'charging_analyses'
                   and column_name in ('result_data', 'created_at', 'completed_at', 'user_id', 'status')
                 order by 1`,
        )
        .then((r) => r.rows),
    );
    expect(columns).toEqual([
      { column_name: 'completed_at', data_type: 'timestamp with time zone' },
      { column_name: 'created_at', data_type: 'timestamp with time zone' },
      { column_name: 'result_data', data_type: 'jsonb' },
      { column_name: 'status', data_type: 'character varying' },
      { column_name: 'user_id', data_type: 'integer' },
    ]);
  });
});
