import { simpleParser, type AddressObject, type EmailAddress } from 'mailparser';
import type { Services } from './services.ts';

/** An email as the mail catcher received it, bodies decoded. */
export interface Mail {
  to: string[];
  subject: string;
  html: string;
  text: string;
}

/** The mail catcher's inbox, the same whichever catcher runs. */
export interface Inbox {
  /** Every email caught so far, oldest first. */
  list(): Promise<Mail[]>;
  /** Polls until an email matches, every 100 ms; throws, listing what it saw, after timeoutMs. */
  waitFor(predicate: (m: Mail) => boolean, timeoutMs?: number): Promise<Mail>;
  /**
   * Deletes every email. The inbox is shared by all test files running at the
   * same time, so prefer a waitFor predicate on a unique recipient or subject.
   */
  clear(): Promise<void>;
}

/** An inbox client for the catcher in `s`: MailHog's or MailDev's HTTP API. */
export function createInbox(s: Services): Inbox {
  const base = s.mailUiUrl.replace(/\/+$/, '');
  const backend = s.mailBackend === 'mailhog' ? mailhog(base) : maildev(base);

  return {
    list: backend.list,
    clear: backend.clear,
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let seen: Mail[] = [];
      for (;;) {
        seen = await backend.list();
        const found = seen.find(predicate);
        if (found) return found;
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const summary = seen.map((m) => `  - to ${m.to.join(', ') || '(nobody)'}: "${m.subject}"`).join('\n');
      throw new Error(
        `No email matched within ${timeoutMs} ms (${s.mailBackend} at ${base}). ` +
          `The inbox held ${seen.length}:\n${summary || '  (empty)'}`,
      );
    },
  };
}

type Backend = Pick<Inbox, 'list' | 'clear'>;

// MailHog keeps the raw message; mailparser decodes it (quoted-printable, base64, charsets).
function mailhog(base: string): Backend {
  interface Message {
    Raw: { Data: string };
  }
  return {
    async list() {
      const body = (await request('GET', `${base}/api/v2/messages?limit=1000`)) as { items: Message[] };
      const mails = await Promise.all(body.items.map((m) => parse(m.Raw.Data)));
      return mails.reverse(); // MailHog lists newest first
    },
    async clear() {
      await request('DELETE', `${base}/api/v1/messages`);
    },
  };
}

// MailDev parses on arrival (with mailparser too) and serves the result as JSON.
// Its v3 REST API lives under /api: GET /api/email, DELETE /api/email/all.
function maildev(base: string): Backend {
  interface Email {
    to?: { address: string }[];
    subject?: string;
    html?: string;
    text?: string;
  }
  return {
    async list() {
      const emails = (await request('GET', `${base}/api/email`)) as Email[];
      return emails.map((e) => ({
        to: (e.to ?? []).map((a) => a.address),
        subject: e.subject ?? '',
        html: e.html ?? '',
        text: e.text ?? '',
      }));
    },
    async clear() {
      await request('DELETE', `${base}/api/email/all`);
    },
  };
}

async function parse(raw: string): Promise<Mail> {
  const parsed = await simpleParser(raw);
  const to = [parsed.to ?? []].flat();
  return {
    to: to.flatMap((a: AddressObject) => addresses(a.value)),
    subject: parsed.subject ?? '',
    html: parsed.html || '',
    text: parsed.text ?? '',
  };
}

function addresses(list: EmailAddress[]): string[] {
  return list.flatMap((a) => (a.group ? addresses(a.group) : a.address ? [a.address] : []));
}

async function request(method: string, url: string): Promise<unknown> {
  const res = await fetch(url, { method });
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${await res.text()}`);
  const type = res.headers.get('content-type') ?? '';
  return type.includes('json') ? res.json() : res.text();
}
