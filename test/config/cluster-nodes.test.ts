import { describe, expect, it } from 'vitest';
import { formatClusterNodes, MAX_CLUSTER_NODES, parseClusterNodes } from '../../src/cluster-nodes.ts';
import { loadConfig } from '../../src/config.ts';

describe('REDIS_CLUSTER_NODES', () => {
  it('is unset, or blank, for one Redis', () => {
    expect(parseClusterNodes(undefined)).toBeUndefined();
    expect(parseClusterNodes('')).toBeUndefined();
    expect(parseClusterNodes('  ')).toBeUndefined();
    expect(loadConfig({}).redisClusterNodes).toBeUndefined();
  });

  it('reads host:port seed nodes: names, IPv4, IPv6 in brackets, spaces around the commas', () => {
    expect(parseClusterNodes('10.0.0.1:7000, redis-2.internal:7001 ,[::1]:7002')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).redisClusterNodes).toEqual([{ host: '127.0.0.1', port: 7000 }]);
  });

  it('writes them back as it read them', () => {
    expect(formatClusterNodes(parseClusterNodes('10.0.0.1:7000,[::1]:7002')!)).toBe('10.0.0.1:7000,[::1]:7002');
  });

  it('refuses what is not host:port, naming the variable and the entry', () => {
    const cases: [string, RegExp][] = [
      ['127.0.0.1', /^entry 1 of REDIS_CLUSTER_NODES must be host:port with a port from 1 to 65535, got "127.0.0.1"$/],
      ['127.0.0.1:7000,', /^entry 2 of REDIS_CLUSTER_NODES is empty/],
      ['127.0.0.1:7000,,127.0.0.1:7001', /^entry 2 of REDIS_CLUSTER_NODES is empty/],
      ['127.0.0.1:0', /^entry 1 of REDIS_CLUSTER_NODES must be host:port/],
      ['127.0.0.1:65536', /^entry 1 of REDIS_CLUSTER_NODES must be host:port/],
      ['127.0.0.1:70a', /^entry 1 of REDIS_CLUSTER_NODES must be host:port/],
      ['::1:7000', /^entry 1 of REDIS_CLUSTER_NODES must be host:port/],
      ['a b:7000', /^entry 1 of REDIS_CLUSTER_NODES must be host:port/],
      ['127.0.0.1:7000 127.0.0.1:7001', /^entry 1 of REDIS_CLUSTER_NODES must be host:port/],
    ];
    for (const [value, message] of cases) expect(() => loadConfig({ REDIS_CLUSTER_NODES: value }), value).toThrow(message);
  });

  it('never quotes an entry that may hold a password', () => {
    for (const value of ['redis://:s3cret@10.0.0.1:7000', ':s3cret@10.0.0.1:7000', '10.0.0.1:7000,user:s3cret@10.0.0.2:7000']) {
      const message = errorOf(() => parseClusterNodes(value));
      expect(message, value).toMatch(/of REDIS_CLUSTER_NODES is not host:port \(it holds a login or a URL\): the nodes take no password, REDIS_URL's password applies to them/);
      expect(message).not.toContain('s3cret');
    }
  });

  it('is bounded: at most 64 nodes and 4 KiB, and a long entry is quoted short', () => {
    const many = Array.from({ length: MAX_CLUSTER_NODES + 1 }, (_, i) => `10.0.0.${i % 250}:7000`).join(',');
    expect(() => parseClusterNodes(many)).toThrow(`REDIS_CLUSTER_NODES lists ${MAX_CLUSTER_NODES + 1} nodes, at most ${MAX_CLUSTER_NODES}`);
    expect(() => parseClusterNodes(`${'a'.repeat(5_000)}:7000`)).toThrow(/^REDIS_CLUSTER_NODES is 5005 characters long, at most 4096/);
    expect(errorOf(() => parseClusterNodes(`${'h'.repeat(300)}:x`)).length).toBeLessThan(150);
  });
});

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}
