import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareOne, prepareStatements, pluck, sql } from '../../src/store/sqlite/sqlite-prepare.js';

const Q = {
  insert: sql<[string, number]>('INSERT INTO t (name, n) VALUES (?, ?)'),
  byName: sql<[string], { name: string; n: number }>('SELECT name, n FROM t WHERE name = ?'),
  count: pluck<[], number>('SELECT count(*) FROM t'),
} as const;

describe('sqlite-prepare', () => {
  const opened: Database.Database[] = [];
  const open = (): Database.Database => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (name TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    opened.push(db);
    return db;
  };
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
  });

  it('prepares every entry under its own name: rows stay rows, a pluck answers the first column', () => {
    const q = prepareStatements(open(), Q);
    expect(Object.keys(q)).toEqual(['insert', 'byName', 'count']);
    expect(q.insert.run('a', 7).changes).toBe(1);
    expect(q.byName.get('a')).toEqual({ name: 'a', n: 7 });
    expect(q.count.get()).toBe(1);
  });

  it('prepares at once: a statement the schema rejects throws before any is used', () => {
    const db = open();
    const bad = { ...Q, broken: sql('SELECT missing FROM t') } as const;
    expect(() => prepareStatements(db, bad)).toThrow(/no such column: missing/);
  });

  it('prepares a single spec the same way', () => {
    const db = open();
    db.exec("INSERT INTO t VALUES ('b', 2)");
    expect(prepareOne(db, Q.count).get()).toBe(1);
    expect(prepareOne(db, Q.byName).get('b')).toEqual({ name: 'b', n: 2 });
  });
});
