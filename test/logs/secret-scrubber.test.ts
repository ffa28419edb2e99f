import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { secretScrubber, secretsOf } from '../../src/log-secrets.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';

afterAll(stopAll);

// Characters that JSON escapes (" \), that a URL escapes (@ / % : space), and unicode.
const AWKWARD_SECRETS = ['qu"ote"d', 'back\\sl\\ash', 'at@sl/ash:col', '100%-sure', 'pässwörd-é', 'emoji-🔑-key', 'sp ace"\\@/%ü'];

/** Every form a secret could take in a log line, as a reader would search for it: the test's own list, not the scrubber's. */
function giveaways(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  const url = encodeURIComponent(secret);
  return [secret, once, JSON.stringify(once).slice(1, -1), url, JSON.stringify(url).slice(1, -1)];
}

function leaks(line: string, secret: string): string[] {
  return giveaways(secret).filter((form) => line.includes(form));
}

describe('secretsOf', () => {
  it('finds the passwords inside REDIS_URL and SMTP_URL, decoded and as written, and ADMIN_PASSWORD', () => {
    const secrets = secretsOf({
      REDIS_URL: `redis://:${encodeURIComponent('p@ss/wörd')}@cache:6379`,
      SMTP_URL: 'smtp://mailer:s3cret@mail:587',
      ADMIN_PASSWORD: 'adm1n',
    });
    expect(secrets).toEqual(expect.arrayContaining(['p@ss/wörd', 'p%40ss%2Fw%C3%B6rd', 's3cret', 'adm1n']));
    expect(secrets).not.toContain('mailer'); // a user name is no secret
  });

  it('finds none in URLs without a password, or that do not parse', () => {
    expect(secretsOf({ REDIS_URL: 'redis://127.0.0.1:6379', SMTP_URL: 'not a url', ADMIN_PASSWORD: '' })).toEqual([]);
  });
});

describe('secretScrubber', () => {
  it.each(AWKWARD_SECRETS)('removes %j from a JSON line wherever it is, and the line stays JSON', (secret) => {
    const line = JSON.stringify({
      msg: `login failed for ${secret}`,
      err: { command: { name: 'hello', args: ['3', 'AUTH', 'default', secret] } },
      url: `redis://:${encodeURIComponent(secret)}@cache:6379`,
      reply: JSON.stringify({ password: secret }), // JSON inside a string: escaped twice
    });
    expect(leaks(line, secret).length).toBeGreaterThan(0);

    const scrubbed = secretScrubber([secret])(line);
    expect(leaks(scrubbed, secret)).toEqual([]);
    const parsed = JSON.parse(scrubbed);
    expect(parsed.msg).toBe('login failed for ***');
    expect(parsed.err.command.args).toEqual(['3', 'AUTH', 'default', '***']);
    expect(parsed.url).toBe('redis://:***@cache:6379');
    expect(JSON.parse(parsed.reply)).toEqual({ password: '***' });
  });

  it('replaces a secret that contains another one whole', () => {
    const scrub = secretScrubber(['abc', 'abcdef']);
    expect(scrub('{"msg":"abcdef and abc"}')).toBe('{"msg":"*** and ***"}');
  });

  it('leaves a line without secrets as it is, and does nothing without secrets', () => {
    const line = '{"level":30,"msg":"job done in 12 ms"}';
    expect(secretScrubber(['s3cret'])(line)).toBe(line);
    expect(secretScrubber([])(line)).toBe(line);
    expect(secretScrubber([''])(line)).toBe(line);
  });

  it('leaves no secret in any string of a line, and the line stays JSON (property)', () => {
    // Characters that JSON escapes next to letters of escapes (\n, \u0041), and any character at all.
    const tricky = fc.constantFrom('n', 'u', '0', 'a', '4', '\\', '"', '\n', '/', '%', '@');
    const text = (minLength: number, maxLength: number) =>
      fc.oneof(fc.string({ unit: tricky, minLength, maxLength }), fc.string({ unit: 'binary', minLength, maxLength }));
    // *** is what a secret becomes, so a secret of asterisks could be rebuilt by its own replacement;
    // and a secret that is part of a field name would take the name with it.
    const secret = text(4, 16).filter((s) => !s.includes('*') && !'msg url nested inner'.includes(s));
    fc.assert(
      fc.property(secret, text(0, 8), text(0, 8), (s, before, after) => {
        const line = JSON.stringify({
          msg: before + s + after,
          url: `redis://:${encodeURIComponent(s)}@h:1`,
          nested: JSON.stringify({ inner: before + s }),
        });
        const parsed = JSON.parse(secretScrubber([s])(line)) as Record<string, string>;
        const texts = [parsed.msg!, parsed.url!, parsed.nested!];
        expect(texts.filter((t) => t.includes(s) || t.includes(encodeURIComponent(s)))).toEqual([]);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('createLogger', () => {
  const secret = 'wr0ng"Pw\\@/%é';
  // A script that logs the secret in the shapes a real error gives it.
  const dir = mkdtempSync(join(tmpdir(), 'log-secrets-'));
  const script = join(dir, 'leaky.ts');
  writeFileSync(
    script,
    [
      `import { createLogger } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../../src/logger.ts')).href)};`,
      `const secret = ${JSON.stringify(secret)};`,
      `const log = createLogger('leaky');`,
      `const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'hello', args: ['3', 'AUTH', 'default', secret] } });`,
      `log.error({ err }, 'queue error');`,
      `log.info({ reply: JSON.stringify({ secret }) }, 'the password is ' + secret + ' in ' + process.env.REDIS_URL);`,
      `log.info({ password: secret }, 'redacted by path');`,
      `log.flush();`,
    ].join('\n'),
  );
  const env = { REDIS_URL: `redis://:${encodeURIComponent(secret)}@127.0.0.1:6379`, LOG_PRETTY: 'false' };

  it.each([
    ['JSON lines', env],
    ['pretty lines (pino-pretty in a worker thread)', { ...env, LOG_PRETTY: 'true' }],
  ])('writes no secret in %s', async (_, scriptEnv) => {
    const child = spawnScript(script, scriptEnv, 'leaky');
    const { code } = await child.exited;
    const output = child.output();
    expect(code, output).toBe(0);
    expect(output).toContain('queue error');
    expect(output).toContain('the password is ***');
    expect(leaks(output, secret), output).toEqual([]);
  });
});
