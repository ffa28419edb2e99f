import type { Transaction } from 'better-sqlite3';
import type { Db } from './database.ts';
import { statement } from './statements.ts';

/**
 * Product is something the shop sells. Prices are in cents, to avoid float
 * rounding. `stock` is what is on the shelf; `reserved` is the part of it that
 * orders have bought but update_inventory has not taken off yet. An order can
 * buy only what is left: stock - reserved.
 */
export interface Product {
  sku: string;
  name: string;
  priceCents: number;
  stock: number;
  reserved: number;
}

/**
 * Order is one purchase of one product. Times are SQLite UTC datetimes,
 * 'YYYY-MM-DD HH:MM:SS'. `inventoryUpdatedAt` stays null until the
 * update_inventory job has taken the quantity off the stock.
 */
export interface Order {
  id: number;
  userId: number;
  sku: string;
  quantity: number;
  totalCents: number;
  createdAt: string;
  inventoryUpdatedAt: string | null;
}

/** NewOrder is what a customer asks for. The total is worked out from the price. */
export interface NewOrder {
  userId: number;
  sku: string;
  quantity: number;
}

/**
 * OrderError: the order cannot be made or found (unknown user, product or
 * order, bad quantity). It is the caller's mistake, so retrying will not help.
 */
export class OrderError extends Error {
  override name = 'OrderError';
}

/**
 * OutOfStockError: the product has fewer units left than the order asks for.
 * Units that other orders have reserved are not left.
 */
export class OutOfStockError extends OrderError {
  override name = 'OutOfStockError';

  constructor(
    readonly sku: string,
    readonly available: number,
    readonly requested: number,
  ) {
    super(available === 0 ? `${sku} is sold out` : `only ${available} ${sku} left, you asked for ${requested}`);
  }
}

const ORDER_COLUMNS = `id, user_id AS userId, sku, quantity, total_cents AS totalCents,
  created_at AS createdAt, inventory_updated_at AS inventoryUpdatedAt`;

/** OrderRepo creates and reads orders, and applies them to the stock. */
export class OrderRepo {
  // Each db.transaction() call builds four wrapper functions: under load that
  // showed in the profile, so each transaction is made once, here.
  readonly #placeOrder: Transaction<(input: NewOrder) => Order>;
  readonly #applyInventory: Transaction<(orderId: number) => boolean>;

  constructor(private readonly db: Db) {
    this.#placeOrder = db.transaction((input: NewOrder) => this.#place(input));
    this.#applyInventory = db.transaction((orderId: number) => this.#apply(orderId));
  }

  /**
   * insert creates an order at the product's current price and reserves its
   * quantity, so no other order can buy the same units. It throws an
   * OutOfStockError when fewer are left, and an OrderError for an unknown user
   * or product, or a quantity that is not a positive whole number; then it
   * writes nothing. To enqueue jobs for the order atomically, call it inside
   * `db.transaction(...)` together with `OutboxRepo.add`.
   */
  insert(input: NewOrder): Order {
    const { quantity } = input;
    if (!Number.isInteger(quantity) || quantity <= 0) {
      throw new OrderError(`quantity must be a positive whole number, got ${quantity}`);
    }
    // A transaction of its own, or a savepoint inside the caller's: a failure
    // after the reservation (an unknown user) takes the reservation back too.
    return this.#placeOrder.immediate(input);
  }

  #place({ userId, sku, quantity }: NewOrder): Order {
    this.reserve(sku, quantity);
    const product = this.findProduct(sku)!;
    const user = statement(this.db, 'SELECT 1 FROM users WHERE id = ?').get(userId);
    if (!user) throw new OrderError(`unknown user ${userId}`);

    const { lastInsertRowid } = statement(this.db, 'INSERT INTO orders (user_id, sku, quantity, total_cents) VALUES (?, ?, ?, ?)').run(
      userId,
      sku,
      quantity,
      product.priceCents * quantity,
    );
    return this.findById(Number(lastInsertRowid))!;
  }

  /**
   * reserve sets `quantity` units of the product aside for an order, or throws
   * if fewer are left. The check and the reservation are one UPDATE, so two
   * orders can never both take the last unit.
   *
   * It is the first statement of the order's transaction, and must stay so
   * inside a caller's transaction too (OrderService.create opens a deferred
   * one). Other processes write to the same file: a transaction that reads
   * first and writes later fails with "database is locked" if one of them
   * wrote in between, while one that starts with a write waits for its turn
   * (busy_timeout).
   */
  private reserve(sku: string, quantity: number): void {
    const reserved = statement(this.db, 'UPDATE products SET reserved = reserved + ? WHERE sku = ? AND stock - reserved >= ?').run(quantity, sku, quantity);
    if (reserved.changes === 1) return;

    const product = this.findProduct(sku);
    if (!product) throw new OrderError(`unknown product '${sku}'`);
    // Below 0 only in a database that sold too much before orders reserved.
    const left = Math.max(product.stock - product.reserved, 0);
    throw new OutOfStockError(sku, left, quantity);
  }

  /** findById returns the order, or undefined if there is none with that id. */
  findById(id: number): Order | undefined {
    return statement<[number], Order>(this.db, `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?`).get(id);
  }

  /** findProduct returns the product, or undefined for an unknown sku. */
  findProduct(sku: string): Product | undefined {
    return statement<[string], Product>(this.db, 'SELECT sku, name, price_cents AS priceCents, stock, reserved FROM products WHERE sku = ?').get(sku);
  }

  /**
   * createdSince returns the orders created at or after `since` and, if
   * `until` is given, before it, oldest first. The nightly digest uses it.
   * Strings may be any date or time SQLite understands, such as an ISO
   * timestamp ('2024-05-01T02:00:00Z') or a day ('2024-05-01', midnight UTC).
   */
  createdSince(since: string | Date, until?: string | Date): Order[] {
    const from = toSqliteTime(this.db, since);
    const to = until === undefined ? null : toSqliteTime(this.db, until);
    return statement<[string, string | null, string | null], Order>(
      this.db,
      `SELECT ${ORDER_COLUMNS} FROM orders
       WHERE created_at >= ? AND (? IS NULL OR created_at < ?)
       ORDER BY created_at, id`,
    ).all(from, to, to);
  }

  /**
   * applyInventory takes the order's quantity off its product's stock and
   * releases the reservation the order made, once. It returns true if it did,
   * and false if the order had been applied already: a retried
   * update_inventory job must not take the stock twice. Throws an OrderError
   * if there is no such order.
   */
  applyInventory(orderId: number): boolean {
    // IMMEDIATE takes the write lock at BEGIN, so the API and the worker
    // processes cannot interleave between the claim and the stock update.
    return this.#applyInventory.immediate(orderId);
  }

  #apply(orderId: number): boolean {
    // Claim the order first: only the call that flips inventory_updated_at
    // from NULL goes on to touch the stock.
    const claimed = statement(
      this.db,
      `UPDATE orders SET inventory_updated_at = datetime('now')
       WHERE id = ? AND inventory_updated_at IS NULL`,
    ).run(orderId);
    if (claimed.changes === 0) {
      if (!this.findById(orderId)) throw new OrderError(`unknown order ${orderId}`);
      return false;
    }
    const order = this.findById(orderId)!;
    // The units leave the shelf and the reservation together, so what is
    // left (stock - reserved) does not change: insert() sold them already.
    statement(this.db, 'UPDATE products SET stock = stock - ?, reserved = reserved - ? WHERE sku = ?').run(order.quantity, order.quantity, order.sku);
    return true;
  }
}

/** toSqliteTime turns a Date or time string into SQLite's 'YYYY-MM-DD HH:MM:SS' (UTC), as created_at stores it. */
function toSqliteTime(db: Db, value: string | Date): string {
  const input = value instanceof Date ? value.toISOString() : value;
  const time = statement<[string], { time: string | null }>(db, 'SELECT datetime(?) AS time').get(input)?.time;
  if (!time) throw new RangeError(`not a date or time: '${String(value)}'`);
  return time;
}
