import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { wireApi } from '../src/api/wiring.ts';
import { openDatabase } from '../src/db/database.ts';
import { services, uniquePrefix } from './harness/services.ts';
import { quietLogger } from './support/jobs.ts';

// SQLITE_BUSY means "the database is away for now": 503, as for Redis, and the order is not lost.
it('POST /api/orders answers 503 while another process holds the database, and 201 once it is free', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'api-orders-busy-')), 'app.db');
  const api = wireApi(
    { env: 'test', admin: { user: 'admin', password: undefined }, databasePath: path, redisUrl: services().redisUrl, queuePrefix: uniquePrefix('api-orders-busy') },
    quietLogger,
  );
  const other = openDatabase(path);
  const order = () =>
    api.app.request('/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: 1, sku: 'mug', quantity: 1 }) });
  try {
    api.db.pragma('busy_timeout = 50'); // not the default 5 s
    other.exec('BEGIN IMMEDIATE');
    const res = await order();
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/^could not place the order now, try again: database is locked/) });
    other.exec('ROLLBACK');

    expect((await order()).status).toBe(201);
  } finally {
    other.close();
    await api.close();
  }
});
