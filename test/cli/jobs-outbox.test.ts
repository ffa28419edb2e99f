import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { OutboxRepo } from '../../src/db/outbox.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { waitUntil } from '../support/wait.ts';

// `npm run jobs -- outbox` as a real process, on an outbox of our own making:
// a sent row, a pending one and two that Redis refused for good.
const root = mkdtempSync(join(tmpdir(), 'jobs-cli-outbox-'));
afterAll(() => stopAll());

/** OutboxFile is a database file with one row in each state, and their ids. */
interface OutboxFile {
  path: string;
  sent: number;
  pending: number;
  dead: number;
  deadLong: number;
}

let files = 0;

/** outboxFile writes a fresh database whose outbox has a sent, a pending and two dead rows. */
function outboxFile(): OutboxFile {
  const path = join(root, `app-${++files}.db`);
  const db = openDatabase(path);
  try {
    const outbox = new OutboxRepo(db);
    const add = (task: string, payload: unknown) => outbox.add({ task, payload, queue: 'default', runAt: Date.now() });
    const sent = add('send_receipt', { order_id: 1 });
    outbox.markSent(sent);
    const pending = add('send_receipt', { order_id: 2 });
    const dead = add('send_receipt', { order_id: 'three' });
    outbox.markDead(dead, 'bad payload for send_receipt: order_id: Invalid input: expected number, received string');
    // Data from users can hold anything: line breaks, escape sequences, text that turns itself around.
    const deadLong = add('send_welcome', { to: 'ada@example.test', name: `Ada\u202e\u001b[2J${'x'.repeat(1_000)}` });
    outbox.markDead(deadLong, 'unknown queue\n\u001b[31mred\u001b[0m');
    return { path, sent, pending, dead, deadLong };
  } finally {
    db.close();
  }
}

/** rows reads the whole outbox table, to see what a command changed. */
function rows(path: string): Record<string, unknown>[] {
  const db = openDatabase(path);
  try {
    return db.prepare('SELECT * FROM outbox ORDER BY id').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/** jobs runs `npm run jobs -- <args>` on a database and returns its exit code, its output and how long it took. */
async function jobs(args: string[], env: { DATABASE_PATH: string; REDIS_URL?: string; QUEUE_PREFIX?: string }) {
  const startedAt = Date.now();
  // Unless a test names one, Redis is a port where nothing listens: the outbox commands must not need it.
  const redisUrl = env.REDIS_URL ?? `redis://:s3cret-pw@127.0.0.1:${await freePort()}`;
  const child = spawnScript('src/cmd/jobs.ts', { ...env, REDIS_URL: redisUrl }, `jobs ${args.join(' ')}`, args);
  const { code } = await child.exited;
  return { code, output: child.output(), tookMs: Date.now() - startedAt };
}

describe('npm run jobs -- outbox', () => {
  it('prints the counts, then each dead row with its reason and payload, with Redis down', async () => {
    const file = outboxFile();
    const { code, output, tookMs } = await jobs(['outbox'], { DATABASE_PATH: file.path });
    expect(code, output).toBe(0);
    // node and tsx start in about 1 s, far more on a loaded machine; the point is that it does not wait for Redis.
    expect(tookMs).toBeLessThan(25_000);
    const blocks = output.trimEnd().split('\n\n');
    expect(blocks[0]).toBe(`outbox in ${file.path}: 1 pending, 2 dead`);
    expect(blocks[1]).toMatch(
      new RegExp(
        [
          `^dead row ${file.dead}`,
          ' {2}task {6}send_receipt',
          ' {2}queue {5}default',
          ' {2}died at {3}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC',
          ' {2}attempts {2}1',
          ' {2}reason {4}bad payload for send_receipt: order_id: Invalid input: expected number, received string',
          ' {2}payload {3}\\{"order_id":"three"\\}$',
        ].join('\n'),
      ),
    );
    expect(blocks[2]).toContain(`dead row ${file.deadLong}\n  task      send_welcome\n`);
    // The reason on one line, its escape sequences masked; the payload cut short, as JSON.
    expect(blocks[2]).toContain('  reason    unknown queue ?[31mred?[0m\n');
    expect(blocks[2]).toMatch(/ {2}payload {3}\{"to":"ada@example\.test","name":"Ada\?\\u001b\[2Jx+…$/);
    expect(blocks[2]!.split('\n').at(-1)!.length).toBeLessThan(350);
    expect(blocks[3]).toBe('once the cause is fixed, send one again with: npm run jobs -- outbox requeue <id>');
    expect(blocks).toHaveLength(4);
    expect(output).not.toMatch(/[\u001b\u202e]/);
    expect(output).not.toContain('s3cret-pw');
  });

  it('says so plainly when no row is dead', async () => {
    const file = outboxFile();
    const db = openDatabase(file.path);
    db.prepare('DELETE FROM outbox WHERE dead_at IS NOT NULL').run();
    db.close();
    const { code, output } = await jobs(['outbox'], { DATABASE_PATH: file.path });
    expect({ code, output: output.trim() }).toEqual({ code: 0, output: `outbox in ${file.path}: 1 pending, 0 dead\nno dead outbox rows` });
  });

  it('fails with a clear reason where there is no database, and creates none', async () => {
    const path = join(root, 'missing.db');
    const { code, output } = await jobs(['outbox'], { DATABASE_PATH: path });
    expect({ code, output: output.trim() }).toEqual({ code: 1, output: `error: no database at ${path} (DATABASE_PATH): the API creates it when it first starts` });
    expect(existsSync(path)).toBe(false);
  });
});

describe('npm run jobs -- outbox requeue', () => {
  it('makes a dead row pending again, with Redis down, and says when it goes out', async () => {
    const file = outboxFile();
    const { code, output } = await jobs(['outbox', 'requeue', String(file.dead)], { DATABASE_PATH: file.path });
    expect(code, output).toBe(0);
    expect(output.trim()).toBe(
      [
        `outbox row ${file.dead} is pending again, its tries counted from zero.`,
        "A running API's relay sends it within 5 s: it looks for such rows that often.",
      ].join('\n'),
    );
    const after = rows(file.path);
    expect(after.find((row) => row.id === file.dead)).toMatchObject({ dead_at: null, sent_at: null, attempts: 0 });
    expect(after.find((row) => row.id === file.deadLong)).toMatchObject({ dead_at: expect.any(Number) });
    const db = openDatabase(file.path);
    expect(new OutboxRepo(db).pending().map((entry) => entry.id)).toEqual([file.pending, file.dead]);
    db.close();
  });

  it('is sent by a running API that no order kicks, within its sweep', async () => {
    const file = outboxFile();
    // A row that died for a cause since fixed: its payload fits its task.
    const db = openDatabase(file.path);
    const outbox = new OutboxRepo(db);
    const fixed = outbox.add({ task: 'send_receipt', payload: { order_id: 4 }, queue: 'default', runAt: Date.now() });
    outbox.markDead(fixed, 'Redis refused the job: OOM command not allowed when used memory > maxmemory');
    db.close();
    const prefix = uniquePrefix('jobs-cli-outbox-sweep');
    const env = { DATABASE_PATH: file.path, REDIS_URL: services().redisUrl, QUEUE_PREFIX: prefix };
    const api = spawnScript('src/cmd/api.ts', { ...env, PORT: String(await freePort()) }, 'api-sweep');
    await api.waitForOutput(/API listening/, 30_000);
    // The API's first pass sends the pending row; the dead one waits for the requeue.
    const queue = new Queue('default', { connection: { url: services().redisUrl }, prefix });
    try {
      await waitUntil('the pending row in Redis', async () => (await queue.getJob(`outbox-${file.pending}`)) !== undefined, 15_000);
      expect(await queue.getJob(`outbox-${fixed}`)).toBeUndefined();

      const { code, output } = await jobs(['outbox', 'requeue', String(fixed)], env);
      expect(code, output).toBe(0);
      await waitUntil('the requeued row in Redis, with no order to kick the relay', async () => (await queue.getJob(`outbox-${fixed}`)) !== undefined, 15_000);
    } finally {
      await queue.close();
      api.kill('SIGTERM');
      await api.exited;
    }
  }, 60_000);

  it('fails, changing nothing, for an id that is unknown or not dead', async () => {
    const file = outboxFile();
    const before = rows(file.path);
    const ids = [999, file.pending, file.sent];
    const results = await Promise.all(ids.map((id) => jobs(['outbox', 'requeue', String(id)], { DATABASE_PATH: file.path })));
    results.forEach(({ code, output }, i) => {
      expect({ code, output: output.trim() }).toEqual({
        code: 1,
        output: `error: no dead outbox row ${ids[i]} in ${file.path} (npm run jobs -- outbox lists the dead ones)`,
      });
    });
    expect(rows(file.path)).toEqual(before);
  });

  it('refuses an id that is not one with a usage error, changing nothing', async () => {
    const file = outboxFile();
    const before = rows(file.path);
    const cases: [string[], string][] = [
      [['outbox', 'requeue', `${file.dead}.0`], `error: "${file.dead}.0" is not an outbox row id: a whole number of 1 or more`],
      [['outbox', 'requeue', '9'.repeat(17)], 'is not an outbox row id'],
      [['outbox', 'requeue'], 'error: outbox requeue needs more arguments (usage: npm run jobs -- outbox requeue <id>)'],
    ];
    const results = await Promise.all(cases.map(([args]) => jobs(args, { DATABASE_PATH: file.path })));
    results.forEach(({ code, output }, i) => {
      expect(code, cases[i]![0].join(' ')).toBe(1);
      expect(output.trim().split('\n')).toHaveLength(1);
      expect(output).toContain(cases[i]![1]);
    });
    expect(rows(file.path)).toEqual(before);
  });
});

describe('npm run jobs: the overview', () => {
  it('adds the outbox counts, pointing at `outbox` when rows are dead', async () => {
    const file = outboxFile();
    const env = { DATABASE_PATH: file.path, REDIS_URL: services().redisUrl, QUEUE_PREFIX: uniquePrefix('jobs-cli-outbox') };
    const withDead = await jobs([], env);
    expect(withDead.code, withDead.output).toBe(0);
    expect(withDead.output).toMatch(/^default\s+0\s+0\s+0\s+0\s+0$/m);
    expect(withDead.output).toMatch(/^outbox: 1 pending, 2 dead \(npm run jobs -- outbox lists them\)$/m);

    await Promise.all([file.dead, file.deadLong].map((id) => jobs(['outbox', 'requeue', String(id)], env)));
    const noneDead = await jobs(['stats'], env);
    expect(noneDead.code, noneDead.output).toBe(0);
    expect(noneDead.output).toMatch(/^outbox: 3 pending, 0 dead$/m);
  });
});
