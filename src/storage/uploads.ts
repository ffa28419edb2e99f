import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/**
 * StorageUnavailableError: the storage cannot be reached right now (the
 * uploads folder is missing, or setUnavailable(true) was called). It is a
 * passing failure, so a job that meets it should throw and be retried.
 */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  constructor(message = 'uploads storage is unavailable (as if S3 were down)') {
    super(message);
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
 * folder.
 *
 * The folder itself is the bucket: while it is missing, every call throws
 * StorageUnavailableError, as if S3 were down. So you can take storage down
 * under a running worker (`mv uploads uploads.off`) and bring it back
 * (`mv uploads.off uploads`). A missing file in an existing folder is not an
 * outage: read rejects with ENOENT, as before. ensureFolder() creates the
 * folder; the worker calls it when it starts. Tests can also use
 * setUnavailable(true).
 */
export class Uploads {
  #unavailable = false;

  /** The folder is not created here: call ensureFolder(). */
  constructor(readonly dir: string) {}

  /** ensureFolder creates the folder (and its parents) if it is missing. Safe to call again. */
  async ensureFolder(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** read returns the file's bytes. It rejects with ENOENT if the folder is there but the file is not. */
  async read(name: string): Promise<Buffer> {
    const path = this.#path(name);
    return this.#whileAvailable(() => readFile(path));
  }

  /** write stores the bytes under `name`, replacing any file of that name. */
  async write(name: string, data: Buffer): Promise<void> {
    const path = this.#path(name);
    await this.#whileAvailable(() => writeFile(path, data));
  }

  /** list returns the files in the folder (not in subfolders), by name. */
  async list(): Promise<UploadInfo[]> {
    const entries = await this.#whileAvailable(() => readdir(this.dir, { withFileTypes: true }));
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
    const path = this.#path(name);
    // rm with force succeeds on a missing folder too: look for the folder first.
    await this.#check();
    await this.#whileAvailable(() => rm(path, { force: true }));
  }

  /** setUnavailable(true) makes every call throw StorageUnavailableError until it is set back to false. */
  setUnavailable(unavailable: boolean): void {
    this.#unavailable = unavailable;
  }

  /**
   * #whileAvailable runs `op` unless storage is set unavailable. The folder is
   * looked at only when `op` fails for a missing path: if the folder is gone,
   * it is an outage, not a missing file. (Looking before every call cost a
   * `stat` per job, a tenth of the worker's time on cleanup_uploads.)
   *
   * A folder that is there when we look may have been missing when `op` ran,
   * and come back in between (`mv uploads.off uploads`): then `op` is run
   * once more. Its missing path counts as a missing file only when the folder
   * is there before and after that second run.
   */
  async #whileAvailable<T>(op: () => Promise<T>): Promise<T> {
    if (this.#unavailable) throw new StorageUnavailableError();
    try {
      return await op();
    } catch (error) {
      if (!isMissingPath(error)) throw error;
    }
    await this.#check();
    try {
      return await op();
    } catch (error) {
      if (isMissingPath(error)) await this.#check();
      throw error;
    }
  }

  /** #check throws StorageUnavailableError when storage is set unavailable or the folder is missing. */
  async #check(): Promise<void> {
    if (this.#unavailable) throw new StorageUnavailableError();
    let isFolder: boolean;
    try {
      isFolder = (await stat(this.dir)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw this.#down('is missing');
      throw error;
    }
    if (!isFolder) throw this.#down('is not a folder');
  }

  #down(why: string): StorageUnavailableError {
    return new StorageUnavailableError(`uploads storage is unavailable: the folder ${this.dir} ${why} (as if S3 were down)`);
  }

  /** #path checks the name is a plain file name, then returns its path. */
  #path(name: string): string {
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

/** isMissingPath: the call failed because a part of the path does not exist (the file, or the folder). */
function isMissingPath(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
