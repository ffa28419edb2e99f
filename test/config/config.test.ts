import { describe, expect, it } from 'vitest';
import { loadConfig, withoutPassword } from '../../src/config.ts';

describe('loadConfig', () => {
  it('defaults to the local services on their usual ports', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      smtpUrl: 'smtp://127.0.0.1:1025',
      mailUiUrl: 'http://127.0.0.1:8025',
      runScheduler: false,
      admin: { user: 'admin', password: undefined },
      worker: { concurrency: 10, retryBaseDelayMs: 1_000 },
    });
  });

  it('reads the environment', () => {
    const config = loadConfig({ PORT: '8080', RUN_SCHEDULER: 'true', NODE_ENV: 'production', WORKER_CONCURRENCY: '4', ADMIN_PASSWORD: 'pw' });
    expect(config).toMatchObject({ port: 8080, runScheduler: true, env: 'production', worker: { concurrency: 4 }, admin: { password: 'pw' } });
  });

  it('says which variable is wrong', () => {
    expect(() => loadConfig({ PORT: 'http' })).toThrow('PORT must be a port number, got "http"');
    expect(() => loadConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY must be a whole number/);
  });
});

describe('withoutPassword', () => {
  it('hides the password of a URL and leaves the rest', () => {
    expect(withoutPassword('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(withoutPassword('smtp://mailer:pa55@smtp.example.test:587')).toBe('smtp://mailer:***@smtp.example.test:587');
    expect(withoutPassword('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('never returns the password of a URL it cannot parse', () => {
    for (const url of ['redis://:s3cret@cache:99999', 'redis://:s3cret@[cache:6379', 'redis://u:s3cret@ca che:6379', ':s3cret@cache']) {
      const shown = withoutPassword(url);
      expect(shown, url).not.toContain('s3cret');
      expect(shown).toBe('(unparsable URL)');
    }
  });
});
