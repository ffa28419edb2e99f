import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wireApi } from '../../src/api/wiring.ts';
import type { Db } from '../../src/db/database.ts';
import { SEED_PRODUCTS, SEED_USERS } from '../../src/db/seed.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { quietLogger } from '../support/jobs.ts';

// The catalog is data the shop needs to take any order, so every environment
// gets it. The demo users are for development and tests only.

type Env = 'development' | 'production' | 'test';

/** wired opens the API's database the way cmd/api.ts does in `env`, hands it to `look`, and closes it. */
async function wired(env: Env, databasePath: string, look: (db: Db) => void | Promise<void>) {
  const config = {
    env,
    admin: { user: 'admin', password: 'secret' },
    databasePath,
    redisUrl: services().redisUrl,
    queuePrefix: uniquePrefix(`seed-${env}`),
  };
  const api = wireApi(config, quietLogger);
  try {
    await look(api.db);
  } finally {
    await api.close();
  }
}

function products(db: Db) {
  return db.prepare('SELECT sku, name, price_cents AS priceCents, stock FROM products ORDER BY sku').all();
}

function userEmails(db: Db) {
  return db.prepare<[], { email: string }>('SELECT email FROM users ORDER BY id').all().map((row) => row.email);
}

const catalog = [...SEED_PRODUCTS].sort((a, b) => a.sku.localeCompare(b.sku));

describe('a fresh database', () => {
  it('in production has the catalog and no demo users', async () => {
    await wired('production', ':memory:', (db) => {
      expect(products(db)).toEqual(catalog);
      expect(userEmails(db)).toEqual([]);
    });
  });

  it('in development has the catalog and the demo users', async () => {
    await wired('development', ':memory:', (db) => {
      expect(products(db)).toEqual(catalog);
      expect(userEmails(db)).toEqual(SEED_USERS.map((user) => user.email));
    });
  });
});

describe('production', () => {
  it('takes an order for a catalog product from a real customer', async () => {
    const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('seed-order'), env: 'production' });
    try {
      bed.db.prepare("INSERT INTO users (id, email, name, birthday) VALUES (42, 'kim@example.test', 'Kim', '1990-01-01')").run();
      const { status, body } = await bed.post('/api/orders', { user_id: 42, sku: 'mug', quantity: 1 });
      expect({ status, error: body.error }).toEqual({ status: 201, error: undefined });
    } finally {
      await bed.close();
    }
  });
});

describe('restarting on a database that has sold things', () => {
  it('leaves the stock alone and adds only what is missing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'seed-test-')), 'app.db');
    await wired('production', path, (db) => {
      db.prepare("UPDATE products SET stock = 7 WHERE sku = 'mug'").run();
      db.prepare("DELETE FROM products WHERE sku = 'sticker'").run();
    });

    await wired('production', path, (db) => {
      const stock = (sku: string) => db.prepare<[string], { stock: number }>('SELECT stock FROM products WHERE sku = ?').get(sku)?.stock;
      expect(stock('mug')).toBe(7);
      expect(stock('sticker')).toBe(SEED_PRODUCTS.find((p) => p.sku === 'sticker')!.stock);
      expect(userEmails(db)).toEqual([]);
    });
  });
});
