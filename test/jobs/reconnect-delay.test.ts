import type { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { producerConnection, RECONNECT_MAX_MS, reconnectDelay, redisConnection } from '../../src/jobs/connection.ts';

const opened: (Redis | Cluster)[] = [];
afterEach(() => {
  for (const redis of opened.splice(0)) redis.disconnect();
});

describe('reconnecting after an outage', () => {
  it('waits longer after each failed try, but never more than RECONNECT_MAX_MS', () => {
    expect(reconnectDelay(1)).toBe(100);
    expect(reconnectDelay(5)).toBe(500);
    expect([10, 50, 1_000, 100_000].map(reconnectDelay)).toEqual([RECONNECT_MAX_MS, RECONNECT_MAX_MS, RECONNECT_MAX_MS, RECONNECT_MAX_MS]);
    expect(RECONNECT_MAX_MS).toBeLessThanOrEqual(1_000);
  });

  it('is how the worker, the scheduler and the API connect, to one Redis or to a cluster', () => {
    const single = { redisUrl: 'redis://127.0.0.1:1' };
    const cluster = { ...single, redisClusterNodes: [{ host: '127.0.0.1', port: 1 }] };
    // BullMQ opens its own connections from these options; its default back-off grows to 20 s.
    expect(redisConnection(single)).toMatchObject({ retryStrategy: reconnectDelay });
    const clusterForBullmq = redisConnection(cluster) as Cluster;
    opened.push(clusterForBullmq);
    expect(clusterForBullmq.options.clusterRetryStrategy).toBe(reconnectDelay);

    const producer = producerConnection(single) as Redis;
    const clusterProducer = producerConnection(cluster) as Cluster;
    opened.push(producer, clusterProducer);
    expect(producer.options.retryStrategy).toBe(reconnectDelay);
    expect(clusterProducer.options.clusterRetryStrategy).toBe(reconnectDelay);
  });
});
