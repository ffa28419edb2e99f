// The outbox relay tells a row that Redis will never take (a poison row) from
// an outage: the poison row is set aside as dead, named once in the log, and
// the rows around it go out; an outage keeps every row. And it sends in
// batches: one addBulk per queue, one markAllSent per batch, and a batch sent
// twice still makes one job per row.
import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { OutboxRepo, type NewOutboxEntry } from '../../src/db/outbox.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { producerConnection, type RedisTarget } from '../../src/jobs/connection.ts';
import { QUEUES } from '../../src/jobs/defaults.ts';
import { RELAY_BATCH_SIZE, sendBatch } from '../../src/jobs/outbox-jobs.ts';
import { BACK_NOTICE, OUTAGE_WARNING, OutboxRelay } from '../../src/jobs/outbox.ts';
import { captureLog, type LogCapture } from '../support/course/log.ts';
import { startRedisServer, type RedisServer } from '../support/services/redis-server.ts';
import { uniquePrefix } from '../support/services/services.ts';
import { testRedis } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';

/** A relay as the API wires it (a fail-fast connection, a JobsClient), on an in-memory outbox, with its log kept. */
interface Bed {
  db: Db;
  outbox: OutboxRepo;
  redis: Redis | Cluster;
  client: JobsClient;
  relay: OutboxRelay;
  log: LogCapture;
  /** add writes a row as OutboxWriter would, or one it would refuse. */
  add(row: Partial<NewOutboxEntry>): number;
  /** jobIds lists the ids of the jobs in every queue. */
  jobIds(): Promise<string[]>;
  /** errors and warnings are the relay's log lines at those levels. */
  errors(): LogLine[];
  warnings(): LogLine[];
}

interface LogLine {
  level: number;
  msg: string;
  outbox_id?: number;
  task?: string;
  queue?: string;
  error?: string;
}

const beds: Bed[] = [];
afterEach(async () => {
  for (const bed of beds.splice(0)) {
    await bed.relay.stop();
    // A queue whose connection never came up would wait for it forever.
    if (bed.redis.status === 'ready') await Promise.all(QUEUES.map((name) => bed.client.queue(name).obliterate({ force: true })));
    await bed.client.close();
    bed.redis.disconnect();
    bed.db.close();
  }
});

async function openBed(target: RedisTarget = testRedis(), opts: { wait?: boolean } = {}): Promise<Bed> {
  const db = openDatabase(':memory:');
  const outbox = new OutboxRepo(db);
  const redis = producerConnection(target);
  const client = new JobsClient(redis, { prefix: uniquePrefix('outbox-poison') });
  const log = captureLog();
  const relay = new OutboxRelay(outbox, client, log.logger, { retryMs: 50 });
  const lines = () => log.lines().map((line) => JSON.parse(line) as LogLine);
  const bed: Bed = {
    db,
    outbox,
    redis,
    client,
    relay,
    log,
    add: (row) => outbox.add({ task: 'send_receipt', payload: { order_id: 1 }, queue: 'default', runAt: Date.now(), ...row }),
    async jobIds() {
      const jobs = await Promise.all(QUEUES.map((name) => client.queue(name).getJobs(['waiting', 'delayed'], 0, -1)));
      return jobs.flat().map((job) => job.id!).sort();
    },
    errors: () => lines().filter((line) => line.level === 50),
    warnings: () => lines().filter((line) => line.level === 40),
  };
  beds.push(bed);
  if (opts.wait !== false) await waitUntil('the connection to Redis', () => redis.status === 'ready');
  return bed;
}

/** relayAll kicks the relay and waits until it is idle. */
async function relayAll(bed: Bed): Promise<void> {
  bed.relay.kick();
  await bed.relay.idle();
}

const jobIdsOf = (ids: number[]) => ids.map((id) => `outbox-${id}`).sort();

describe('a row that Redis will never take', () => {
  it('is set aside as dead with its reason, named once in the log, and the rows around it go out', async () => {
    const bed = await openBed();
    const first = bed.add({ payload: { order_id: 1 } });
    const badPayload = bed.add({ payload: { order_id: 'x' } });
    const notJson = bed.add({ task: 'update_inventory' });
    bed.db.prepare("UPDATE outbox SET payload = 'not json' WHERE id = ?").run(notJson);
    const last = bed.add({ task: 'update_inventory', payload: { order_id: 1 } });

    await relayAll(bed);
    // Several passes more, with new rows: each dead row is named once, not once per pass.
    const later = bed.add({ task: 'ask_for_review', payload: { order_id: 1 }, runAt: Date.now() + 60_000 });
    await relayAll(bed);
    await relayAll(bed);

    expect(await bed.jobIds(), 'the good rows reach Redis, each as its own job').toEqual(jobIdsOf([first, last, later]));
    expect(bed.outbox.countPending(), 'the good rows are marked sent').toBe(0);
    expect(bed.outbox.dead().map((row) => [row.id, row.error])).toEqual([
      [badPayload, expect.stringMatching(/^bad payload for send_receipt: order_id: /)],
      [notJson, expect.stringMatching(/^bad payload for update_inventory: /)],
    ]);

    const errors = bed.errors();
    expect(errors.map((line) => line.outbox_id), 'one error line per dead row, across all passes').toEqual([badPayload, notJson]);
    expect(errors[0]).toMatchObject({ task: 'send_receipt', queue: 'default', error: expect.stringMatching(/^bad payload for send_receipt/) });
    expect(errors[0]!.msg).toBe(
      `outbox: row ${badPayload} set aside as dead: ${errors[0]!.error}; requeue it with npm run jobs -- outbox requeue ${badPayload} (npm run jobs -- outbox lists the dead ones)`,
    );
    expect(bed.warnings(), 'a dead row is no outage').toEqual([]);
  });

  it('includes a row of an unknown task and a row of an unknown queue', async () => {
    const bed = await openBed();
    const good = bed.add({});
    const unknownTask = bed.add({ task: 'send_fax' });
    const unknownQueue = bed.add({ queue: 'urgent' });
    const lowQueue = bed.add({ queue: 'low' });

    await relayAll(bed);

    expect(await bed.jobIds()).toEqual(jobIdsOf([good, lowQueue]));
    expect(bed.outbox.dead().map((row) => [row.id, row.error])).toEqual([
      [unknownTask, 'unknown task "send_fax"'],
      [unknownQueue, 'unknown queue "urgent", expected one of critical, default, low'],
    ]);
    expect(bed.errors().map((line) => [line.outbox_id, line.task, line.queue])).toEqual([
      [unknownTask, 'send_fax', 'default'],
      [unknownQueue, 'send_receipt', 'urgent'],
    ]);
  });

  it('includes a job that Redis itself refuses: only that row goes dead, the rest of its bulk goes out', async () => {
    const bed = await openBed();
    const ids = [bed.add({ payload: { order_id: 1 } }), bed.add({ payload: { order_id: 2 } }), bed.add({ payload: { order_id: 3 } })];
    const refused = ids[1]!;
    // A key of the wrong type where BullMQ keeps the job outbox-<refused>: Redis refuses that job, and only that one.
    await bed.redis.set(bed.client.queue('default').toKey(`outbox-${refused}`), 'not a job');

    await relayAll(bed);

    expect(await bed.jobIds()).toEqual(jobIdsOf([ids[0]!, ids[2]!]));
    expect(bed.outbox.dead().map((row) => [row.id, row.error])).toEqual([[refused, expect.stringMatching(/^Redis refused the job: WRONGTYPE /)]]);
    expect(bed.outbox.countPending()).toBe(0);
    expect(bed.errors().map((line) => line.outbox_id)).toEqual([refused]);
    expect(bed.warnings()).toEqual([]);
  });

  it('does not stop the relay: a full batch with dead rows in it is followed by the next one at once', async () => {
    const bed = await openBed();
    const poison = bed.add({ payload: { order_id: 'x' } });
    bed.db.transaction(() => {
      for (let i = 1; i < RELAY_BATCH_SIZE + 10; i++) bed.add({ payload: { order_id: i } });
    })();

    await relayAll(bed); // one kick

    expect(bed.outbox.countPending(), 'every good row went out after one kick').toBe(0);
    expect(bed.outbox.dead().map((row) => row.id)).toEqual([poison]);
    expect((await bed.jobIds()).length).toBe(RELAY_BATCH_SIZE + 9);
    expect(bed.warnings()).toEqual([]);
  });
});

describe('sendBatch', () => {
  it('sets a job whose delay is below 0, NaN or Infinity aside as a bug, and sends the others', async () => {
    const bed = await openBed();
    const ids = [bed.add({}), bed.add({}), bed.add({}), bed.add({})];
    const rows = bed.outbox.pending();
    const delays = [0, -1, Number.NaN, Number.POSITIVE_INFINITY];

    const batch = await sendBatch(bed.client, rows.map((row, i) => ({ row, delay: delays[i]!, jobId: `outbox-${row.id}` })));

    expect(batch.sent).toEqual([ids[0]]);
    expect(batch.dead.map((row) => [row.id, row.reason])).toEqual([
      [ids[1], 'delay must be 0 or more ms, got -1'],
      [ids[2], 'delay must be 0 or more ms, got NaN'],
      [ids[3], 'delay must be 0 or more ms, got Infinity'],
    ]);
    expect(await bed.jobIds()).toEqual(jobIdsOf([ids[0]!]));
  });
});

describe('an outage', () => {
  let own: RedisServer | undefined;
  afterAll(() => own?.stop());

  it('keeps every row pending, none dead, and warns once: a connection that is down', async () => {
    const bed = await openBed({ redisUrl: `redis://127.0.0.1:${await freePort()}` }, { wait: false });
    const ids = QUEUES.map((queue) => bed.add({ queue }));

    bed.relay.kick();
    await waitUntil('a few tries', () => bed.outbox.pending()[0]!.attempts >= 3);
    await bed.relay.stop();

    expect(bed.outbox.pending().map((row) => row.id)).toEqual(ids);
    expect(bed.outbox.countDead()).toBe(0);
    expect(bed.errors()).toEqual([]);
    expect(bed.warnings().map((line) => line.msg)).toEqual([OUTAGE_WARNING]);
  });

  it('keeps every row pending, none dead, while Redis is full (OOM), and sends them once it has room', async () => {
    own ??= await startRedisServer();
    const bed = await openBed({ redisUrl: own.url });
    const ids = QUEUES.map((queue) => bed.add({ queue }));
    await Promise.all(QUEUES.map((name) => bed.client.queue(name).waitUntilReady()));
    await bed.redis.config('SET', 'maxmemory', '1');

    bed.relay.kick();
    await waitUntil('a few tries', () => bed.outbox.pending()[0]!.attempts >= 3);
    expect(bed.outbox.pending().map((row) => row.id)).toEqual(ids);
    expect(bed.outbox.countDead()).toBe(0);

    await bed.redis.config('SET', 'maxmemory', '0');
    await waitUntil('the rows to go out', () => bed.outbox.countPending() === 0);
    await bed.relay.idle();
    expect(await bed.jobIds()).toEqual(jobIdsOf(ids));
    expect(bed.errors()).toEqual([]);
    expect(bed.warnings().map((line) => line.msg)).toEqual([OUTAGE_WARNING]);
    expect(bed.log.lines().some((line) => line.includes(BACK_NOTICE))).toBe(true);
  });

  it('keeps every row when Redis fills up while the rows of a refused bulk are sent one by one', async () => {
    own ??= await startRedisServer();
    const bed = await openBed({ redisUrl: own.url });
    const ids = [bed.add({ payload: { order_id: 1 } }), bed.add({ payload: { order_id: 2 } }), bed.add({ payload: { order_id: 3 } })];
    const refused = ids[1]!;
    const queue = bed.client.queue('default');
    await bed.redis.set(queue.toKey(`outbox-${refused}`), 'not a job');
    // Redis refuses the bulk for its bad row, and is full by the time the rows go one by one.
    const addBulk = queue.addBulk.bind(queue);
    vi.spyOn(queue, 'addBulk').mockImplementationOnce(async (jobs) => {
      try {
        return await addBulk(jobs);
      } finally {
        await bed.redis.config('SET', 'maxmemory', '1');
      }
    });

    bed.relay.kick();
    await waitUntil('a few tries', () => bed.outbox.pending()[0]!.attempts >= 3);
    expect(bed.outbox.pending().map((row) => row.id)).toEqual(ids);
    expect(bed.outbox.countDead()).toBe(0);

    await bed.redis.config('SET', 'maxmemory', '0');
    await waitUntil('the rows to go out', () => bed.outbox.countPending() === 0);
    await bed.relay.idle();
    expect(await bed.jobIds()).toEqual(jobIdsOf([ids[0]!, ids[2]!]));
    expect(bed.outbox.dead().map((row) => row.id)).toEqual([refused]);
  });
});

describe('batches', () => {
  it('send one addBulk per queue, the queues at once, and mark the batch sent in one call', async () => {
    const bed = await openBed();
    const ids = [...QUEUES, ...QUEUES, 'default'].map((queue) => bed.add({ queue }));
    const bulks = QUEUES.map((name) => vi.spyOn(bed.client.queue(name), 'addBulk'));
    const markAllSent = vi.spyOn(bed.outbox, 'markAllSent');
    const markSent = vi.spyOn(bed.outbox, 'markSent');

    await relayAll(bed);

    expect(bulks.map((bulk) => bulk.mock.calls.map(([jobs]) => jobs.length))).toEqual([[2], [3], [2]]);
    expect(markAllSent.mock.calls).toEqual([[expect.arrayContaining(ids)]]);
    expect(markAllSent.mock.calls[0]![0]).toHaveLength(ids.length);
    expect(markSent).not.toHaveBeenCalled();
    expect(await bed.jobIds()).toEqual(jobIdsOf(ids));
  });

  it('sent twice, because the relay failed before marking it sent, still make one job per row', async () => {
    const bed = await openBed();
    const ids = [...QUEUES, 'default'].map((queue) => bed.add({ queue }));
    const markAllSent = bed.outbox.markAllSent.bind(bed.outbox);
    let crashes = 0;
    vi.spyOn(bed.outbox, 'markAllSent').mockImplementation((sent) => {
      if (crashes++ === 0) throw new Error('the database went away between the send and the mark');
      markAllSent(sent);
    });

    bed.relay.kick();
    await waitUntil('the batch to be sent again and marked', () => bed.outbox.countPending() === 0);
    await bed.relay.idle();

    expect(crashes, 'the batch went out twice').toBe(2);
    expect(await bed.jobIds(), 'one job per row').toEqual(jobIdsOf(ids));
    expect(bed.outbox.countDead()).toBe(0);
  });
});
