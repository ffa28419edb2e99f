import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis, ReplyError } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { JobsClient, InvalidPayloadError } from '../../src/jobs/client.ts';
import { producerConnection, waitForRedis } from '../../src/jobs/connection.ts';
import { isUnavailable } from '../../src/jobs/unavailable.ts';
import { startRedisServer } from '../support/services/redis-server.ts';

/** rejection runs `call` and returns what it rejected with; it fails the test if `call` resolved. */
async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const silent = { retryStrategy: () => null, lazyConnect: true } as const;

/** A TCP server that accepts connections and never answers: a Redis too slow to reply. */
const muteSockets: Socket[] = [];
const mute: Server = createServer((socket) => muteSockets.push(socket));
afterAll(() => {
  for (const socket of muteSockets) socket.destroy();
  return new Promise<void>((done) => mute.close(() => done()));
});

describe('isUnavailable: Redis', () => {
  it('is true for the error the producer connection gives while Redis is down', async () => {
    const redis = producerConnection({ redisUrl: `redis://127.0.0.1:${await freePort()}` });
    const jobs = new JobsClient(redis, { prefix: 'unavailable-test' });
    try {
      const err = await rejection(() => jobs.enqueue('generate_invoice', { order_id: 1 }));
      expect(err).toMatchObject({ name: 'QueueUnavailableError' });
      expect(isUnavailable(err)).toBe(true);
    } finally {
      await jobs.close();
      redis.disconnect();
    }
  });

  it('is true for a refused connection (ECONNREFUSED)', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, silent);
    redis.on('error', () => {});
    const err = await rejection(() => Promise.all([redis.connect(), waitForRedis(redis, 2_000)]));
    redis.disconnect();
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isUnavailable(err)).toBe(true);
  });

  it('is true for a command on a closed connection', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, silent);
    redis.disconnect();
    const err = await rejection(() => redis.ping());
    expect(err).toMatchObject({ message: expect.stringMatching(/^Connection is closed/) });
    expect(isUnavailable(err)).toBe(true);
  });

  it('is true for a command refused while offline, without an offline queue', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, { enableOfflineQueue: false, retryStrategy: () => 1_000 });
    redis.on('error', () => {});
    try {
      const err = await rejection(() => redis.ping());
      expect(err).toMatchObject({ message: expect.stringMatching(/enableOfflineQueue/) });
      expect(isUnavailable(err)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('is true once a command has used up its retries (MaxRetriesPerRequestError)', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: 1, retryStrategy: () => 10 });
    redis.on('error', () => {});
    try {
      const err = await rejection(() => redis.ping());
      expect(err).toMatchObject({ name: 'MaxRetriesPerRequestError' });
      expect(isUnavailable(err)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('is true for a command that timed out', async () => {
    await new Promise<void>((listening) => mute.listen(0, '127.0.0.1', listening));
    const { port } = mute.address() as { port: number };
    const redis = new Redis({ port, host: '127.0.0.1', enableReadyCheck: false, commandTimeout: 50, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      const err = await rejection(() => redis.ping());
      expect(err).toMatchObject({ message: 'Command timed out' });
      expect(isUnavailable(err)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('is true for the replies of a cluster that is down or a server still loading', () => {
    expect(isUnavailable(new ReplyError('CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(isUnavailable(new ReplyError('LOADING Redis is loading the dataset in memory'))).toBe(true);
  });

  it('is true for a Redis that refuses writes for now: full, a replica, or failing to save', () => {
    expect(isUnavailable(new ReplyError("READONLY You can't write against a read only replica."))).toBe(true);
    expect(isUnavailable(new ReplyError("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."))).toBe(true);
  });

  it('is true for a full Redis (maxmemory, noeviction) refusing a job, and false for a job that Redis refuses for itself', async () => {
    // A Redis of its own, since it fills it up.
    const server = await startRedisServer();
    const redis = new Redis(server.url);
    const jobs = new JobsClient(redis, { prefix: 'unavailable-test' });
    try {
      // A key of the wrong type where BullMQ keeps job outbox-1: Redis refuses that job, and only that one.
      await redis.set(jobs.queue('default').toKey('outbox-1'), 'not a job');
      const refused = await rejection(() => jobs.enqueue('send_receipt', { order_id: 1 }, { jobId: 'outbox-1' }));
      expect(refused).toMatchObject({ message: expect.stringMatching(/^WRONGTYPE/) });
      expect(isUnavailable(refused)).toBe(false);

      await redis.config('SET', 'maxmemory', '1');
      const full = await rejection(() => jobs.enqueue('send_receipt', { order_id: 2 }));
      expect(full).toMatchObject({ message: expect.stringMatching(/^OOM command not allowed/) });
      expect(isUnavailable(full)).toBe(true);
    } finally {
      await jobs.close();
      redis.disconnect();
      await server.stop();
    }
  });
});

describe('isUnavailable: the database', () => {
  it('is true when another connection holds the SQLite file (SQLITE_BUSY)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unavailable-'));
    const holder = new Database(join(dir, 'busy.db'));
    const other = new Database(join(dir, 'busy.db'), { timeout: 0 });
    try {
      holder.exec('CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
      let err: unknown;
      try {
        other.exec('INSERT INTO t VALUES (2)');
      } catch (caught) {
        err = caught;
      }
      expect(err).toMatchObject({ code: 'SQLITE_BUSY' });
      expect(isUnavailable(err)).toBe(true);
    } finally {
      holder.close();
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('isUnavailable: anything else', () => {
  it('is false for a programming error, a bad payload, a SQL error and what is not an Error', () => {
    let typeError: unknown;
    try {
      (undefined as unknown as { id: string }).id;
    } catch (err) {
      typeError = err;
    }
    expect(typeError).toBeInstanceOf(TypeError);
    expect(isUnavailable(typeError)).toBe(false);
    expect(isUnavailable(new InvalidPayloadError('order_id: expected number'))).toBe(false);

    const db = new Database(':memory:');
    let sqlError: unknown;
    try {
      db.exec('SELECT * FROM missing');
    } catch (err) {
      sqlError = err;
    }
    db.close();
    expect(sqlError).toMatchObject({ code: 'SQLITE_ERROR' });
    expect(isUnavailable(sqlError)).toBe(false);

    expect(isUnavailable(new ReplyError('ERR unknown command'))).toBe(false);
    expect(isUnavailable('ECONNREFUSED')).toBe(false);
    expect(isUnavailable(undefined)).toBe(false);
  });
});
