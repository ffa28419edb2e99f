import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/jobs/cron.ts';
import { QUEUES, type QueueName } from '../../src/jobs/defaults.ts';
import { queuePrefix } from '../../src/jobs/key-prefix.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { services } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { testRedisClient } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';

// Where the queues' keys land on the run's Redis Cluster (3 masters), found by
// asking each master for the keys it holds.
const bed = jobsTestbed('spread');
let cluster: Cluster;
beforeAll(() => {
  if (!services().redisClusterNodes) throw new Error('this suite needs a Redis Cluster: run it with TEST_REDIS=cluster (npm run test:cluster)');
  cluster = testRedisClient() as Cluster;
});
afterAll(async () => {
  await bed.cleanup();
  cluster.disconnect();
});

/** A master of the cluster, by address, and the slot ranges it owns (CLUSTER SLOTS). */
interface Master {
  address: string;
  client: Redis;
  owns: [number, number][];
}

async function masters(): Promise<Master[]> {
  await cluster.ping(); // connected, and the map of slots loaded
  const nodes = cluster.nodes('master');
  const ranges = await nodes[0]!.cluster('SLOTS');
  return nodes.map((client) => {
    const address = `${client.options.host}:${client.options.port}`;
    const owns = ranges.filter(([, , owner]) => `${owner?.[0]}:${owner?.[1]}` === address).map(([from, to]): [number, number] => [from, to]);
    return { address, client, owns };
  });
}

const slotOf = (key: string) => cluster.nodes('master')[0]!.cluster('KEYSLOT', key);
const ownerOf = (all: Master[], slot: number) => all.filter((master) => master.owns.some(([from, to]) => slot >= from && slot <= to));

/** keysOn lists the keys of one master that mention the prefix. */
async function keysOn(master: Master, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await master.client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1_000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

describe('queues on a Redis Cluster', () => {
  it('keep every key of a queue in one slot, on one master (and say which)', async () => {
    // Keys of every kind: waiting, delayed, completed and dead jobs, events, metrics, a cron entry.
    const mux = new ServeMux();
    mux.handle('send_receipt', async ({ order_id }) => {
      if (order_id === 2) throw new Error('this one dies');
    });
    await bed.startServer(mux);
    const finished: string[] = [];
    for (const queue of QUEUES) {
      for (const order_id of [1, 2, 3]) finished.push(`${queue}/${(await bed.client.enqueue('send_receipt', { order_id }, { queue, maxRetry: 0 })).id}`);
      await bed.client.enqueueIn('ask_for_review', { order_id: 1 }, 7 * 86_400_000, { queue });
    }
    await new Scheduler(bed.client).register('0 2 * * *', 'nightly_digest', {});
    await waitUntil('every job to finish', async () => {
      const states = await Promise.all(finished.map((job) => bed.client.queue(job.split('/')[0] as QueueName).getJobState(job.split('/')[1]!)));
      return states.every((state) => state === 'completed' || state === 'failed');
    });

    const all = await masters();
    expect(all).toHaveLength(3);
    const found = await Promise.all(all.map(async (master) => ({ master, keys: await keysOn(master, bed.prefix) })));
    const lines: string[] = [];
    for (const queue of QUEUES) {
      const tag = queuePrefix(bed.prefix, queue, cluster)!;
      const holders = found.filter(({ keys }) => keys.some((key) => key.startsWith(`${tag}:`)));
      const keys = holders.flatMap(({ keys }) => keys.filter((key) => key.startsWith(`${tag}:`)));
      const slots = new Set(await Promise.all(keys.map(slotOf)));
      const slot = await slotOf(tag);

      expect(keys.length, `${queue}: keys found`).toBeGreaterThan(10);
      expect([...slots], `${queue}: the slots of its ${keys.length} keys`).toEqual([slot]);
      expect(holders.map(({ master }) => master.address), `${queue}: the masters holding its keys`).toEqual(ownerOf(all, slot).map((m) => m.address));
      lines.push(`${queue} -> ${holders[0]!.master.address} (slot ${slot}, ${keys.length} keys: ${[...new Set(keys.map((key) => key.slice(tag.length + 1).split(':')[1]))].sort().join(' ')})`);
    }
    // Every key of the prefix carries a queue's tag: nothing BullMQ writes escapes it.
    const untagged = found.flatMap(({ keys }) => keys).filter((key) => !QUEUES.some((queue) => key.startsWith(`${queuePrefix(bed.prefix, queue, cluster)}:`)));
    expect(untagged).toEqual([]);
    console.log(`[spread] prefix ${bed.prefix}:\n${lines.join('\n')}`);
  });

  it('put each queue of the default prefix in one slot with one owner; which master is up to CRC16', async () => {
    const all = await masters();
    const lines: string[] = [];
    const owners = new Map<QueueName, string>();
    for (const queue of QUEUES) {
      const slot = await slotOf(queuePrefix('bull', queue, cluster)!);
      const owner = ownerOf(all, slot);
      expect(owner, `${queue}: the owners of slot ${slot}`).toHaveLength(1);
      owners.set(queue, owner[0]!.address);
      lines.push(`${queue} -> ${owner[0]!.address} (slot ${slot})`);
    }
    const shared = QUEUES.filter((queue) => QUEUES.some((other) => other !== queue && owners.get(other) === owners.get(queue)));
    const verdict =
      shared.length === 0
        ? 'each queue on a master of its own'
        : `${shared.join(' and ')} share a master: a slot comes from the CRC16 of the tag, not from a plan (a reshard can move one)`;
    console.log(`[spread] QUEUE_PREFIX=bull on ${all.map((m) => `${m.address} (slots ${m.owns.map(([from, to]) => `${from}-${to}`).join(',')})`).join(', ')}:\n${lines.join('\n')}\n${verdict}`);
  });
});
