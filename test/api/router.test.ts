import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { routerApart } from '../../src/api/router.ts';

// routerApart keeps the routes under a prefix on a router of their own. Each
// request must still meet exactly the routes it met on one router.

function build(withRouter: boolean) {
  const app = withRouter ? new Hono({ router: routerApart('/admin') }) : new Hono();
  const seen = (name: string) => async (c: { header(k: string, v: string, o: { append: true }): void }, next: () => Promise<void>) => {
    c.header('x-seen', name, { append: true });
    await next();
  };
  app.use(seen('all'));
  app.use('/admin/*', seen('admin-middleware'));
  app.get('/admin', (c) => c.text('admin home'));
  app.get('/admin/q/:queue/:job', (c) => c.text(`job ${c.req.param('queue')}/${c.req.param('job')}`));
  app.get('/admin/q/:queue/metrics', (c) => c.text(`metrics ${c.req.param('queue')}`));
  app.get('/adminx', (c) => c.text('adminx'));
  app.post('/api/dev/:id', (c) => c.text(`dev ${c.req.param('id')}`));
  app.notFound((c) => c.text('none', 404));
  return app;
}

const requests: [string, string][] = [
  ['GET', '/admin'],
  ['GET', '/admin/'],
  ['GET', '/admin/q/default/7'],
  ['GET', '/admin/q/default/metrics'],
  ['GET', '/admin/nothing'],
  ['GET', '/adminx'],
  ['GET', '/adminx/q/default/7'],
  ['POST', '/api/dev/3'],
  ['GET', '/api/dev/3'],
  ['GET', '/'],
];

describe('routerApart', () => {
  it.each(requests)('answers %s %s as one router would', async (method, path) => {
    const answer = async (app: Hono) => {
      const res = await app.request(path, { method });
      return { status: res.status, seen: res.headers.get('x-seen'), body: await res.text() };
    };
    expect(await answer(build(true))).toEqual(await answer(build(false)));
  });
});
