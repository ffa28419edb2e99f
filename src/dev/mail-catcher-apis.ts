/**
 * What the project knows of the two mail catchers it runs: MailHog, the one
 * the lesson names, and MailDev, which runs inside Node where MailHog cannot
 * run. Their names, their images and ports in a container, and the paths of
 * their HTTP APIs live here alone; the inbox client, the services that start
 * a catcher and the test harness all read them from here.
 */
export type MailBackend = 'mailhog' | 'maildev';

export const MAILHOG = {
  name: 'MailHog',
  image: 'mailhog/mailhog',
  /** Where the image listens: SMTP, then the web inbox and its API on one port. */
  smtpPort: 1025,
  webPort: 8025,
  /** GET: the messages, newest first, `start` and `limit` (at most 250) paging them. */
  messagesPath: '/api/v2/messages',
  /** GET: the messages whose header `kind` (to, from, containing) holds `query`. */
  searchPath: '/api/v2/search',
  /** DELETE: every message. */
  deleteAllPath: '/api/v1/messages',
} as const;

export const MAILDEV = {
  name: 'MailDev',
  image: 'maildev/maildev',
  smtpPort: 1025,
  webPort: 1080,
  /**
   * Where the REST API is. Version 3 serves it under /api; version 2, the one
   * that runs on Node 18, at the root.
   */
  apiRoots: ['/api', ''],
  /** GET, under an API root: every email, parsed. */
  emailsPath: '/email',
  /** DELETE, under an API root: every email. */
  deleteAllPath: '/email/all',
} as const;

export const MAIL_CATCHERS = { mailhog: MAILHOG, maildev: MAILDEV } as const;

/** The catcher's name as people write it: MailHog, MailDev. */
export function catcherName(backend: MailBackend): string {
  return MAIL_CATCHERS[backend].name;
}
