import { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterConnection } from '../../src/jobs/cluster.ts';
import { failsFast, producerConnection, redisConnection, targetAddress } from '../../src/jobs/connection.ts';
import { queuePrefix } from '../../src/jobs/key-prefix.ts';
import { describeRedisError, redisAddress } from '../../src/jobs/redis-errors.ts';

// Clients that never connect: these tests look at what is built, not at a cluster.
const SEEDS = [{ host: '127.0.0.1', port: 1 }];
const idle = (redisUrl = 'redis://127.0.0.1:6379') => clusterConnection(SEEDS, redisUrl, { lazyConnect: true });
const opened: Cluster[] = [];
afterAll(() => opened.forEach((cluster) => cluster.disconnect()));

describe('queuePrefix', () => {
  it('leaves the prefix as it is on one Redis, so the keys keep their names', () => {
    expect(queuePrefix('bull', 'critical', { url: 'redis://127.0.0.1:6379' })).toBe('bull');
    expect(queuePrefix(undefined, 'critical', { url: 'redis://127.0.0.1:6379' })).toBeUndefined();
  });

  it('gives each queue a hash tag of its own on a cluster', () => {
    const cluster = idle();
    opened.push(cluster);
    expect(['critical', 'default', 'low'].map((queue) => queuePrefix('bull', queue, cluster))).toEqual(['{bull:critical}', '{bull:default}', '{bull:low}']);
    expect(queuePrefix(undefined, 'low', cluster)).toBe('{bull:low}');
  });

  it('refuses a QUEUE_PREFIX with a brace on a cluster: it would end the tag early', () => {
    const cluster = idle();
    opened.push(cluster);
    expect(() => queuePrefix('{bull}', 'low', cluster)).toThrow('QUEUE_PREFIX "{bull}" holds a { or }: on a Redis Cluster the app adds a hash tag per queue itself');
  });
});

describe('connections to a cluster', () => {
  it('log in to every node with the user and password of REDIS_URL, decoded', () => {
    const cluster = idle('redis://shop:p%40ss%20word@ignored:6379/0');
    opened.push(cluster);
    expect(cluster.options.redisOptions).toMatchObject({ username: 'shop', password: 'p@ss word' });
    expect(cluster.options.redisOptions?.tls).toBeUndefined();
    const tls = idle('rediss://:pw@ignored:6380');
    opened.push(tls);
    expect(tls.options.redisOptions).toMatchObject({ password: 'pw', tls: {} });
  });

  it('say REDIS_URL is not a URL without quoting it', () => {
    expect(() => idle('s3cret')).toThrow(/^REDIS_URL is not a URL/);
    expect(() => idle('s3cret')).not.toThrow(/s3cret/);
  });

  it('are a Cluster for BullMQ, whose blocking fetches wait out an outage; the producer fails fast instead', () => {
    const target = { redisUrl: 'redis://127.0.0.1:6379', redisClusterNodes: SEEDS };
    const worker = redisConnection(target);
    const producer = producerConnection(target);
    opened.push(worker as Cluster, producer as Cluster);
    expect(worker).toBeInstanceOf(Cluster);
    expect((worker as Cluster).options.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(failsFast(worker)).toBe(false);
    expect(producer).toBeInstanceOf(Cluster);
    expect(failsFast(producer)).toBe(true);
  });

  it('are described without a password', () => {
    const cluster = idle();
    opened.push(cluster);
    expect(targetAddress({ redisUrl: 'redis://:s3cret@10.0.0.1:7000', redisClusterNodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }] })).toBe(
      'Redis Cluster 10.0.0.1:7000,10.0.0.2:7000',
    );
    expect(targetAddress({ redisUrl: 'redis://:s3cret@10.0.0.1:7000' })).toBe('redis://:***@10.0.0.1:7000');
    expect(redisAddress(cluster)).toBe('the Redis Cluster of REDIS_CLUSTER_NODES');
  });

  it('that reach no node are reported as unreachable, from the last node error', () => {
    const err = Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    expect(describeRedisError(err, 'the Redis Cluster of REDIS_CLUSTER_NODES')).toMatchObject({
      kind: 'unreachable',
      message: 'Redis cannot be reached at the Redis Cluster of REDIS_CLUSTER_NODES (ECONNREFUSED): is it running?',
    });
  });
});
