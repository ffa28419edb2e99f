import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wireApi } from '../../src/api/wiring.ts';
import { openDatabase } from '../../src/db/database.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { quietLogger } from '../support/jobs.ts';

// SQLITE_BUSY means "the database is away for now": 503, as for Redis, and nothing is written.
const WRITES = [
  { route: 'POST /api/users', path: '/api/users', body: { email: 'busy@example.test', name: 'Kim' }, error: /^could not sign up now, try again: database is locked/ },
  { route: 'POST /api/orders', path: '/api/orders', body: { user_id: 1, sku: 'mug', quantity: 1 }, error: /^could not place the order now, try again: database is locked/ },
];

describe.each(WRITES)('$route while another process holds the database', ({ path, body, error }) => {
  it('answers 503, and 201 once the database is free again', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'api-busy-')), 'app.db');
    const api = wireApi(
      { env: 'test', admin: { user: 'admin', password: undefined }, databasePath: file, redisUrl: services().redisUrl, queuePrefix: uniquePrefix('api-busy') },
      quietLogger,
    );
    const other = openDatabase(file);
    const send = () => api.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      api.db.pragma('busy_timeout = 50'); // not the default 5 s
      other.exec('BEGIN IMMEDIATE');
      const res = await send();
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: expect.stringMatching(error) });
      other.exec('ROLLBACK');

      expect((await send()).status).toBe(201);
    } finally {
      other.close();
      await api.close();
    }
  });
});
