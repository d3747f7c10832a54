/**
 * What the run engine needs from a remote machine: run an argv or a fixed script, resolve remote
 * paths, move files. `SshHost` (system OpenSSH) is the implementation the product uses; the
 * runner, the job wrapper, the uploads and the step drivers only see this interface.
 */

export interface ExecOptions {
  signal?: AbortSignal;
  /** Bytes or a file sent to the remote command's stdin. */
  stdin?: string | Uint8Array | { file: string };
  /** With a file on stdin: told the bytes sent so far. */
  onStdinProgress?: (sent: number) => void;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Throw REMOTE_STEP_FAILED when the remote command exits non-zero (default true). */
  check?: boolean;
  /** Write stdout to this local file instead of buffering it. */
  stdoutFile?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

export interface RemoteHost {
  /** The host as the user named it (an ssh alias or user@host); used in messages. */
  readonly host: string;
  /** Run one remote command given as an argv (quoted for the remote shell, never a string). */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Run `sh -c SCRIPT sh ARGS...`: the script is fixed text, the args are data. */
  execScript(script: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Where the connection really goes (`ssh -G`), where the transport can tell. */
  resolve?(signal?: AbortSignal): Promise<{ user: string; hostname: string; port: number }>;
  /** The remote home directory. */
  home(signal?: AbortSignal): Promise<string>;
  /** A remote path with `~/` (or a relative path) made absolute. */
  absolute(p: string, signal?: AbortSignal): Promise<string>;
  /** Send a local file to a remote path, atomically; returns the bytes sent. */
  upload(local: string, remote: string, signal?: AbortSignal, onProgress?: (sent: number, size: number) => void): Promise<number>;
  /** Fetch a remote file into a local path; returns its size. */
  download(remote: string, local: string, signal?: AbortSignal): Promise<number>;
}
