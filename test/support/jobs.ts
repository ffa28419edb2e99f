import { pino } from 'pino';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { JobServer, type ServerOptions } from '../../src/jobs/server.ts';
import { uniquePrefix } from './services/services.ts';
import { closeConnection, testRedis } from './redis.ts';

/** A logger that prints nothing; set TEST_LOGS=true to see the worker's lines. */
export const quietLogger = pino({ level: process.env.TEST_LOGS === 'true' ? 'info' : 'silent' });

/**
 * jobsTestbed gives a test file its own BullMQ prefix in the shared Redis (the
 * cluster, with TEST_REDIS=cluster), a client on it, and a way to start servers
 * that close themselves in cleanup().
 */
export function jobsTestbed(label: string) {
  const prefix = uniquePrefix(label);
  const connection = redisConnection(testRedis());
  const client = new JobsClient(connection, { prefix });
  const servers: JobServer[] = [];

  return {
    prefix,
    connection,
    client,
    /** startServer runs a JobServer on this testbed's queues, with fast retries and a short shutdown. */
    async startServer(mux: ServeMux, opts: ServerOptions = {}): Promise<JobServer> {
      const server = new JobServer(connection, mux, {
        prefix,
        logger: quietLogger,
        retry: { baseDelayMs: 50, maxDelayMs: 1_000 },
        // A job still running when the test ends, such as a learner's handler
        // that never returns, would hold cleanup() for the app's 25 s.
        shutdownTimeoutMs: 2_000,
        ...opts,
      });
      servers.push(server);
      await server.start();
      return server;
    },
    async cleanup(): Promise<void> {
      await Promise.all(servers.splice(0).map((server) => server.shutdown()));
      await client.close();
      closeConnection(connection);
    },
  };
}
