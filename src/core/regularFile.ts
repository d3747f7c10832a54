import * as fs from 'node:fs';
import { HailoError } from './errors';

/**
 * Opens a file for reading only when it is a regular file. The open itself does not block: a FIFO
 * opened for reading would wait for a writer forever, so it is opened non-blocking and refused.
 */
export async function openRegularFile(file: string): Promise<fs.promises.FileHandle> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new HailoError('MODEL_READ_FAILED', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, cause: e });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const what = fileKind(st);
      throw new HailoError('MODEL_READ_FAILED', `${file}: is ${what}; only regular files are read`, { file });
    }
    return fh;
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/** What a non-regular file is, for messages. */
export function fileKind(st: fs.Stats): string {
  return st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a named pipe (FIFO)'
      : st.isSocket()
        ? 'a socket'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : 'not a regular file';
}

/**
 * Reads a regular file as UTF-8 text. Open errors are Node's (code ENOENT, EACCES...); a FIFO,
 * socket, device or directory is an Error with code 'ENOTREG' and a message saying what it is.
 */
export async function readRegularTextFile(file: string): Promise<string> {
  const fh = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error(`${file} is ${fileKind(st)}; only regular files are read`), { code: 'ENOTREG' });
    return await fh.readFile('utf8');
  } finally {
    await fh.close().catch(() => undefined);
  }
}
