import { randomBytes } from 'node:crypto';

/** ADMIN_PASSWORD_BYTES is how much randomness a made-up password holds: 96 bits. */
const ADMIN_PASSWORD_BYTES = 12;

/**
 * makeUpAdminPassword returns a new random password for the jobs admin page,
 * for npm start to use when no ADMIN_PASSWORD is set: 16 characters of
 * base64url (A-Z, a-z, 0-9, - and _), which need no quoting in a URL or a shell.
 */
export function makeUpAdminPassword(): string {
  return randomBytes(ADMIN_PASSWORD_BYTES).toString('base64url');
}
