import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidUploadNameError, StorageUnavailableError, Uploads } from '../src/storage/uploads.ts';

let root: string;
let uploads: Uploads;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'uploads-test-'));
  // A folder that does not exist yet: the first write creates it.
  uploads = new Uploads(join(root, 'uploads'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('Uploads', () => {
  it('lists nothing before the first write', async () => {
    expect(await uploads.list()).toEqual([]);
  });

  it('writes, reads, lists and removes files', async () => {
    await uploads.write('b.txt', Buffer.from('bee'));
    await uploads.write('a.jpg', Buffer.from([0xff, 0xd8]));
    expect((await uploads.read('b.txt')).toString()).toBe('bee');

    const old = new Date('2020-01-01T00:00:00Z');
    await utimes(join(uploads.dir, 'a.jpg'), old, old);
    const listed = await uploads.list();
    expect(listed.map((f) => f.name)).toEqual(['a.jpg', 'b.txt']);
    expect(listed[0]?.modifiedAt.getTime()).toBe(old.getTime());

    await uploads.remove('a.jpg');
    expect((await uploads.list()).map((f) => f.name)).toEqual(['b.txt']);
    await expect(uploads.read('a.jpg')).rejects.toMatchObject({ code: 'ENOENT' });
    // Removing again is fine: a retried cleanup job must not fail.
    await expect(uploads.remove('a.jpg')).resolves.toBeUndefined();
  });

  it('lists files only, not subfolders', async () => {
    await uploads.write('top.txt', Buffer.from('x'));
    await mkdir(join(uploads.dir, 'nested'));
    await writeFile(join(uploads.dir, 'nested', 'deep.txt'), 'y');
    expect((await uploads.list()).map((f) => f.name)).toEqual(['top.txt']);
  });

  it.each(['../escape.txt', '..', '.', '', 'sub/file.txt', '..\\escape.txt', '/etc/passwd', 'a\0b'])(
    'rejects the name %j',
    async (name) => {
      await expect(uploads.write(name, Buffer.from('x'))).rejects.toThrow(InvalidUploadNameError);
      await expect(uploads.read(name)).rejects.toThrow(InvalidUploadNameError);
      await expect(uploads.remove(name)).rejects.toThrow(InvalidUploadNameError);
    },
  );

  it('never writes outside its folder', async () => {
    await expect(uploads.write('../outside.txt', Buffer.from('x'))).rejects.toThrow(InvalidUploadNameError);
    expect(await readdir(root)).not.toContain('outside.txt');
  });

  it('fails every call while unavailable, and works again after', async () => {
    await uploads.write('photo.jpg', Buffer.from('img'));
    uploads.setUnavailable(true);

    await expect(uploads.read('photo.jpg')).rejects.toThrow(StorageUnavailableError);
    await expect(uploads.write('other.jpg', Buffer.from('x'))).rejects.toThrow(StorageUnavailableError);
    await expect(uploads.list()).rejects.toThrow(StorageUnavailableError);
    await expect(uploads.remove('photo.jpg')).rejects.toThrow(StorageUnavailableError);

    uploads.setUnavailable(false);
    expect((await uploads.read('photo.jpg')).toString()).toBe('img');
    expect((await uploads.list()).map((f) => f.name)).toEqual(['photo.jpg']);
  });
});
