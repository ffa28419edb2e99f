import type { MailBackend } from '../../src/dev/mail-catcher-apis.ts';

/**
 * Where a Redis and a mail catcher can be reached: the ones `npm run exercise`
 * found or started, or the ones the test harness booted (test/support/services/).
 */
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
