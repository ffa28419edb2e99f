import mailhogApi from 'mailhog';
import addressparser, { type AddressOrGroup } from 'nodemailer/lib/addressparser';
import { MAILDEV, MAILHOG, catcherName, type MailBackend } from './mail-catcher-apis.ts';
import { answersJson } from './reachable.ts';

/**
 * The mail catcher's inbox, read through its HTTP API: MailHog's or MailDev's,
 * the same either way. The tests read emails with it, and so does
 * `npm run inbox`.
 */

/** Where a mail catcher's inbox is, and which catcher it is. */
export interface MailCatcher {
  mailUiUrl: string;
  mailBackend: MailBackend;
}

/** An email as the mail catcher received it, bodies decoded. */
export interface Mail {
  to: string[];
  subject: string;
  html: string;
  text: string;
  /** When the catcher received it, where it says. */
  receivedAt?: Date;
}

/** The mail catcher's inbox, the same whichever catcher runs. */
export interface Inbox {
  /** Every email caught so far, oldest first. */
  list(): Promise<Mail[]>;
  /**
   * Every email to this address (any case), oldest first. MailHog searches on
   * its side; MailDev, which has no search, is listed and filtered here.
   */
  listTo(address: string): Promise<Mail[]>;
  /** Polls until an email matches, every POLL_MS; throws, listing what it saw, after timeoutMs. */
  waitFor(predicate: (m: Mail) => boolean, timeoutMs?: number): Promise<Mail>;
  /**
   * Deletes every email. The inbox is shared by all test files running at the
   * same time, so prefer a waitFor predicate on a unique recipient or subject.
   */
  clear(): Promise<void>;
}

/** POLL_MS: how often waitFor asks the catcher again; its API answers in a millisecond or two. */
const POLL_MS = 25;

/** An inbox client for the catcher in `s`: MailHog's or MailDev's HTTP API. */
export function createInbox(s: MailCatcher): Inbox {
  const base = s.mailUiUrl.replace(/\/+$/, '');
  const backend = s.mailBackend === 'mailhog' ? mailhog(base) : maildev(base);

  return {
    list: backend.list,
    listTo: backend.listTo,
    clear: backend.clear,
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let seen: Mail[] = [];
      for (;;) {
        seen = await backend.list();
        const found = seen.find(predicate);
        if (found) return found;
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const summary = seen.map((m) => `  - to ${m.to.join(', ') || '(nobody)'}: "${m.subject}"`).join('\n');
      throw new Error(
        `No email matched within ${timeoutMs} ms (${catcherName(s.mailBackend)} at ${base}). ` +
          `The inbox held ${seen.length}:\n${summary || '  (empty)'}`,
      );
    },
  };
}

type Backend = Pick<Inbox, 'list' | 'listTo' | 'clear'>;

/** sentTo keeps the emails with `address` among their recipients, in any case. */
function sentTo(mails: Mail[], address: string): Mail[] {
  const wanted = address.toLowerCase();
  return mails.filter((m) => m.to.some((to) => to.toLowerCase() === wanted));
}

/** MAILHOG_PAGE_SIZE is the most messages MailHog lists at once: it caps `limit` at 250. */
const MAILHOG_PAGE_SIZE = 250;

// MailHog keeps each message split into headers, body and MIME parts. The
// `mailhog` package fetches them and decodes the bodies (quoted-printable,
// base64, charsets); mailhogMail decodes the headers. The package looks for
// text/plain and text/html one level down only: enough for the mailer's
// multipart/alternative mails, not for a mail with attachments.
function mailhog(base: string): Backend {
  const url = new URL(base);
  const api = mailhogApi({
    protocol: url.protocol,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'), // http.request wants an IPv6 host bare
    port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80), // else the package uses 8025
    auth: url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
    basePath: `${url.pathname.replace(/\/+$/, '')}/api`,
  });

  /** Reads every page of a MailHog listing, newest first, and returns the emails oldest first. */
  async function allPages(what: string, page: (start: number) => Promise<mailhogApi.Messages | null>): Promise<Mail[]> {
    // A message that arrives meanwhile shifts the pages by one, so the map
    // drops the one that comes twice.
    const newestFirst = new Map<string, Mail>();
    for (let start = 0; ; ) {
      const result = await mailhogCall(what, () => page(start));
      if (!Array.isArray(result?.items)) throw new Error(`${what} gave no message list`);
      for (const item of result.items as MailhogItem[]) newestFirst.set(item.ID, mailhogMail(item, api.decode));
      start += result.items.length;
      if (result.items.length === 0 || start >= result.total) break;
    }
    return [...newestFirst.values()].reverse();
  }

  return {
    list: () => allPages(`GET ${base}${MAILHOG.messagesPath}`, (start) => api.messages(start, MAILHOG_PAGE_SIZE)),
    async listTo(address) {
      // MailHog matches a part of the address; only the whole address counts here.
      const found = await allPages(`GET ${base}${MAILHOG.searchPath}`, (start) =>
        api.search(address.toLowerCase(), 'to', start, MAILHOG_PAGE_SIZE),
      );
      return sentTo(found, address);
    },
    async clear() {
      const what = `DELETE ${base}${MAILHOG.deleteAllPath}`;
      const res = await mailhogCall(what, () => api.deleteAll());
      // The package resolves with the response itself when there is no body, as on success.
      if (res.statusCode !== 200) throw new Error(`${what} answered ${res.statusCode ?? 'with a body'}`);
    },
  };
}

/** MailhogItem is a message as the `mailhog` package gives it, with the Content its types leave out. */
type MailhogItem = mailhogApi.Message & { Content: { Headers: Partial<Record<string, string[]>> } };

// RFC 2047 encoded words, e.g. =?UTF-8?Q?Re=C3=A7u_n=C2=B01?= (charset, B or Q, text).
const ENCODED_WORD = /=\?([^?*\s]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g;
const BLANK_BETWEEN_WORDS = /(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)[ \t]+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g;

/** mailhogMail turns one MailHog message into a Mail. */
function mailhogMail(item: MailhogItem, decode: mailhogApi.API['decode']): Mail {
  const headers = item.Content.Headers;
  // The package's own subject getter leaves "_" (a space, in Q encoding) as it
  // is, and keeps the blank between two encoded words, which is only folding
  // (RFC 2047, 4.2 and 6.2). nodemailer writes both in any long or spaced subject.
  const subject = (headers.Subject?.[0] ?? '')
    .replace(BLANK_BETWEEN_WORDS, '$1')
    .replace(ENCODED_WORD, (_, charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B'
        ? decode(text, 'base64', charset)
        : decode(text.replace(/_/g, '=20'), 'quoted-printable', charset), // a bare blank at the end would be cut
    );
  // MailHog keeps SMTP's CRLF line ends; mailparser (and so MailDev) gives LF.
  const lf = (body: string | undefined) => (body ?? '').replace(/\r\n/g, '\n');
  return {
    // From the raw To header: an encoded name never holds the , < > " that split addresses.
    to: addresses(addressparser(headers.To?.[0] ?? '')),
    subject,
    html: lf(item.html),
    text: lf(item.text),
    receivedAt: dateOf(item.Created),
  };
}

// The package rejects with bare errors (e.g. a JSON parse error on a 404 page).
async function mailhogCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new Error(`${what} failed: ${(err as Error).message}`, { cause: err });
  }
}

// MailDev parses on arrival (with mailparser too) and serves the result as JSON,
// under one of its API roots depending on its version.
function maildev(base: string): Backend {
  interface Email {
    to?: { address: string }[];
    subject?: string;
    html?: string;
    text?: string;
    date?: string;
    time?: string;
  }
  let api: Promise<string> | undefined;
  const apiBase = () => (api ??= findMailDevApi(base).then((root) => `${base}${root ?? MAILDEV.apiRoots[0]}`));
  const list = async (): Promise<Mail[]> => {
    const emails = (await request('GET', `${await apiBase()}${MAILDEV.emailsPath}`)) as Email[];
    return emails.map((e) => ({
      to: (e.to ?? []).map((a) => a.address),
      subject: e.subject ?? '',
      html: e.html ?? '',
      text: e.text ?? '',
      receivedAt: dateOf(e.time ?? e.date),
    }));
  };
  return {
    list,
    listTo: async (address) => sentTo(await list(), address),
    async clear() {
      await request('DELETE', `${await apiBase()}${MAILDEV.deleteAllPath}`);
    },
  };
}

/** findMailDevApi returns the API root under which the MailDev at base lists its emails, if it does. */
export async function findMailDevApi(base: string): Promise<string | undefined> {
  for (const root of MAILDEV.apiRoots) if (await answersJson(`${base}${root}${MAILDEV.emailsPath}`)) return root;
  return undefined;
}

function dateOf(value: string | undefined): Date | undefined {
  const date = value ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** detectMailCatcher tells which catcher serves the inbox API at url, if any. */
export async function detectMailCatcher(url: string): Promise<MailBackend | undefined> {
  const base = url.replace(/\/+$/, '');
  if (await answersJson(`${base}${MAILHOG.messagesPath}?limit=1`)) return 'mailhog';
  if ((await findMailDevApi(base)) !== undefined) return 'maildev';
  return undefined;
}

function addresses(list: AddressOrGroup[]): string[] {
  return list.flatMap((a) => (a.group ? addresses(a.group) : a.address ? [a.address] : []));
}

async function request(method: string, url: string): Promise<unknown> {
  const res = await fetch(url, { method });
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${await res.text()}`);
  const type = res.headers.get('content-type') ?? '';
  return type.includes('json') ? res.json() : res.text();
}
