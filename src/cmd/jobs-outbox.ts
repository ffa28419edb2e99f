// `npm run jobs -- outbox`: the API's outbox table, read from SQLite alone, so
// that it works while Redis is down (which is when the outbox matters most).
import { existsSync } from 'node:fs';
import { IN_MEMORY, openDatabase } from '../db/database.ts';
import { OutboxRepo } from '../db/outbox.ts';
import { OUTBOX_SWEEP_MS } from '../jobs/outbox.ts';
import type { JobsCommand } from './jobs-args.ts';
import { formatOutbox, formatOutboxCounts } from './jobs-format.ts';

/** DEAD_OUTBOX_LIMIT is how many dead outbox rows `outbox` lists, oldest first. */
export const DEAD_OUTBOX_LIMIT = 50;

/** OutboxCommand is a command that needs the database and no Redis. */
export type OutboxCommand = Extract<JobsCommand, { name: 'outbox' | 'outbox-requeue' }>;

/** isOutboxCommand tells the commands that run on the database alone. */
export function isOutboxCommand(command: JobsCommand): command is OutboxCommand {
  return command.name === 'outbox' || command.name === 'outbox-requeue';
}

/**
 * runOutboxCommand carries out an outbox command on the API's database at
 * databasePath and returns what to print. It throws, changing nothing, when
 * there is no database there or no dead row with the id given.
 */
export function runOutboxCommand(command: OutboxCommand, databasePath: string): string {
  return withOutbox(databasePath, (outbox) => {
    if (command.name === 'outbox') {
      const counts = { pending: outbox.countPending(), dead: outbox.countDead() };
      return formatOutbox(databasePath, counts, outbox.dead(DEAD_OUTBOX_LIMIT));
    }
    if (!outbox.requeue(command.id)) throw new Error(`no dead outbox row ${command.id} in ${databasePath} (npm run jobs -- outbox lists the dead ones)`);
    return [
      `outbox row ${command.id} is pending again, its tries counted from zero.`,
      `A running API's relay sends it within ${OUTBOX_SWEEP_MS / 1_000} s: it looks for such rows that often.`,
    ].join('\n');
  });
}

/**
 * outboxOverview is the outbox line of the `stats` overview. A database that
 * cannot be read gives a line that says why, not an error: the queue counts
 * above it still stand.
 */
export function outboxOverview(databasePath: string): string {
  try {
    return withOutbox(databasePath, (outbox) => formatOutboxCounts({ pending: outbox.countPending(), dead: outbox.countDead() }));
  } catch (err) {
    return `outbox: ${(err as Error).message}`;
  }
}

/**
 * withOutbox opens the database as the API does, runs `use` on its outbox in
 * one transaction (so counts and rows agree) and closes it. It never creates
 * a database: where there is none, it throws.
 */
function withOutbox<T>(databasePath: string, use: (outbox: OutboxRepo) => T): T {
  if (databasePath === IN_MEMORY || !existsSync(databasePath)) {
    throw new Error(`no database at ${databasePath} (DATABASE_PATH): the API creates it when it first starts`);
  }
  const db = openDatabase(databasePath);
  try {
    return db.transaction(() => use(new OutboxRepo(db)))();
  } finally {
    db.close();
  }
}
