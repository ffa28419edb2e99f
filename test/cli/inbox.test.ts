// npm run inbox: the latest emails in the terminal, read from the mail catcher the tests run.
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { services } from '../support/services/services.ts';

afterAll(stopAll);

async function inbox(args: string[], env: Record<string, string> = {}) {
  const child = spawnScript('src/cmd/inbox.ts', { MAIL_UI_URL: services().mailUiUrl, ...env }, `npm run inbox ${args.join(' ')}`, args);
  const { code } = await child.exited;
  return { code, output: child.output() };
}

describe('npm run inbox', () => {
  it('lists the emails to an address, newest last: time, recipient, subject and the first lines of the text', async () => {
    const to = `inbox-${randomBytes(4).toString('hex')}@example.com`;
    const smtp = new URL(services().smtpUrl);
    const transport = nodemailer.createTransport({ host: smtp.hostname, port: Number(smtp.port) });
    await transport.sendMail({ from: 'shop@example.com', to, subject: 'Welcome, Zoë', text: 'Hi Zoë,\n\nthanks for signing up.\nline three\nline four' });
    // An email that tries to drive the terminal: its escape codes must not reach it.
    await transport.sendMail({ from: 'shop@example.com', to, subject: 'Receipt \x1b[2Jn°1', html: '<p>Your <b>order</b> is on its way</p>' });
    transport.close();

    const { code, output } = await inbox(['--to', to.toUpperCase()]);
    expect(code, output).toBe(0);
    expect(output).toMatch(new RegExp(`Inbox at .+ \\((MailHog|MailDev)\\): 2 emails to ${to}, newest last\\.`));
    expect(output).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d  to ${to}\\n {10}Welcome, Zoë\\n {10}Hi Zoë,\\n {10}thanks for signing up\\.\\n {10}line three\\n {10}…`));
    expect(output).toContain('Receipt [2Jn°1');
    expect(output).toContain('Your order is on its way');
    expect(output).not.toContain('\x1b');
    expect(output.indexOf('Welcome, Zoë')).toBeLessThan(output.indexOf('Receipt'));

    const latest = await inbox(['--to', to, '--limit', '1']);
    expect(latest.output).toContain('2 emails to');
    expect(latest.output).toContain(', the latest 1 below.');
    expect(latest.output).not.toContain('Welcome, Zoë');
  });

  it('refuses a bad --limit, and says where to get a mail catcher when none answers', async () => {
    const bad = await inbox(['--limit', '0']);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('--limit must be a whole number from 1 to 200, got "0"');

    const nobody = await inbox([], { MAIL_UI_URL: `http://127.0.0.1:${await freePort()}` });
    expect(nobody.code).toBe(1);
    expect(nobody.output).toContain('No mail catcher answers at MAIL_UI_URL=');
    expect(nobody.output).toContain('npm start');
  });
});
