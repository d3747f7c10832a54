import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import { fileKind } from '../regularFile';

/**
 * Random access to a file without loading it: the ONNX reader reads headers at offsets and skips
 * weight bytes, so a model of any size (also beyond Node's 2 GiB readFile limit) is read in a few
 * megabytes of memory.
 */
export interface RandomAccessFile {
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `into` (from index 0); resolves the count read. */
  read(into: Uint8Array, position: number, length: number): Promise<number>;
  close(): Promise<void>;
}

export interface FileStat {
  size: number;
  isFile: boolean;
}

/** The outside world the ONNX reader needs; tests and the benchmark wrap it to count bytes read. */
export interface ModelFileSystem {
  open(file: string): Promise<RandomAccessFile>;
  /** Follows symlinks. Rejects with a Node error (code ENOENT, EACCES...) when it cannot. */
  stat(file: string): Promise<FileStat>;
  realpath(file: string): Promise<string>;
  /** Rejects when the file exists but cannot be read by this process. */
  checkReadable(file: string): Promise<void>;
}

export const nodeFileSystem: ModelFileSystem = {
  async open(file) {
    // non-blocking open: a FIFO would otherwise wait for a writer forever; it is then refused
    const fh = await fs.open(file, fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0));
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error(`is ${fileKind(st)}; only regular files are read`), { code: st.isDirectory() ? 'EISDIR' : 'ENOTFILE' });
      return {
        size: st.size,
        async read(into, position, length) {
          let done = 0;
          while (done < length) {
            const { bytesRead } = await fh.read(into, done, length - done, position + done);
            if (bytesRead === 0) break;
            done += bytesRead;
          }
          return done;
        },
        close: () => fh.close(),
      };
    } catch (e) {
      await fh.close();
      throw e;
    }
  },
  async stat(file) {
    const st = await fs.stat(file);
    return { size: st.size, isFile: st.isFile() };
  },
  realpath: (file) => fs.realpath(file),
  checkReadable: (file) => fs.access(file, fs.constants.R_OK),
};

/** Wraps a file system and counts the bytes read per file (used to prove weights are not read). */
export function countingFileSystem(inner: ModelFileSystem = nodeFileSystem): ModelFileSystem & { bytesRead: Map<string, number> } {
  const bytesRead = new Map<string, number>();
  return {
    bytesRead,
    async open(file) {
      const f = await inner.open(file);
      return {
        size: f.size,
        async read(into, position, length) {
          const n = await f.read(into, position, length);
          bytesRead.set(file, (bytesRead.get(file) ?? 0) + n);
          return n;
        },
        close: () => f.close(),
      };
    },
    stat: (file) => inner.stat(file),
    realpath: (file) => inner.realpath(file),
    checkReadable: (file) => inner.checkReadable(file),
  };
}
