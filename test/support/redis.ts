import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { parseClusterNodes } from '../../src/cluster-nodes.ts';
import { clusterConnection } from '../../src/jobs/cluster.ts';
import type { RedisTarget } from '../../src/jobs/connection.ts';
import { services } from './services/services.ts';

/**
 * testRedis is where this run puts its queues: the Redis Cluster of a run
 * with TEST_REDIS=cluster, else the single Redis. Give it to redisConnection().
 */
export function testRedis(): RedisTarget {
  const { redisUrl, redisClusterNodes } = services();
  return { redisUrl, redisClusterNodes: parseClusterNodes(redisClusterNodes) };
}

/** testRedisEnv points a child process (a worker, a scheduler) at testRedis(). */
export function testRedisEnv(): { REDIS_URL: string; REDIS_CLUSTER_NODES: string } {
  const { redisUrl, redisClusterNodes } = services();
  // Set even when empty, so that a REDIS_CLUSTER_NODES of the shell never leaks into a single-node run.
  return { REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: redisClusterNodes ?? '' };
}

/** testRedisClient is a plain client on testRedis(), to read keys directly. Disconnect it when done. */
export function testRedisClient(): Redis | Cluster {
  const { redisUrl, redisClusterNodes } = testRedis();
  return redisClusterNodes ? clusterConnection(redisClusterNodes, redisUrl) : new Redis(redisUrl);
}

/**
 * closeConnection closes what redisConnection() returned. Options need no
 * closing (BullMQ closes the connections it opened from them), but a cluster
 * client is one that BullMQ shares and leaves open.
 */
export function closeConnection(connection: ConnectionOptions): void {
  if (connection instanceof Cluster) connection.disconnect();
}
