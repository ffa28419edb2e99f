// CI has no Docker, so MailHog never runs there. This checks the MailHog side of
// the inbox against a stand-in that serves real MIME messages (built by
// nodemailer) in the shape of MailHog's /api/v2/messages.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createInbox } from './inbox.ts';

const raws: string[] = [];
let deleted = 0;
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/api/v2/messages')) {
      // MailHog lists newest first.
      const items = [...raws].reverse().map((Data, i) => ({ ID: String(i), Raw: { Data } }));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ total: items.length, count: items.length, start: 0, items }));
    } else if (req.method === 'DELETE' && req.url === '/api/v1/messages') {
      raws.length = 0;
      deleted++;
      res.end();
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function rawMessage(to: string, subject: string, html: string): Promise<string> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const info = await transport.sendMail({ from: 'shop@example.com', to, subject, html });
  return (info.message as Buffer).toString();
}

it('decodes MailHog raw messages, lists them oldest first, and clears', async () => {
  const html = `<p>Café &amp; crème = ${'très bon, '.repeat(12)}</p>`;
  raws.push(await rawMessage('first@example.com', 'Reçu n°1', html));
  raws.push(await rawMessage('Ann <second@example.com>', 'Reçu n°2', '<p>two</p>'));
  expect(raws[0]).toContain('=C3=A9'); // é, quoted-printable: there is something to decode

  const inbox = createInbox({
    redisUrl: 'redis://unused',
    smtpUrl: 'smtp://unused',
    mailUiUrl: url,
    mailBackend: 'mailhog',
    backend: 'docker',
  });
  expect((await inbox.list()).map((m) => m.subject)).toEqual(['Reçu n°1', 'Reçu n°2']);
  const mail = await inbox.waitFor((m) => m.to.includes('first@example.com'));
  expect(mail.subject).toBe('Reçu n°1');
  expect(mail.html).toContain(html);
  expect(mail.text).toContain('Café & crème');
  expect((await inbox.waitFor((m) => m.subject === 'Reçu n°2')).to).toEqual(['second@example.com']);

  await inbox.clear();
  expect(deleted).toBe(1);
  expect(await inbox.list()).toEqual([]);
});
