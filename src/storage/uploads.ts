import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/**
 * StorageUnavailableError: the storage cannot be reached right now. It is a
 * passing failure, so a job that meets it should throw and be retried.
 */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  constructor() {
    super('uploads storage is unavailable (as if S3 were down)');
  }
}

/**
 * InvalidUploadNameError: the name is not a plain file name. Retrying will
 * not help.
 */
export class InvalidUploadNameError extends Error {
  override name = 'InvalidUploadNameError';
}

/** UploadInfo describes one stored file. */
export interface UploadInfo {
  name: string;
  modifiedAt: Date;
}

/**
 * Uploads is a flat folder of files that stands in for the lesson's S3
 * bucket. Names are plain file names: a name with a path separator, '..' or
 * an absolute path is rejected, so no caller can read or write outside the
 * folder. `setUnavailable(true)` makes every call fail, to watch jobs retry
 * while "S3 is down".
 */
export class Uploads {
  #unavailable = false;

  /** The folder is created on the first write, not here. */
  constructor(readonly dir: string) {}

  /** read returns the file's bytes. It rejects with ENOENT if there is no such file. */
  async read(name: string): Promise<Buffer> {
    return readFile(this.#path(name));
  }

  /** write stores the bytes under `name`, replacing any file of that name. */
  async write(name: string, data: Buffer): Promise<void> {
    const path = this.#path(name);
    await mkdir(this.dir, { recursive: true });
    await writeFile(path, data);
  }

  /** list returns the files in the folder (not in subfolders), by name. No folder yet means no files. */
  async list(): Promise<UploadInfo[]> {
    this.#check();
    let entries;
    try {
      entries = await readdir(this.dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files = entries.filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
    return Promise.all(
      files.map(async (name) => ({ name, modifiedAt: (await stat(join(this.dir, name))).mtime })),
    );
  }

  /**
   * remove deletes the file. A missing file is not an error, so a retried
   * cleanup job does not fail on the files it removed the first time.
   */
  async remove(name: string): Promise<void> {
    await rm(this.#path(name), { force: true });
  }

  /** setUnavailable(true) makes every call throw StorageUnavailableError until it is set back to false. */
  setUnavailable(unavailable: boolean): void {
    this.#unavailable = unavailable;
  }

  #check(): void {
    if (this.#unavailable) throw new StorageUnavailableError();
  }

  /** #path checks the storage is up and the name is a plain file name, then returns its path. */
  #path(name: string): string {
    this.#check();
    // Path traversal: a name like '../../etc/passwd' must never leave the folder.
    if (
      name === '' ||
      name === '.' ||
      name === '..' ||
      name.includes('/') ||
      name.includes('\\') ||
      name.includes('\0') ||
      isAbsolute(name)
    ) {
      throw new InvalidUploadNameError(`invalid upload name ${JSON.stringify(name)}: use a plain file name`);
    }
    return join(this.dir, name);
  }
}
