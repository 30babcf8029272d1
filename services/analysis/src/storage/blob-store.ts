import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

const KEY = /^logs\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A file being written; either `commit` (moved into place) or `discard` (removed). */
export interface BlobWrite {
  write(bytes: Uint8Array): Promise<void>;
  /** Closes and moves the file into place; returns its key. */
  commit(): Promise<string>;
  /** Closes and removes whatever was written (safe to call more than once). */
  discard(): Promise<void>;
}

/**
 * Uploaded logs in a local directory. Keys are server-generated (`logs/<uuid>`); client
 * file names never reach the file system. Partial uploads live under `tmp/` until commit.
 */
export class LocalBlobStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async init(): Promise<void> {
    await mkdir(path.join(this.root, 'logs'), { recursive: true });
    await mkdir(path.join(this.root, 'tmp'), { recursive: true });
  }

  /** Absolute path of a stored blob; rejects anything that is not a key this store made. */
  pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`not a blob key: ${JSON.stringify(key)}`);
    return path.join(this.root, key);
  }

  async begin(): Promise<BlobWrite> {
    const id = randomUUID();
    const tmp = path.join(this.root, 'tmp', `${id}.part`);
    const key = `logs/${id}`;
    const handle: FileHandle = await open(tmp, 'wx', 0o600);
    let closed = false;
    const close = async () => {
      if (!closed) {
        closed = true;
        await handle.close();
      }
    };
    let committed = false;
    return {
      write: async (bytes) => {
        let off = 0;
        while (off < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, off, bytes.length - off);
          off += bytesWritten;
        }
      },
      commit: async () => {
        await handle.sync();
        await close();
        await rename(tmp, this.pathOf(key));
        committed = true;
        return key;
      },
      discard: async () => {
        await close().catch(() => undefined);
        await rm(tmp, { force: true });
        if (committed) await rm(this.pathOf(key), { force: true });
      },
    };
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
