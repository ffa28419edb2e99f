import { mkdir, mkdtemp, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidUploadNameError, StorageUnavailableError, Uploads } from '../../src/storage/uploads.ts';

let root: string;
let uploads: Uploads;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'uploads-test-'));
  uploads = new Uploads(join(root, 'uploads'));
  await uploads.ensureFolder();
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('Uploads', () => {
  it('lists nothing in a new folder', async () => {
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

  it('ensureFolder creates missing parents, and is safe to call again', async () => {
    const nested = new Uploads(join(root, 'a', 'b', 'uploads'));
    await nested.ensureFolder();
    await nested.ensureFolder();
    await nested.write('x.txt', Buffer.from('x'));
    expect((await nested.list()).map((f) => f.name)).toEqual(['x.txt']);
  });
});

describe('Uploads while its folder is missing ("S3 is down")', () => {
  const down = /uploads storage is unavailable: the folder .*uploads is missing \(as if S3 were down\)/;

  it('fails every call with StorageUnavailableError naming the folder', async () => {
    const missing = new Uploads(join(root, 'never-created'));
    for (const call of [
      () => missing.read('photo.jpg'),
      () => missing.write('photo.jpg', Buffer.from('x')),
      () => missing.list(),
      () => missing.remove('photo.jpg'),
    ]) {
      await expect(call()).rejects.toThrow(StorageUnavailableError);
    }
    await expect(missing.read('photo.jpg')).rejects.toThrow(/the folder .*never-created is missing \(as if S3 were down\)/);
  });

  it('creates nothing: a write does not bring the folder back', async () => {
    await rm(uploads.dir, { recursive: true });
    await expect(uploads.write('photo.jpg', Buffer.from('x'))).rejects.toThrow(down);
    expect(await readdir(root)).toEqual([]);
  });

  it('works again, files and all, once the folder is back', async () => {
    await uploads.write('photo.jpg', Buffer.from('img'));
    const parked = join(root, 'uploads.off');
    await rename(uploads.dir, parked);

    await expect(uploads.read('photo.jpg')).rejects.toThrow(down);
    await expect(uploads.write('other.jpg', Buffer.from('x'))).rejects.toThrow(down);
    await expect(uploads.list()).rejects.toThrow(down);
    await expect(uploads.remove('photo.jpg')).rejects.toThrow(down);

    await rename(parked, uploads.dir);
    expect((await uploads.read('photo.jpg')).toString()).toBe('img');
    await uploads.write('other.jpg', Buffer.from('x'));
    expect((await uploads.list()).map((f) => f.name)).toEqual(['other.jpg', 'photo.jpg']);
    await uploads.remove('other.jpg');
    expect((await uploads.list()).map((f) => f.name)).toEqual(['photo.jpg']);
  });

  it('a missing file in a folder that is there is still ENOENT, not an outage', async () => {
    const err = await uploads.read('nope.jpg').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(StorageUnavailableError);
    expect(err).toMatchObject({ code: 'ENOENT' });
  });

  it('a file where the folder should be is an outage too', async () => {
    await rm(uploads.dir, { recursive: true });
    await writeFile(uploads.dir, 'not a folder');
    await expect(uploads.list()).rejects.toThrow(/the folder .*uploads is not a folder/);
    await expect(uploads.read('photo.jpg')).rejects.toThrow(StorageUnavailableError);
  });
});
