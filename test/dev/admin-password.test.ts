import { describe, expect, it } from 'vitest';
import { makeUpAdminPassword } from '../../src/dev/admin-password.ts';

describe('makeUpAdminPassword', () => {
  it('makes up 16 characters of base64url, different each call', () => {
    const passwords = Array.from({ length: 100 }, makeUpAdminPassword);
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(new Set(passwords).size).toBe(passwords.length);
  });
});
