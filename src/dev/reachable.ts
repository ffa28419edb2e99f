import { connect } from 'node:net';

// Used when a URL names no port: the port each client would use.
const DEFAULT_PORTS: Record<string, number> = {
  'redis:': 6379,
  'rediss:': 6379,
  'smtp:': 587,
  'smtps:': 465,
  'http:': 80,
  'https:': 443,
};

/** hostAndPort reads the host and port out of a redis://, smtp:// or http:// URL. */
export function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(parsed.port) || DEFAULT_PORTS[parsed.protocol];
  if (!port) throw new Error(`No port in "${url}" and no default for ${parsed.protocol}`);
  return { host, port };
}

/** isLocalHost tells whether a URL points at this machine, where npm start may start the service. */
export function isLocalHost(url: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '0.0.0.0'].includes(hostAndPort(url).host);
}

/**
 * isReachable tells whether something accepts TCP connections at the host and
 * port of the URL. It only connects: it does not check what answers.
 */
export function isReachable(url: string, timeoutMs = 500): Promise<boolean> {
  return probe(url, timeoutMs, false);
}

/**
 * answers tells whether the service at the URL says something back, not only
 * accepts the connection: Docker's port proxy accepts connections before the
 * container listens, then closes them without a word.
 */
export function answers(url: string, timeoutMs = 1_000): Promise<boolean> {
  return probe(url, timeoutMs, true);
}

/** answersJson tells whether a GET of the URL answers 2xx with JSON within timeoutMs. */
export async function answersJson(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return false;
    await res.json();
    return true;
  } catch {
    return false;
  }
}

/** waitUntilReachable polls isReachable until the URL answers, or throws after timeoutMs. */
export function waitUntilReachable(url: string, timeoutMs = 30_000): Promise<void> {
  return pollUntil(isReachable, url, timeoutMs);
}

/** waitUntilAnswers polls answers() until the service speaks, or throws after timeoutMs. */
export function waitUntilAnswers(url: string, timeoutMs = 30_000): Promise<void> {
  return pollUntil(answers, url, timeoutMs);
}

// What to send so that the service says something back: SMTP greets first.
const OPENERS: Record<string, string> = {
  'redis:': 'PING\r\n',
  'http:': 'HEAD / HTTP/1.0\r\n\r\n',
};

function probe(url: string, timeoutMs: number, wantReply: boolean): Promise<boolean> {
  const { host, port } = hostAndPort(url);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => {
      if (!wantReply) return done(true);
      const opener = OPENERS[new URL(url).protocol];
      if (opener) socket.write(opener);
    });
    socket.once('data', () => done(true));
    socket.once('close', () => done(false));
    socket.once('error', () => done(false));
  });
}

async function pollUntil(check: (url: string) => Promise<boolean>, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check(url))) {
    if (Date.now() > deadline) throw new Error(`Nothing answers at ${url} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
