import { parseClusterNodes, type ClusterNode } from './cluster-nodes.ts';
import { DEFAULT_CONCURRENCY, RETRY_BASE_DELAY_MS, SHUTDOWN_TIMEOUT_MS } from './jobs/defaults.ts';

/**
 * Config is everything the app reads from the environment, typed and with
 * localhost defaults, so `npm start` works on a fresh machine with no .env.
 */
export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  redisUrl: string;
  /** A Redis Cluster's seed nodes (REDIS_CLUSTER_NODES), in place of REDIS_URL's host; unset for one Redis. */
  redisClusterNodes?: ClusterNode[];
  smtpUrl: string;
  mailUiUrl: string;
  mailFrom: string;
  databasePath: string;
  uploadsDir: string;
  /** Only one process should register the cron schedules (the lesson's flag). */
  runScheduler: boolean;
  /** Prefix of every BullMQ key; tests give each file its own. */
  queuePrefix: string;
  admin: { user: string; password: string | undefined };
  /** Who gets the nightly digest email. */
  digestTo: string;
  worker: {
    concurrency: number;
    /** The first retry's delay; later ones double from it. Tests shrink it. */
    retryBaseDelayMs: number;
    shutdownTimeoutMs: number;
  };
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_SMTP_URL = 'smtp://127.0.0.1:1025';
export const DEFAULT_MAIL_UI_URL = 'http://127.0.0.1:8025';
export const DEFAULT_DATABASE_PATH = 'data/app.db';
export const DEFAULT_UPLOADS_DIR = 'uploads';
export const DEFAULT_QUEUE_PREFIX = 'bull';
export const DEFAULT_DIGEST_TO = 'shop-owner@example.test';

/** loadConfig reads the environment. Unset variables take the defaults above. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development';
  return {
    env: nodeEnv,
    port: parsePort(env.PORT),
    redisUrl: env.REDIS_URL || DEFAULT_REDIS_URL,
    redisClusterNodes: parseClusterNodes(env.REDIS_CLUSTER_NODES),
    smtpUrl: env.SMTP_URL || DEFAULT_SMTP_URL,
    mailUiUrl: env.MAIL_UI_URL || DEFAULT_MAIL_UI_URL,
    mailFrom: env.MAIL_FROM || 'Workshop Shop <shop@example.test>',
    databasePath: env.DATABASE_PATH || DEFAULT_DATABASE_PATH,
    uploadsDir: env.UPLOADS_DIR || DEFAULT_UPLOADS_DIR,
    runScheduler: env.RUN_SCHEDULER === 'true',
    queuePrefix: env.QUEUE_PREFIX || DEFAULT_QUEUE_PREFIX,
    admin: { user: env.ADMIN_USER || 'admin', password: env.ADMIN_PASSWORD || undefined },
    digestTo: env.DIGEST_TO || DEFAULT_DIGEST_TO,
    worker: {
      concurrency: parseCount('WORKER_CONCURRENCY', env.WORKER_CONCURRENCY, DEFAULT_CONCURRENCY),
      retryBaseDelayMs: parseCount('RETRY_BASE_DELAY_MS', env.RETRY_BASE_DELAY_MS, RETRY_BASE_DELAY_MS),
      shutdownTimeoutMs: parseCount('SHUTDOWN_TIMEOUT_MS', env.SHUTDOWN_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS),
    },
  };
}

/**
 * withoutPassword returns a URL safe to print: the password, if any, is
 * replaced by ***. redis://:s3cret@cache:6379 gives redis://:***@cache:6379.
 */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function parseCount(name: string, value: string | undefined, fallback: number): number {
  if (!value) return fallback;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new Error(`${name} must be a whole number of 1 or more, got "${value}"`);
  return count;
}

function parsePort(value: string | undefined): number {
  if (!value) return DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number, got "${value}"`);
  }
  return port;
}
