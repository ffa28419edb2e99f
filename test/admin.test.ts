import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services, uniquePrefix } from './harness/services.ts';
import { apiTestbed } from './support/api.ts';
import { waitUntil } from './support/wait.ts';

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
