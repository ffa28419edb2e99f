import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { MIGRATIONS } from '../../src/db/migrations.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';

afterAll(stopAll);

it('processes that open a new database at the same moment all succeed, and it is migrated once', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'race-db-')), 'app.db');
  const openers = Array.from({ length: 4 }, (_, i) => spawnScript('test/support/fixtures/open-db.ts', { DATABASE_PATH: path }, `opener-${i}`));

  const exits = await Promise.all(openers.map((p) => p.exited));
  // A failure shows what each process wrote: why it exited is in its output.
  expect(exits.map((e) => e.code), openers.map((p, i) => `opener-${i}:\n${p.output()}`).join('\n')).toEqual([0, 0, 0, 0]);
  const db = openDatabase(path);
  expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  db.close();
});

it('opening a new database that another process holds locked waits for the lock, rather than failing', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'locked-db-')), 'app.db');
  const holder = spawnScript('test/support/fixtures/hold-db-lock.ts', { DATABASE_PATH: path, HOLD_MS: '1000' }, 'holder');
  await holder.waitForOutput(/locked/);

  const db = openDatabase(path);
  expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  db.close();
  expect((await holder.exited).code, holder.output()).toBe(0);
});
