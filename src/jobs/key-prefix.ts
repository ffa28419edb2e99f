import type { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';

/** BullMQ's own default prefix, and ours (QUEUE_PREFIX). */
const DEFAULT_PREFIX = 'bull';

/**
 * queuePrefix is the BullMQ key prefix that one queue uses.
 *
 * BullMQ names every key of a queue `${prefix}:${queue}:…` (`bull:default:wait`,
 * `bull:default:42`, …), and its Lua scripts touch many of them in one call. A
 * Redis Cluster runs such a call only when all its keys hash to one slot, and
 * it hashes only the part of a key between the first `{` and the next `}`, the
 * hash tag, when there is one. So on a cluster each queue's prefix becomes a
 * tag of its own: `{bull:critical}`, `{bull:default}`, `{bull:low}`. Every key
 * of a queue then sits in one slot, and the three queues may sit on different
 * shards. One tag for all, `{bull}`, would work too, but it would put every
 * queue on one shard: a cluster that does no more than one Redis.
 *
 * On one Redis the prefix stays as it is: there are no slots to keep together,
 * and the keys keep the names they always had (`bull:default:wait`), which
 * existing data, the exercises and the tests rely on.
 */
export function queuePrefix(prefix: string | undefined, queue: string, connection: ConnectionOptions): string | undefined {
  if (!(connection instanceof Cluster)) return prefix;
  const base = prefix ?? DEFAULT_PREFIX;
  // A brace of the prefix's own would end our tag early, and put every queue in one slot.
  if (/[{}]/.test(base)) throw new RangeError(`QUEUE_PREFIX "${base}" holds a { or }: on a Redis Cluster the app adds a hash tag per queue itself`);
  return `{${base}:${queue}}`;
}
