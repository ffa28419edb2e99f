import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { MailBackend } from '../../src/dev/mail-catcher-apis.ts';

/** Where the services booted by the global setup can be reached. */
export interface Services {
  redisUrl: string;
  /**
   * With TEST_REDIS=cluster, the seed nodes of a Redis Cluster as
   * REDIS_CLUSTER_NODES lists them (`127.0.0.1:40001,…`); the suites that
   * support it put their queues there (test/support/redis.ts). redisUrl still
   * points at a single Redis, for everything else.
   */
  redisClusterNodes?: string;
  smtpUrl: string;
  mailUiUrl: string;
  mailBackend: MailBackend;
  backend: 'docker' | 'local';
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: Services;
  }
}

/** The services of this test run (provided by test/harness/global-setup.ts). */
export function services(): Services {
  return inject('services');
}

/**
 * A BullMQ key prefix no other test file uses, so each file has its own
 * queues in the shared Redis: `t-<label>-<random>`. TEST_PREFIX_ROOT replaces
 * the `t`, so that a run can find and delete its own keys afterwards.
 */
export function uniquePrefix(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_-]+/g, '-');
  return `${process.env.TEST_PREFIX_ROOT || 't'}-${safe}-${randomBytes(4).toString('hex')}`;
}
