import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { formatClusterNodes, type ClusterNode } from '../cluster-nodes.ts';
import { withoutPassword } from '../config.ts';
import { clusterConnection } from './cluster.ts';

/**
 * RedisTarget is where the queues live: one Redis at redisUrl, or, when
 * redisClusterNodes is set, a Redis Cluster (logging in with redisUrl's password).
 * A Config is one.
 */
export interface RedisTarget {
  redisUrl: string;
  redisClusterNodes?: ClusterNode[] | undefined;
}

/**
 * redisConnection turns the config into BullMQ's connection options. For one
 * Redis these are options, from which BullMQ opens its own connections (a
 * Worker needs a blocking one). BullMQ cannot open a cluster from options, so
 * for a cluster it is one Cluster client that BullMQ shares, and copies where
 * it needs a connection of its own; it stays open until the process exits.
 */
export function redisConnection(target: RedisTarget): ConnectionOptions {
  if (!target.redisClusterNodes) return { url: target.redisUrl, retryStrategy: reconnectDelay };
  // A Worker's blocking fetch must wait out an outage rather than give up after a few retries (BullMQ checks).
  return clusterConnection(target.redisClusterNodes, target.redisUrl, { clusterRetryStrategy: reconnectDelay, redisOptions: { maxRetriesPerRequest: null } });
}

/** RECONNECT_MAX_MS: however long Redis was gone, a lost connection tries again at least this often. */
export const RECONNECT_MAX_MS = 1_000;

/**
 * reconnectDelay is how long a lost connection waits before its next try:
 * 100 ms, 200 ms, … up to RECONNECT_MAX_MS. BullMQ's own default grows to 20 s,
 * so after a long outage a worker could sit idle that long with Redis back.
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(100 * attempt, RECONNECT_MAX_MS);
}

/**
 * producerConnection is one Redis connection for code that enqueues from a
 * request. With the offline queue off, a call made while Redis is down fails
 * at once instead of waiting for a reconnect that may never come, so no request
 * hangs on the queue. The caller owns it: disconnect() it on shutdown.
 */
export function producerConnection(target: RedisTarget): Redis | Cluster {
  const failFast = { maxRetriesPerRequest: 1, connectTimeout: 1_000 };
  const redis = target.redisClusterNodes
    ? clusterConnection(target.redisClusterNodes, target.redisUrl, { enableOfflineQueue: false, clusterRetryStrategy: reconnectDelay, redisOptions: failFast })
    : new Redis(target.redisUrl, { enableOfflineQueue: false, retryStrategy: reconnectDelay, ...failFast });
  // Failures reach the caller of each command; this keeps ioredis from also logging every reconnect attempt.
  redis.on('error', () => {});
  return redis;
}

/**
 * failsFast tells a connection from producerConnection(): one without an offline
 * queue. While it is down, BullMQ would still wait for it to come back; JobsClient
 * checks such a connection first, and fails at once instead.
 */
export function failsFast(connection: ConnectionOptions): connection is Redis | Cluster {
  return (connection instanceof Redis || connection instanceof Cluster) && connection.options.enableOfflineQueue === false;
}

/** targetAddress says where the queues live, safe to print: REDIS_URL without its password, or the cluster's seed nodes. */
export function targetAddress(target: RedisTarget): string {
  return target.redisClusterNodes ? `Redis Cluster ${formatClusterNodes(target.redisClusterNodes)}` : withoutPassword(target.redisUrl);
}

/**
 * waitForRedis resolves once `redis` is connected and ready. It rejects with
 * the connection's first error, or after timeoutMs, so a command-line tool can
 * say "Redis cannot be reached" within seconds instead of waiting for a
 * reconnect that may never come.
 */
export function waitForRedis(redis: Redis | Cluster, timeoutMs: number): Promise<void> {
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
    // A cluster client that reached no node says why in lastNodeError ("WRONGPASS …"), not in its message.
    const onError = (err: Error & { lastNodeError?: Error }) => done(err.lastNodeError ? new Error(`${err.message} ${err.lastNodeError.message}`) : err);
    const timer = setTimeout(() => done(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}
