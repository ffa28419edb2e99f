import type { Db } from './database.ts';
import type { Product } from './orders.ts';
import type { User } from './users.ts';

/**
 * SEED_USERS are the demo users, for development and tests only. The third
 * one's name is full of HTML on purpose: open his emails in the mail catcher
 * and check that the name shows as text, not as markup.
 */
export const SEED_USERS: readonly User[] = [
  { id: 1, email: 'ada@example.test', name: 'Ada Lovelace', birthday: '1815-12-10' },
  { id: 2, email: 'grace@example.test', name: 'Grace Hopper', birthday: '1906-12-09' },
  { id: 3, email: 'bobby@example.test', name: 'Bobby <b>"Tables"</b> & Co', birthday: '2007-10-10' },
];

/** CatalogProduct is a product as the catalog lists it: nothing is reserved yet. */
export type CatalogProduct = Omit<Product, 'reserved'>;

/**
 * SEED_PRODUCTS are the shop's catalog, with their starting stock. The shop
 * cannot take an order without them, so every environment gets them,
 * production included.
 */
export const SEED_PRODUCTS: readonly CatalogProduct[] = [
  { sku: 'mug', name: 'Workshop mug', priceCents: 1_200, stock: 100 },
  { sku: 'tee', name: 'Workshop tee', priceCents: 2_500, stock: 50 },
  { sku: 'sticker', name: 'Sticker pack', priceCents: 300, stock: 1_000 },
];

/**
 * seedCatalog adds the products that are missing. It is safe to run on every
 * start: products that exist already are left alone, so stock that orders
 * have used up is not reset.
 */
export function seedCatalog(db: Db): void {
  const addProduct = db.prepare(
    'INSERT OR IGNORE INTO products (sku, name, price_cents, stock) VALUES (@sku, @name, @priceCents, @stock)',
  );
  db.transaction(() => {
    for (const product of SEED_PRODUCTS) addProduct.run(product);
  })();
}

/** seedDemoUsers adds the demo users that are missing. Never in production. */
export function seedDemoUsers(db: Db): void {
  const addUser = db.prepare(
    'INSERT OR IGNORE INTO users (id, email, name, birthday) VALUES (@id, @email, @name, @birthday)',
  );
  db.transaction(() => {
    for (const user of SEED_USERS) addUser.run(user);
  })();
}

/** seed adds the catalog and the demo users, as development does. Tests use it. */
export function seed(db: Db): void {
  seedCatalog(db);
  seedDemoUsers(db);
}
