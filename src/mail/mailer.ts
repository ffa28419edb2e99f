import { createTransport } from 'nodemailer';
import { DEFAULT_CONCURRENCY } from '../jobs/defaults.ts';

/** MailMessage is one email to one recipient. */
export interface MailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** Mailer sends email. One is shared by all the jobs in a worker; close it on shutdown. */
export interface Mailer {
  /** send delivers the message to the SMTP server, or rejects (and the job retries). */
  send(message: MailMessage): Promise<void>;
  /** close ends the pool's open connections; a send still under way finishes first. */
  close(): void;
}

/**
 * SMTP_TIMEOUT_MS bounds each step of talking to the SMTP server: connecting,
 * waiting for its greeting, and any silence after that. nodemailer waits
 * minutes by default; a job should fail fast and retry instead of hanging.
 */
export const SMTP_TIMEOUT_MS = 5_000;

/**
 * SMTP_MAX_CONNECTIONS is how many connections the mailer keeps open to the
 * SMTP server at most; each carries one email at a time. One for each job a
 * worker runs at once: no email waits in the pool for a free connection, so
 * SMTP_TIMEOUT_MS bounds a send as it did when every email opened its own
 * connection, and at a peak the server sees no more connections than then.
 */
export const SMTP_MAX_CONNECTIONS = DEFAULT_CONCURRENCY;

/**
 * SMTP_MAX_MESSAGES is how many emails one connection sends before the mailer
 * closes it and opens a fresh one (nodemailer's default): some servers limit
 * how many they take per connection, and a new connection may reach another
 * server behind the same name. One reconnect per 100 emails costs little.
 */
export const SMTP_MAX_MESSAGES = 100;

/** DEFAULT_SMTP_PORT and DEFAULT_SMTPS_PORT are used when the URL names no port. */
export const DEFAULT_SMTP_PORT = 25;
export const DEFAULT_SMTPS_PORT = 465;

/**
 * createSmtpMailer returns a Mailer that sends through the SMTP server at
 * `smtpUrl`, from the address `from` (e.g. 'Shop <shop@example.test>').
 * smtp://host:port talks plain SMTP with no TLS, as the local mail catcher
 * expects; smtps:// uses TLS. A user and password in the URL are used to log
 * in, and on smtp:// they require STARTTLS. It throws for any other kind of URL.
 *
 * It keeps a pool of open connections and reuses them, instead of connecting
 * (and greeting, and logging in) again for every email. A connection the
 * server drops is left out of the pool, and the next email opens a new one.
 */
export function createSmtpMailer(smtpUrl: string, from: string): Mailer {
  const url = new URL(smtpUrl);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`SMTP_URL must start with smtp:// or smtps://, got ${url.protocol}//`);
  }
  const secure = url.protocol === 'smtps:';
  const auth = url.username
    ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
    : undefined;
  const transport = createTransport({
    pool: true,
    maxConnections: SMTP_MAX_CONNECTIONS,
    maxMessages: SMTP_MAX_MESSAGES,
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? DEFAULT_SMTPS_PORT : DEFAULT_SMTP_PORT,
    secure,
    auth,
    // The local catcher speaks plain SMTP. A password, though, must never
    // cross the network in clear, so with a login STARTTLS is a must.
    ignoreTLS: !secure && !auth,
    requireTLS: !secure && !!auth,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });

  return {
    async send({ to, subject, html, text }) {
      await transport.sendMail({ from, to, subject, html, text });
    },
    close() {
      transport.close();
    },
  };
}
