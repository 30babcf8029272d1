import { EntitySchema } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { findIdPage } from '@charge/service-kit';
import { createTestDatabase, withClient, type TestDatabase } from '@charge/testing';

interface Item {
  id: number;
  kind: string;
}

const ItemEntity = new EntitySchema<Item>({
  name: 'Item',
  tableName: 'items',
  properties: { id: { type: 'integer', primary: true }, kind: { type: 'string' } },
});

describe('findIdPage (real PostgreSQL)', () => {
  let db: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    db = await createTestDatabase('idpage');
    await withClient(db.url, (c) =>
      c.query(
        `create table items (id int primary key, kind text not null);
         insert into items select i, case when i % 2 = 0 then 'even' else 'odd' end from generate_series(1, 7) i`,
      ),
    );
    orm = await MikroORM.init({ clientUrl: db.url, entities: [ItemEntity], allowGlobalContext: false });
  });

  afterAll(async () => {
    await orm?.close();
    await db?.drop();
  });

  async function all(filter: object, order: 'asc' | 'desc') {
    const pages: number[][] = [];
    let pageToken = '';
    do {
      const page = await findIdPage(orm.em.fork(), ItemEntity, filter, { pageSize: 3, pageToken }, order);
      pages.push(page.items.map((i) => i.id));
      expect(page.totalSize).toBe(filter && 'kind' in filter ? 3 : 7);
      pageToken = page.nextPageToken;
    } while (pageToken && pages.length < 10);
    return pages;
  }

  test('pages newest first and oldest first without overlap, totals over the whole filter', async () => {
    expect(await all({}, 'desc')).toEqual([[7, 6, 5], [4, 3, 2], [1]]);
    expect(await all({}, 'asc')).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(await all({ kind: 'even' }, 'desc')).toEqual([[6, 4, 2]]);
  });

  test('a malformed token is INVALID_ARGUMENT naming page.page_token', async () => {
    const error = await findIdPage(orm.em.fork(), ItemEntity, {}, { pageToken: 'nope' }).catch((e) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).field).toBe('page.page_token');
  });
});
