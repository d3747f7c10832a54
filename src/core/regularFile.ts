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
      const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a named pipe (FIFO)' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
      throw new HailoError('MODEL_READ_FAILED', `${file}: is ${what}; only regular files are read`, { file });
    }
    return fh;
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}
