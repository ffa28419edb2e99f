// The MailHog side of the inbox client (src/dev/inbox.ts). Where a MailHog can
// run here (MAILHOG_BIN, or mailhog on PATH; CI sets MAILHOG_BIN), it runs
// against the real one, mail sent to it over SMTP. Elsewhere it runs against a
// stand-in that answers as MailHog does: nodemailer builds each message as the
// mailer does, and fixtures/mailhog-answers.ts turns it into the JSON MailHog
// would store and serve for it. Either way the client reaches MailHog through
// a proxy that records each request it makes.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findMailHog, startMailHog } from '../../src/dev/mailhog.ts';
import { mailhogList, mailhogMessage, mailhogSearch, type MailhogMessage } from '../support/fixtures/mailhog-answers.ts';
import { createInbox } from '../support/services/inbox.ts';

const FROM = 'Workshop Shop <shop@example.test>';

/** A MailHog to test against: where its API is, how mail reaches it, how to empty and stop it. */
interface MailHogUnderTest {
  kind: string;
  apiUrl: string;
  receive(raw: string, envelope: { from: string; to: string[] }): Promise<void>;
  empty(): Promise<void>;
  stop(): Promise<void>;
}

const requests: string[] = [];
let mailhog: MailHogUnderTest;
let proxy: Server;
let url: string;

beforeAll(async () => {
  const binary = findMailHog();
  mailhog = binary ? await realMailHog(binary.path) : await recordedMailHog();
  proxy = await listen(
    createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const upstream = request(`${mailhog.apiUrl}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (err) => res.writeHead(502).end(err.message));
      req.pipe(upstream);
    }),
  );
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  console.log(`[inbox-mailhog] against ${mailhog.kind}`);
}, 30_000);
afterAll(async () => {
  await new Promise<void>((r) => proxy.close(() => r()));
  await mailhog.stop();
});
beforeEach(async () => {
  await mailhog.empty();
  requests.length = 0;
});

/** The real MailHog, as a process on free ports. */
async function realMailHog(binary: string): Promise<MailHogUnderTest> {
  const running = await startMailHog(binary);
  const apiUrl = `http://127.0.0.1:${running.webPort}`;
  const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: running.smtpPort, secure: false, ignoreTLS: true, pool: true });
  return {
    kind: `the real MailHog (${binary})`,
    apiUrl,
    async receive(raw, envelope) {
      await smtp.sendMail({ envelope, raw });
    },
    async empty() {
      const res = await fetch(`${apiUrl}/api/v1/messages`, { method: 'DELETE' });
      if (!res.ok) throw new Error(`could not empty MailHog: ${res.status}`);
    },
    async stop() {
      smtp.close();
      await running.stop();
    },
  };
}

/** A stand-in for MailHog's HTTP API, serving the recorded answers. */
async function recordedMailHog(): Promise<MailHogUnderTest> {
  const stored: MailhogMessage[] = []; // oldest first, as MailHog keeps them
  const server = await listen(
    createServer((req, res) => {
      const { pathname, searchParams } = new URL(req.url ?? '/', 'http://mailhog');
      const answer = (body: unknown) => {
        res.setHeader('content-type', 'text/json'); // sic: MailHog's own
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && pathname === '/api/v2/messages') {
        answer(mailhogList(stored, searchParams));
      } else if (req.method === 'GET' && pathname === '/api/v2/search') {
        answer(mailhogSearch(stored, searchParams));
      } else if (req.method === 'DELETE' && pathname === '/api/v1/messages') {
        stored.length = 0;
        res.setHeader('content-type', 'text/json');
        res.end(); // 200 and no body
      } else {
        res.statusCode = 404;
        res.end('404 page not found\n'); // Go's default
      }
    }),
  );
  return {
    kind: 'recorded answers (no MailHog here: set MAILHOG_BIN to test the real one)',
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async receive(raw, envelope) {
      stored.push(mailhogMessage(raw, envelope));
    },
    async empty() {
      stored.length = 0;
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function listen(server: Server): Promise<Server> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

const build = nodemailer.createTransport({ streamTransport: true, buffer: true });

/** Builds `mail` with nodemailer, as the mailer does, and delivers it to MailHog; returns the raw message. */
async function receive(mail: Mail.Options): Promise<string> {
  const info = await build.sendMail({ from: FROM, ...mail });
  const raw = (info.message as Buffer).toString();
  await mailhog.receive(raw, { from: info.envelope.from || '', to: info.envelope.to });
  return raw;
}

function inboxAt(mailUiUrl = url) {
  return createInbox({ mailUiUrl, mailBackend: 'mailhog' });
}

describe('the recorded answers', () => {
  it('split a message the way MailHog does', () => {
    const raw =
      'From: a@example.test\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n =?UTF-8?Q?_cr=C3=A8me?=\r\n' +
      'Content-Type: multipart/alternative;\r\n\tboundary="b1"\r\n\r\n' +
      '--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n';
    const m = mailhogMessage(raw, { from: 'a@example.test', to: ['b@example.test'], helo: 'client.test' }, new Date('2026-11-28T02:00:00.120Z'));

    expect(m.ID).toMatch(/^[\w-]{43}=@mailhog\.example$/);
    expect(m.From).toEqual({ Relays: null, Mailbox: 'a', Domain: 'example.test', Params: '' });
    expect(m.Created).toBe('2026-11-28T02:00:00.12Z');
    expect(m.Raw).toEqual({ From: 'a@example.test', To: ['b@example.test'], Data: raw.slice(0, -2), Helo: 'client.test' });
    expect(m.Content).toEqual({
      Headers: {
        From: ['a@example.test'],
        Subject: ['=?UTF-8?Q?caf=C3=A9?= =?UTF-8?Q?_cr=C3=A8me?='], // folds glued on, blank kept
        'Content-Type': ['multipart/alternative;\tboundary="b1"'],
        'Message-ID': [m.ID], // the message had none
        Received: [`from client.test by mailhog.example (MailHog)\r\n          id ${m.ID}; Sat, 28 Nov 2026 02:00:00 +0000`],
        'Return-Path': ['<a@example.test>'],
      },
      Body: '--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--',
      Size: raw.length - 2,
      MIME: null,
    });
    expect(m.MIME).toEqual({
      Parts: [
        { Headers: { 'Content-Type': ['text/plain'] }, Body: 'hi', Size: 30, MIME: null },
        { Headers: {}, Body: '--', Size: 2, MIME: null }, // what follows the last boundary
      ],
    });
  });
});

describe('the MailHog inbox', () => {
  it('decodes what nodemailer sends, and lists it oldest first', async () => {
    const html = `<p>Café &amp; crème = ${'très bon, '.repeat(12)}</p>`;
    const first = await receive({
      to: 'first@example.com',
      subject: 'Votre reçu n°1 : merci pour votre commande chez Café Crème',
      html,
      text: 'Café & crème\nTotal : 12,00 €',
    });
    const second = await receive({
      to: '"Doe, Ann" <second@example.com>, Zoë Müller <third@example.com>',
      subject: 'ご注文ありがとうございます。領収書をお送りします',
      html: '<p>ご注文ありがとうございます</p>',
      text: '日本語のテキスト',
    });
    // There is something to decode: quoted-printable bodies with soft breaks,
    // base64 bodies, and subjects in several Q (with "_") or B encoded words.
    expect(first).toMatch(/Content-Type: multipart\/alternative;/);
    expect(first).toMatch(/Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>Caf=C3=A9 [^\r]*=\r\n/);
    expect(first).toMatch(/Subject: =\?UTF-8\?Q\?Votre_re=C3=A7u_\S*\?=\r\n =\?UTF-8\?Q\?/);
    expect(second).toMatch(/Content-Transfer-Encoding: base64\r\n\r\n5pel5pys/);
    expect(second).toMatch(/Subject: =\?UTF-8\?B\?\S+\?=\r\n =\?UTF-8\?B\?/);
    expect(second).toContain('=?UTF-8?Q?Zo=C3=AB_M=C3=BCller?=');

    const before = Date.now();
    const mails = await inboxAt().list();
    expect(mails.map(({ receivedAt, ...mail }) => mail)).toEqual([
      {
        to: ['first@example.com'],
        subject: 'Votre reçu n°1 : merci pour votre commande chez Café Crème',
        html,
        text: 'Café & crème\nTotal : 12,00 €',
      },
      {
        to: ['second@example.com', 'third@example.com'],
        subject: 'ご注文ありがとうございます。領収書をお送りします',
        html: '<p>ご注文ありがとうございます</p>',
        text: '日本語のテキスト',
      },
    ]);
    // MailHog's Created, read back as when each email arrived.
    for (const { receivedAt } of mails) expect(Math.abs(receivedAt!.getTime() - before)).toBeLessThan(60_000);
  });

  it('reads past the 250 messages MailHog lists at once', async () => {
    for (let i = 0; i < 260; i++) await receive({ to: `n${i}@example.com`, subject: `n°${i}`, text: 'x', html: '<p>x</p>' });

    const mails = await inboxAt().list();
    expect(mails.map((m) => m.subject)).toEqual(Array.from({ length: 260 }, (_, i) => `n°${i}`));
    expect(requests).toEqual(['GET /api/v2/messages?limit=250', 'GET /api/v2/messages?start=250&limit=250']);
  });

  it('waitFor finds a match, or says what the inbox held', async () => {
    await receive({ to: 'first@example.com', subject: 'Reçu n°1', html: '<p>1</p>', text: '1' });
    await receive({ to: 'Ann <second@example.com>', subject: 'Reçu n°2', html: '<p>2</p>', text: '2' });
    const inbox = inboxAt();

    expect((await inbox.waitFor((m) => m.to.includes('second@example.com'))).subject).toBe('Reçu n°2');
    await expect(inbox.waitFor(() => false, 300)).rejects.toThrow(
      `No email matched within 300 ms (MailHog at ${url}). The inbox held 2:\n` +
        '  - to first@example.com: "Reçu n°1"\n' +
        '  - to second@example.com: "Reçu n°2"',
    );
  });

  it('reads a MIME-encoded subject, and the HTML and text bodies, of a birthday email', async () => {
    const raw = await receive({
      to: 'Zoë Faure <zoe@example.com>',
      subject: 'Happy birthday, Zoë',
      html: '<h1>Happy birthday, Zoë!</h1>\n<p>Here is 10% off: <b>BDAY-ZOË</b></p>',
      text: 'Happy birthday, Zoë!\nHere is 10% off: BDAY-ZOË',
    });
    expect(raw).toContain('Subject: =?UTF-8?Q?Happy_birthday=2C_Zo=C3=AB?=');

    const [mail] = await inboxAt().list();
    expect(mail).toMatchObject({
      to: ['zoe@example.com'],
      subject: 'Happy birthday, Zoë',
      html: '<h1>Happy birthday, Zoë!</h1>\n<p>Here is 10% off: <b>BDAY-ZOË</b></p>',
      text: 'Happy birthday, Zoë!\nHere is 10% off: BDAY-ZOË',
    });
  });

  it('listTo searches by recipient, and keeps only the whole address', async () => {
    await receive({ to: 'Ann <ann@example.com>', subject: 'to Ann', text: '1' });
    await receive({ to: 'joann@example.com', subject: 'to Joann', text: '2' });
    await receive({ to: 'bob@example.com', bcc: 'ann@example.com', subject: 'to Bob, Ann in Bcc', text: '3' });
    await receive({ to: 'ANN@Example.com', subject: 'to ANN', text: '4' });

    const mails = await inboxAt().listTo('Ann@example.COM');
    expect(mails.map((m) => m.subject)).toEqual(['to Ann', 'to ANN']);
    // MailHog searched on its side: a part of an address matches there, so
    // Joann's and the Bcc came back too, and were dropped here.
    expect(requests).toEqual(['GET /api/v2/search?kind=to&query=ann%40example.com&limit=250']);
    expect(await inboxAt().listTo('nobody@example.com')).toEqual([]);
  });

  it('clear deletes every message', async () => {
    await receive({ to: 'first@example.com', subject: 'Reçu n°1', html: '<p>1</p>', text: '1' });
    const inbox = inboxAt();

    await inbox.clear();
    expect(requests).toEqual(['DELETE /api/v1/messages']);
    expect(await inbox.list()).toEqual([]);
  });

  it('names the URL when MailHog is not there', async () => {
    await expect(inboxAt(`${url}/elsewhere`).list()).rejects.toThrow(`GET ${url}/elsewhere/api/v2/messages failed: `);
    await expect(inboxAt(`${url}/elsewhere`).clear()).rejects.toThrow(`DELETE ${url}/elsewhere/api/v1/messages failed: `);
  });
});
