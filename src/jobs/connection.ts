import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * redisConnection turns REDIS_URL into BullMQ's connection options. BullMQ
 * opens its own connections from these (a Worker needs a blocking one).
 */
export function redisConnection(redisUrl: string): ConnectionOptions {
  return { url: redisUrl };
}

/**
 * producerConnection is one Redis connection for code that enqueues from a
 * request. With the offline queue off, a call made while Redis is down fails
 * at once instead of waiting for a reconnect that may never come, so no request
 * hangs on the queue. The caller owns it: disconnect() it on shutdown.
 */
export function producerConnection(redisUrl: string): Redis {
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1_000 });
  // Failures reach the caller of each command; this keeps ioredis from also logging every reconnect attempt.
  redis.on('error', () => {});
  return redis;
}

/**
 * waitForRedis resolves once `redis` is connected and ready. It rejects with
 * the connection's first error, or after timeoutMs, so a command-line tool can
 * say "Redis cannot be reached" within seconds instead of waiting for a
 * reconnect that may never come.
 */
export function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}
