import type { Statement } from 'better-sqlite3';
import type { Db } from './database.ts';

const cache = new WeakMap<Db, Map<string, Statement>>();

/**
 * statement returns the prepared statement for `sql` on `db`, preparing it the
 * first time only. Preparing compiles the SQL: under load it cost more than
 * running the statement (see BENCHMARKS.md).
 */
export function statement<Params extends unknown[] = unknown[], Row = unknown>(db: Db, sql: string): Statement<Params, Row> {
  let byText = cache.get(db);
  if (!byText) cache.set(db, (byText = new Map()));
  let prepared = byText.get(sql);
  if (!prepared) byText.set(sql, (prepared = db.prepare(sql)));
  return prepared as unknown as Statement<Params, Row>;
}
