import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageUnavailableError, Uploads } from '../../src/storage/uploads.ts';

// The storage comes back at the worst moment: between a read that failed
// because the folder was away, and the look at the folder that follows. The
// read is wrapped so that a test can run code right after it fails.
const afterFailedRead = vi.hoisted(() => ({ hook: undefined as (() => Promise<void>) | undefined }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = (async (...args: Parameters<typeof fs.readFile>) => {
    try {
      return await fs.readFile(...args);
    } catch (error) {
      const hook = afterFailedRead.hook;
      afterFailedRead.hook = undefined;
      await hook?.();
      throw error;
    }
  }) as typeof fs.readFile;
  return { ...fs, readFile, default: { ...fs, readFile } };
});

let root: string;
let uploads: Uploads;
let parked: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'uploads-race-'));
  uploads = new Uploads(join(root, 'uploads'));
  parked = join(root, 'uploads.off');
  await uploads.ensureFolder();
  await uploads.write('photo.jpg', Buffer.from('img'));
});

afterEach(async () => {
  afterFailedRead.hook = undefined;
  await rm(root, { recursive: true, force: true });
});

describe('Uploads when the folder comes back during a read', () => {
  it('reads the file, rather than calling it missing (a resize would be dead for good)', async () => {
    await rename(uploads.dir, parked); // mv uploads uploads.off
    afterFailedRead.hook = () => rename(parked, uploads.dir); // mv uploads.off uploads, just after the read failed

    expect((await uploads.read('photo.jpg')).toString()).toBe('img');
  });

  it('still calls a file missing when the folder stays there', async () => {
    afterFailedRead.hook = async () => {};
    await expect(uploads.read('nope.jpg')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('still calls it an outage when the folder stays away', async () => {
    await rename(uploads.dir, parked);
    afterFailedRead.hook = async () => {};
    await expect(uploads.read('photo.jpg')).rejects.toThrow(StorageUnavailableError);
  });
});
