// The JobServer's queues send their commands (results, fetches, lock
// renewals) on one connection, so that with every queue busy Redis and the
// worker read one stream of replies, as with one busy queue. Each queue keeps
// a blocking connection of its own for its blocking fetch.
import { Cluster, type Redis } from 'ioredis';
import { afterEach, expect, it, vi } from 'vitest';
import { ServeMux } from '../../src/jobs/mux.ts';
import { QueueFetcher } from '../../src/jobs/queue-fetcher.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

/** The ioredis clients behind a fetcher: BullMQ's backend keeps them on its (protected) queue view. */
function connectionsOf(fetcher: QueueFetcher): { client: Promise<Redis>; blockingClient: Promise<Redis> } {
  return (fetcher.getBackend() as unknown as { queue: { client: Promise<Redis>; blockingClient: Promise<Redis> } }).queue;
}

let bed = jobsTestbed('shared-connection');
afterEach(async () => {
  vi.restoreAllMocks();
  await bed.cleanup();
  bed = jobsTestbed('shared-connection');
});

it("sends the three queues' commands on one connection, and closes it on shutdown", async () => {
  const fetchers: QueueFetcher[] = [];
  const waitUntilReady = QueueFetcher.prototype.waitUntilReady;
  vi.spyOn(QueueFetcher.prototype, 'waitUntilReady').mockImplementation(function (this: QueueFetcher) {
    fetchers.push(this);
    return waitUntilReady.call(this);
  });
  const server = await bed.startServer(new ServeMux(), { queues: { critical: 6, default: 3, low: 1 } });
  expect(fetchers.map((fetcher) => fetcher.name).sort()).toEqual(['critical', 'default', 'low']);

  const clients = await Promise.all(fetchers.map((fetcher) => connectionsOf(fetcher).client));
  const blocking = await Promise.all(fetchers.map((fetcher) => connectionsOf(fetcher).blockingClient));
  expect(new Set(clients).size).toBe(1);
  expect(new Set(blocking).size).toBe(3);
  expect(blocking).not.toContain(clients[0]);

  await server.shutdown();
  if (bed.connection instanceof Cluster) {
    // A client handed in (the cluster's) is shared as it is, and stays the caller's to close.
    expect(clients[0]).toBe(bed.connection);
    expect(clients[0]!.status).toBe('ready');
  } else {
    // The server opened this one: it leaves no connection behind.
    await waitUntil('the shared connection to close', () => clients[0]!.status === 'end', 2_000);
  }
});
