import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

const PATH = '/admin/system/jobs';
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('the jobs admin page', () => {
  const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('admin'), adminPassword: 's3cret' });
  beforeAll(() => waitUntil('the producer connection', () => bed.redis.status === 'ready'));
  afterAll(() => bed.close());

  it('answers 401 without a login, and with a wrong one', async () => {
    expect((await bed.app.request(PATH)).status).toBe(401);
    expect((await bed.app.request(`${PATH}/api/queues`)).status).toBe(401);
    expect((await bed.app.request(PATH, { headers: basic('admin', 'wrong') })).status).toBe(401);
  });

  it('takes only the exact login: not a prefix, not a longer password, not another user', async () => {
    for (const [user, password] of [['admin', 's3cre'], ['admin', 's3cret!'], ['admin', 'S3CRET'], ['Admin', 's3cret'], ['', 's3cret']]) {
      const res = await bed.app.request(PATH, { headers: basic(user!, password!) });
      expect(res.status, `${user} / ${password}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
  });

  it('is never cached and never framed, the 401 included', async () => {
    for (const headers of [{}, basic('admin', 's3cret')]) {
      for (const path of [PATH, `${PATH}/api/queues`]) {
        const res = await bed.app.request(path, { headers });
        expect(res.headers.get('cache-control'), path).toBe('no-store');
        expect(res.headers.get('x-frame-options'), path).toBe('DENY');
        expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      }
    }
  });

  it('shows the dashboard and the three queues to the admin', async () => {
    const page = await bed.app.request(PATH, { headers: basic('admin', 's3cret') });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Jobs</title>');

    const api = await bed.app.request(`${PATH}/api/queues`, { headers: basic('admin', 's3cret') });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string }[] };
    expect(queues.map((q) => q.name).sort()).toEqual(['critical', 'default', 'low']);
  });
});

describe('the jobs admin page with no ADMIN_PASSWORD', () => {
  const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('admin-locked') });
  afterAll(() => bed.close());

  it('stays locked, whatever the login', async () => {
    const res = await bed.app.request(PATH, { headers: basic('admin', '') });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: expect.stringContaining('set ADMIN_PASSWORD') });
  });
});

describe('the API in production with no ADMIN_PASSWORD', () => {
  afterAll(stopAll);

  it('refuses to start, and says why', async () => {
    const api = spawnScript('src/cmd/api.ts', {
      NODE_ENV: 'production',
      ADMIN_PASSWORD: '',
      PORT: '0',
      REDIS_URL: services().redisUrl,
      QUEUE_PREFIX: uniquePrefix('admin-prod'),
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'jobs-admin-prod-')), 'app.db'),
    }, 'api');
    expect((await api.exited).code).toBe(1);
    expect(api.output()).toContain('ADMIN_PASSWORD is not set');
    expect(api.output()).not.toContain('API listening');
  });
});
