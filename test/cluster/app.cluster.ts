import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { JobsClient, QueueUnavailableError } from '../../src/jobs/client.ts';
import { producerConnection } from '../../src/jobs/connection.ts';
import { createInbox } from '../support/services/inbox.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { startRedisCluster, type RedisCluster } from '../support/services/redis-cluster.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { prepareDatabase } from '../support/database.ts';
import { testRedisEnv } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';

// The app's processes, as you run them, on the run's Redis Cluster: the API
// (with its outbox relay and admin page), the worker, the scheduler and
// `npm run jobs`, each given REDIS_CLUSTER_NODES.
afterAll(stopAll);

const ADMIN = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

function appEnv(label: string, extra: Record<string, string> = {}): Record<string, string> {
  const databasePath = join(mkdtempSync(join(tmpdir(), `jobs-${label}-`)), 'app.db');
  prepareDatabase(databasePath).close();
  return {
    ...testRedisEnv(),
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: uniquePrefix(label),
    DATABASE_PATH: databasePath,
    UPLOADS_DIR: mkdtempSync(join(tmpdir(), `jobs-${label}-uploads-`)),
    ADMIN_PASSWORD: 'pw',
    ...extra,
  };
}

/** jobs runs `npm run jobs -- <args>` and returns its exit code and output. */
async function jobs(env: Record<string, string>, args: string[]) {
  const child = spawnScript('src/cmd/jobs.ts', env, `jobs ${args.join(' ')}`, args);
  const { code } = await child.exited;
  return { code, output: child.output() };
}

describe('the app on a Redis Cluster', () => {
  const inbox = createInbox(services());
  let env: Record<string, string>;
  let baseUrl: string;
  let worker: ChildScript;
  let scheduler: ChildScript;

  beforeAll(async () => {
    if (!services().redisClusterNodes) throw new Error('this suite needs a Redis Cluster: run it with TEST_REDIS=cluster (npm run test:cluster)');
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = appEnv('cluster-app', { PORT: String(port) });
    const api = spawnScript('src/cmd/api.ts', env, 'api');
    worker = spawnScript('src/cmd/worker.ts', env, 'worker');
    scheduler = spawnScript('src/cmd/scheduler.ts', env, 'scheduler');
    await Promise.all([
      api.waitForOutput(/API listening/, 30_000),
      worker.waitForOutput(/worker started/, 30_000),
      scheduler.waitForOutput(/cron schedules registered/, 30_000),
    ]);
    expect(api.output()).not.toContain('Redis is not reachable');
  });

  const post = async (path: string, body?: unknown) => {
    const res = await fetch(baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('is ready: GET /readyz pings the cluster', async () => {
    const res = await fetch(`${baseUrl}/readyz`);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('enqueues from a request, and the worker runs the job', async () => {
    const { status, body } = await post('/api/dev/send-birthday/1');
    expect(status).toBe(202);
    await worker.waitForOutput(new RegExp(`"job":"${body.job_id}".*"task":"send_birthday_email".*job done in \\d+ ms`), 15_000);
  });

  it('relays an order\'s jobs through the outbox: the receipt arrives, the inventory job runs', async () => {
    const { status, body } = await post('/api/orders', { user_id: 2, sku: 'sticker', quantity: 1 });
    expect(status).toBe(201);
    const mail = await inbox.waitFor((m) => m.subject === `Your receipt for order #${body.order.id}`);
    expect(mail.to).toEqual(['grace@example.test']);
    await worker.waitForOutput(/"task":"update_inventory".*job done/, 15_000);
  });

  it('keeps the cron table there: npm run jobs -- schedules lists the scheduler\'s entries', async () => {
    const { code, output } = await jobs(env, ['schedules']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/nightly_digest\s+0 2 \* \* \*\s+default/);
    expect(output).toMatch(/cleanup_uploads\s+0 \* \* \* \*\s+default/);
  });

  it('npm run jobs names the cluster, counts the jobs, and enqueues one that the worker runs', async () => {
    const stats = await jobs(env, ['stats']);
    expect(stats.code, stats.output).toBe(0);
    expect(stats.output).toContain(`queues at Redis Cluster ${env.REDIS_CLUSTER_NODES}`);
    // The birthday, the receipt and the inventory jobs, done; the review request and the cron ticks, scheduled.
    expect(stats.output).toMatch(/default\s+0\s+0\s+[1-9]\d*\s+0\s+[3-9]/);

    const enqueued = await jobs(env, ['enqueue', 'send_welcome', '{"to": "cluster@example.test", "name": "Cluster"}', '--queue', 'low']);
    expect(enqueued.code, enqueued.output).toBe(0);
    const id = /as job (\S+) on queue low/.exec(enqueued.output)?.[1];
    await worker.waitForOutput(new RegExp(`"job":"${id}".*"task":"send_welcome".*job done`), 15_000);
  });

  it('shows the three queues on the admin page, with what the worker did', async () => {
    const res = await fetch(`${baseUrl}/admin/system/jobs/api/queues`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const { queues } = (await res.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    expect(queues.map((q) => q.name).sort()).toEqual(['critical', 'default', 'low']);
    const completed = Object.fromEntries(queues.map((q) => [q.name, q.counts.completed]));
    expect(completed.default, JSON.stringify(completed)).toBeGreaterThanOrEqual(3);
    expect(completed.low, JSON.stringify(completed)).toBe(1);
  });
});

describe('a malformed REDIS_CLUSTER_NODES', () => {
  it('stops the worker, the API and npm run jobs at startup, naming the variable', async () => {
    const env = appEnv('cluster-bad', { REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1' });
    const message = 'entry 2 of REDIS_CLUSTER_NODES must be host:port with a port from 1 to 65535, got "127.0.0.1"';
    for (const script of ['src/cmd/worker.ts', 'src/cmd/api.ts']) {
      const child = spawnScript(script, env, script);
      expect((await child.exited).code, script).not.toBe(0);
      expect(child.output(), script).toContain(message);
    }
    const { code, output } = await jobs(env, ['stats']);
    expect(code).toBe(1);
    expect(output.trim()).toBe(`error: ${message}`);
  });
});

describe('a Redis Cluster with a password', () => {
  const password = 'cluster-s3cret';
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ password });
  });
  afterAll(() => cluster?.stop());

  it('takes the password from REDIS_URL, on every node, and never prints it', async () => {
    const env = appEnv('cluster-pw', { REDIS_URL: `redis://:${password}@127.0.0.1:6379`, REDIS_CLUSTER_NODES: cluster.seeds });
    const worker = spawnScript('src/cmd/worker.ts', env, 'worker');
    await worker.waitForOutput(/worker started/, 30_000);
    // One job per queue: the three queues' slots are on different nodes, or not, but every node takes the login.
    for (const queue of ['critical', 'default', 'low']) {
      const { code, output } = await jobs(env, ['enqueue', 'cleanup_uploads', '--queue', queue]);
      expect(code, output).toBe(0);
      expect(output).not.toContain(password);
    }
    await waitUntil('the three jobs to be done', () => worker.output().match(/"task":"cleanup_uploads".*job done/g)?.length === 3, 15_000);
    expect(worker.output()).not.toContain(password);
  });

  it('says the login was refused, without the password, when REDIS_URL has the wrong one', async () => {
    const env = appEnv('cluster-wrongpw', { REDIS_URL: 'redis://:n0t-it@127.0.0.1:6379', REDIS_CLUSTER_NODES: cluster.seeds });
    const { code, output } = await jobs(env, ['stats']);
    expect(code).toBe(1);
    expect(output).toMatch(/^error: cannot reach Redis at Redis Cluster 127\.0\.0\.1:\d+,.*: Failed to refresh slots cache\. WRONGPASS/);
    expect(output).not.toContain('n0t-it');

    const worker = spawnScript('src/cmd/worker.ts', env, 'worker');
    await worker.waitForOutput(/Redis refused the login \(WRONGPASS\): check the password in REDIS_URL \(the Redis Cluster of REDIS_CLUSTER_NODES\)/, 15_000);
    expect(worker.output()).not.toContain('n0t-it');
  });
});

describe('the API\'s fail-fast connection to a cluster that is down', () => {
  it('rejects an enqueue at once, rather than waiting for the cluster', async () => {
    const redis = producerConnection({ redisUrl: 'redis://127.0.0.1:6379', redisClusterNodes: [{ host: '127.0.0.1', port: await freePort() }] });
    const client = new JobsClient(redis, { prefix: uniquePrefix('cluster-down') });
    try {
      const startedAt = Date.now();
      await expect(client.enqueue('send_receipt', { order_id: 1 })).rejects.toThrow(QueueUnavailableError);
      expect(Date.now() - startedAt).toBeLessThan(1_000);
    } finally {
      await client.close().catch(() => {});
      redis.disconnect();
    }
  });
});
