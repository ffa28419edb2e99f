import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../support/services/redis-cluster.ts';

// The harness's cluster helper, on clusters of its own (not the run's), one at a time.
let cluster: RedisCluster | undefined;
afterEach(() => cluster?.stop());

describe('startRedisCluster', () => {
  it('starts 3 masters that split the 16384 slots between them, each saying cluster_state:ok', async () => {
    cluster = await startRedisCluster();
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.seeds).toBe(cluster.nodes.map((node) => `127.0.0.1:${node.port}`).join(','));
    expect(cluster.description).toMatch(/^local redis-server \S+, a cluster of 3 masters on 127\.0\.0\.1:\d+,/);

    for (const node of cluster.nodes) {
      const redis = new Redis({ host: node.host, port: node.port });
      try {
        const info = await redis.cluster('INFO');
        expect(info, `node ${node.port}`).toContain('cluster_state:ok');
        expect(info).toContain('cluster_known_nodes:3');
        expect(info).toContain('cluster_size:3');
        expect(info).toContain('cluster_slots_assigned:16384');
        // Each master owns one range: the three ranges cover every slot, once.
        const ranges = (await redis.cluster('SLOTS')).map(([from, to, owner]) => ({ from, to, port: owner?.[1] }));
        expect(ranges.map((range) => range.port).sort()).toEqual(cluster.nodes.map((n) => n.port).sort());
        expect(ranges.reduce((slots, range) => slots + range.to - range.from + 1, 0)).toBe(16_384);
        // No persistence: tests leave nothing behind but nodes.conf.
        expect(await redis.config('GET', 'save')).toEqual(['save', '']);
        expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      } finally {
        redis.disconnect();
      }
      // The cluster bus, on port + 10000.
      expect(await accepts(node.port + 10_000), `bus of ${node.port}`).toBe(true);
    }
  });

  it('gives a cluster that a client can use: keys land on every master', async () => {
    cluster = await startRedisCluster();
    const client = new Cluster(cluster.nodes);
    try {
      for (let i = 0; i < 30; i++) await client.set(`key-${i}`, String(i));
      expect(await client.get('key-7')).toBe('7');
      const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
      expect(sizes).toHaveLength(3);
      expect(sizes.every((size) => size > 0), `keys per master: ${sizes}`).toBe(true);
    } finally {
      client.disconnect();
    }
  });

  it('with a password, every node asks for it', async () => {
    cluster = await startRedisCluster({ password: 'cl\u00fcster pw' });
    const [node] = cluster.nodes;
    const anonymous = new Redis({ host: node!.host, port: node!.port, maxRetriesPerRequest: 0 });
    anonymous.on('error', () => {});
    try {
      await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
    const client = new Cluster(cluster.nodes, { redisOptions: { password: 'cl\u00fcster pw' } });
    try {
      for (let i = 0; i < 10; i++) await client.set(`key-${i}`, String(i));
      expect(await client.get('key-3')).toBe('3');
    } finally {
      client.disconnect();
    }
  });

  it('stop() ends every node and deletes their folders', async () => {
    cluster = await startRedisCluster();
    const { nodes } = cluster;
    for (const node of nodes) expect(existsSync(node.dir)).toBe(true);
    await cluster.stop();
    for (const node of nodes) {
      expect(await accepts(node.port), `port ${node.port}`).toBe(false);
      expect(existsSync(node.dir), node.dir).toBe(false);
    }
  });
});

/** accepts tells whether something listens on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
