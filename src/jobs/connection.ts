import type { ConnectionOptions } from 'bullmq';

/**
 * redisConnection turns REDIS_URL into BullMQ's connection options. BullMQ
 * opens its own connections from these (a Worker needs a blocking one).
 */
export function redisConnection(redisUrl: string): ConnectionOptions {
  return { url: redisUrl };
}

/**
 * producerConnection is for code that enqueues from a request. With the offline
 * queue off, a call made while Redis is down fails at once instead of waiting
 * for a reconnect that may never come, so no request hangs on the queue.
 */
export function producerConnection(redisUrl: string): ConnectionOptions {
  return { url: redisUrl, enableOfflineQueue: false, connectTimeout: 1_000 };
}
