import type { ResultPromise } from 'execa';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HailoError, throwIfAborted } from '../errors';
import { nullLogger, type Logger } from '../logger';
import { expandHome, shJoin, shQuote } from './quote';
import type { ExecOptions, ExecResult, RemoteHost } from './host';

/** execa is ESM-only; load it on first use (also keeps activation fast). */
let execaModule: Promise<typeof import('execa')> | undefined;
async function loadExeca(): Promise<(typeof import('execa'))['execa']> {
  execaModule ??= import('execa');
  return (await execaModule).execa;
}

/** How to run the system OpenSSH client. */
export interface SshSettings {
  /** The ssh binary (`hailo.ssh.path`). */
  sshPath: string;
  /** Seconds (`hailo.ssh.connectTimeout`). */
  connectTimeout: number;
  /** Private directory for ControlMaster sockets; default: a 0700 dir under the temp dir. */
  controlDir?: string;
  /** An ssh_config file to use instead of ~/.ssh/config (`ssh -F`). */
  configFile?: string;
  /** Seconds the master connection stays open after the last command. */
  controlPersist?: number;
  log?: Logger;
}

/** The values `ssh -G` prints for a host: keys lower-case, each with all its values. */
export interface ResolvedHost {
  host: string;
  hostname: string;
  user: string;
  port: number;
  options: Record<string, string[]>;
}

export type { ExecOptions, ExecResult, RemoteHost } from './host';

/** Unix socket paths are limited (108 bytes on Linux, 104 on macOS); keep room for `%C` (40). */
const SOCKET_PATH_MAX = 104;

/**
 * The private directory for control sockets: created 0700, refused when another user owns it or
 * when others can read it (a socket there would let them use the connection).
 */
export function controlDirFor(base?: string): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = base ?? path.join(os.tmpdir(), `hwb-${uid}`);
  const candidates = [dir, path.join('/tmp', `hwb-${uid}`)];
  for (const d of candidates) {
    if (d.length + 1 + 40 > SOCKET_PATH_MAX) continue;
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const st = fs.statSync(d);
    if (typeof process.getuid === 'function' && st.uid !== uid) {
      throw new HailoError('SSH_FAILED', `${d}: control socket directory is owned by another user; remove it or set another directory`, { file: d });
    }
    if ((st.mode & 0o077) !== 0) fs.chmodSync(d, 0o700);
    return d;
  }
  throw new HailoError('SSH_FAILED', `${dir}: path too long for an SSH control socket (Unix socket paths are limited to ${SOCKET_PATH_MAX} bytes)`, {
    file: dir,
  });
}

/** Turn ssh's own failure (exit 255 + stderr) into a typed error, or undefined when it is not one. */
export function classifySshFailure(host: string, exitCode: number, stderr: string): HailoError | undefined {
  if (exitCode !== 255) return undefined;
  const text = stderr.replace(/\r/g, '');
  const first =
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^@+$/.test(l) && !l.startsWith('@'))[0] ?? 'ssh failed';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed|HOST KEY HAS CHANGED/i.test(text)) {
    return new HailoError(
      'SSH_HOST_KEY_CHANGED',
      `${host}: the host key has CHANGED since it was recorded in known_hosts. This can mean someone is intercepting the connection, or the host was reinstalled. Check the new key with "ssh ${host}" in a terminal and update known_hosts yourself.`,
    );
  }
  if (/No \S+ host key is known for|Host key verification failed|authenticity of host .* can't be established/i.test(text)) {
    return new HailoError(
      'SSH_HOST_KEY_UNKNOWN',
      `${host}: the host key is not known (not in known_hosts). Connect once with "ssh ${host}" in a terminal, check the fingerprint and accept it.`,
    );
  }
  if (/Permission denied|Too many authentication failures|no mutual signature|Authentication failed/i.test(text)) {
    return new HailoError(
      'SSH_AUTH_FAILED',
      `${host}: authentication failed (${first}). Hailo Workbench connects with BatchMode=yes: use a key loaded in your ssh-agent or an IdentityFile in ~/.ssh/config; passwords cannot be typed.`,
    );
  }
  if (
    /Could not resolve hostname|Connection refused|Connection timed out|timed out|No route to host|Network is unreachable|Connection closed by|Connection reset|kex_exchange_identification|Broken pipe|port \d+: /i.test(
      text,
    )
  ) {
    return new HailoError('SSH_UNREACHABLE', `${host}: cannot connect (${first})`);
  }
  return new HailoError('SSH_FAILED', `${host}: ssh failed (${first})`);
}

/** Parse `ssh -G` output. */
export function parseSshG(host: string, text: string): ResolvedHost {
  const options: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const k = m[1]!.toLowerCase();
    (options[k] ??= []).push(m[2]!);
  }
  return {
    host,
    hostname: options.hostname?.[0] ?? host,
    user: options.user?.[0] ?? os.userInfo().username,
    port: Number(options.port?.[0] ?? 22),
    options,
  };
}

/** `Host` patterns of an ssh_config file (and its Includes), without wildcards or negations. */
export function sshConfigHosts(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*Host\s+(.+?)\s*$/i.exec(raw);
    if (!m) continue;
    for (const h of m[1]!.split(/\s+/)) {
      const name = h.replace(/^"|"$/g, '');
      if (!name || /[*?!]/.test(name)) continue;
      if (!out.includes(name)) out.push(name);
    }
  }
  return out;
}

/** The Include targets of an ssh_config file (relative ones are relative to ~/.ssh), glob-expanded. */
export function sshConfigIncludes(text: string, sshDir: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*Include\s+(.+?)\s*$/i.exec(raw);
    if (!m) continue;
    for (const pat of m[1]!.split(/\s+/)) {
      const p = pat.startsWith('~/') ? path.join(os.homedir(), pat.slice(2)) : path.isAbsolute(pat) ? pat : path.join(sshDir, pat);
      const dir = path.dirname(p);
      const re = new RegExp(
        `^${path
          .basename(p)
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
      try {
        for (const f of fs.readdirSync(dir).sort()) if (re.test(f)) out.push(path.join(dir, f));
      } catch {}
    }
  }
  return out;
}

/** Host aliases from ~/.ssh/config and the files it includes. */
export function listConfiguredHosts(configFile = path.join(os.homedir(), '.ssh', 'config')): string[] {
  const seen = new Set<string>();
  const hosts: string[] = [];
  const visit = (file: string, depth: number) => {
    if (seen.has(file) || depth > 8) return;
    seen.add(file);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const h of sshConfigHosts(text)) if (!hosts.includes(h)) hosts.push(h);
    for (const inc of sshConfigIncludes(text, path.dirname(configFile))) visit(inc, depth + 1);
  };
  visit(configFile, 0);
  return hosts;
}

/**
 * One SSH host reached through the system OpenSSH client. Every command goes through one
 * multiplexed master connection (ControlMaster=auto, ControlPersist), with keepalives and
 * BatchMode, and host keys are always verified (StrictHostKeyChecking=yes overrides any weaker
 * user setting). Remote commands are argv arrays quoted by `shJoin`, never strings.
 */
export class SshHost implements RemoteHost {
  readonly log: Logger;
  private readonly controlDir: string;
  private homeDir: string | undefined;
  /** Payload bytes written to remote stdin, for upload accounting. */
  bytesSent = 0;

  constructor(
    readonly host: string,
    readonly settings: SshSettings,
  ) {
    if (!host || host.startsWith('-') || /[\s\0]/.test(host)) {
      throw new HailoError('INVALID_ARGUMENT', `"${host}" is not a valid SSH host (an alias from ~/.ssh/config or user@host)`);
    }
    this.log = settings.log ?? nullLogger;
    this.controlDir = controlDirFor(settings.controlDir);
  }

  /** Options on every ssh invocation. */
  baseArgs(): string[] {
    const a: string[] = [];
    if (this.settings.configFile) a.push('-F', this.settings.configFile);
    a.push(
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `ConnectTimeout=${Math.max(1, Math.round(this.settings.connectTimeout))}`,
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=4',
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${path.join(this.controlDir, '%C')}`,
      '-o',
      `ControlPersist=${this.settings.controlPersist ?? 600}`,
    );
    return a;
  }

  /** The argv of an interactive `ssh <host>` for a terminal (host key checks, first login). */
  terminalArgv(): string[] {
    return [this.settings.sshPath, ...(this.settings.configFile ? ['-F', this.settings.configFile] : []), this.host];
  }

  /** `ssh -G host`: the final configuration OpenSSH would use (Include, Match, wildcards applied). */
  async resolve(signal?: AbortSignal): Promise<ResolvedHost> {
    const args = [...(this.settings.configFile ? ['-F', this.settings.configFile] : []), '-G', this.host];
    const execa = await loadExeca();
    const r = await execa(this.settings.sshPath, args, { reject: false, cancelSignal: signal, timeout: 15000 }).catch((e: unknown) => {
      throw new HailoError('SSH_FAILED', `cannot run ${this.settings.sshPath}: ${(e as Error).message}`, { cause: e });
    });
    throwIfAborted(signal);
    if (r.exitCode !== 0) {
      const msg = (r.stderr || r.message || '').toString().trim().split('\n')[0];
      throw new HailoError(r.failed && (r as { code?: string }).code === 'ENOENT' ? 'SSH_FAILED' : 'SSH_FAILED', `ssh -G ${this.host}: ${msg}`);
    }
    return parseSshG(this.host, String(r.stdout));
  }

  /**
   * Run one remote command. `argv` is quoted for the remote shell; stdout comes back as bytes.
   * Throws a typed SSH_* error when ssh itself fails (exit 255 with ssh's own message).
   */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.execLine(shJoin(argv), opts);
  }

  /** Run a remote `sh -c SCRIPT sh ARGS...`: the script is fixed text, the args are data. */
  async execScript(script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(['sh', '-c', script, 'sh', ...args], opts);
  }

  private async execLine(line: string, opts: ExecOptions): Promise<ExecResult> {
    throwIfAborted(opts.signal);
    const args = [...this.baseArgs(), '-T', '-e', 'none', this.host, '--', line];
    this.log.trace(`ssh ${this.host} ${line.length > 300 ? line.slice(0, 300) + '…' : line}`);
    const input = opts.stdin;
    let sub: ResultPromise;
    const execa = await loadExeca();
    try {
      sub = execa(this.settings.sshPath, args, {
        reject: false,
        encoding: 'buffer',
        stripFinalNewline: false,
        cancelSignal: opts.signal,
        forceKillAfterDelay: 2000,
        ...(input === undefined
          ? { stdin: 'ignore' as const }
          : typeof input === 'object' && 'file' in input
            ? opts.onStdinProgress
              ? { stdin: 'pipe' as const }
              : { inputFile: input.file }
            : { input: typeof input === 'string' ? Buffer.from(input) : input }),
        ...(opts.stdoutFile ? { stdout: { file: opts.stdoutFile } } : {}),
        ...(opts.onStdout ? { buffer: { stdout: false, stderr: true } } : {}),
      });
    } catch (e) {
      throw new HailoError('SSH_FAILED', `cannot run ${this.settings.sshPath}: ${(e as Error).message}`, { cause: e });
    }
    if (input !== undefined && typeof input === 'object' && 'file' in input && opts.onStdinProgress && sub.stdin) {
      // stream the file ourselves to count what was sent; a dead ssh must not raise an unhandled EPIPE
      const stdin = sub.stdin;
      const rs = fs.createReadStream(input.file, { highWaterMark: 1 << 20 });
      let sent = 0;
      const report = opts.onStdinProgress;
      rs.on('data', (c) => {
        sent += c.length;
        report(sent);
      });
      rs.on('error', () => stdin.destroy());
      stdin.on('error', () => rs.destroy());
      rs.pipe(stdin);
    }
    if (opts.onStdout) sub.stdout?.on('data', opts.onStdout);
    if (opts.onStderr) sub.stderr?.on('data', opts.onStderr);
    const r = await sub;
    if (r.isCanceled || opts.signal?.aborted) throw new HailoError('CANCELLED', 'Cancelled');
    if ((r as { code?: string }).code === 'ENOENT' || (r.exitCode === undefined && r.failed && !r.signal)) {
      throw new HailoError('SSH_FAILED', `cannot run the ssh client "${this.settings.sshPath}" (${r.shortMessage}); set hailo.ssh.path`);
    }
    const stderr = Buffer.isBuffer(r.stderr)
      ? r.stderr.toString('utf8')
      : r.stderr instanceof Uint8Array
        ? Buffer.from(r.stderr).toString('utf8')
        : String(r.stderr ?? '');
    const exitCode = r.exitCode ?? 255;
    const sshErr = classifySshFailure(this.host, exitCode, stderr);
    if (sshErr) throw sshErr;
    if (input !== undefined) {
      if (typeof input === 'object' && 'file' in input) this.bytesSent += fs.statSync(input.file).size;
      else this.bytesSent += typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
    }
    const stdout = opts.onStdout || opts.stdoutFile ? Buffer.alloc(0) : Buffer.from(r.stdout as Uint8Array);
    if (exitCode !== 0 && opts.check !== false) {
      throw new HailoError(
        'REMOTE_STEP_FAILED',
        `${this.host}: remote command failed with exit code ${exitCode}: ${line.slice(0, 200)}${stderr.trim() ? `\n${stderr.trim().split('\n').slice(-5).join('\n')}` : ''}`,
      );
    }
    return { exitCode, stdout, stderr };
  }

  /** Is the master connection up? (`ssh -O check`) */
  async isConnected(): Promise<boolean> {
    const execa = await loadExeca();
    const r = await execa(this.settings.sshPath, [...this.baseArgs(), '-O', 'check', this.host], { reject: false });
    return r.exitCode === 0;
  }

  /** Connect (or reuse the master) and check the login works; returns the remote $HOME. */
  async connect(signal?: AbortSignal): Promise<string> {
    return this.home(signal);
  }

  /** The remote home directory (cached). */
  async home(signal?: AbortSignal): Promise<string> {
    if (this.homeDir) return this.homeDir;
    const r = await this.execScript('printf "\\nHWB-HOME:%s" "$HOME"', [], { signal });
    const text = r.stdout.toString('utf8');
    const h = text.slice(text.lastIndexOf('\nHWB-HOME:') + 10);
    if (!h.startsWith('/')) throw new HailoError('SSH_FAILED', `${this.host}: the remote $HOME is not an absolute path ("${h}")`);
    this.homeDir = h;
    return h;
  }

  /** A remote path with `~/` replaced by the remote home. */
  async absolute(p: string, signal?: AbortSignal): Promise<string> {
    if (p === '~' || p.startsWith('~/')) return expandHome(p, await this.home(signal));
    if (!p.startsWith('/')) return `${await this.home(signal)}/${p}`;
    return p;
  }

  /** Send a local file to a remote path (atomically: written beside it, then renamed). */
  async upload(local: string, remote: string, signal?: AbortSignal, onProgress?: (sent: number, size: number) => void): Promise<number> {
    const size = fs.statSync(local).size;
    // the size check catches a stream cut short (the file is only renamed into place when complete)
    await this.execScript(
      'set -e; mkdir -p -- "$(dirname -- "$1")"; cat > "$1.part.$$"; n=$(wc -c < "$1.part.$$"); if [ "$n" -ne "$2" ]; then rm -f -- "$1.part.$$"; echo "short upload: $n of $2 bytes" >&2; exit 3; fi; mv -f -- "$1.part.$$" "$1"',
      [remote, String(size)],
      { signal, stdin: { file: local }, ...(onProgress ? { onStdinProgress: (n: number) => onProgress(n, size) } : {}) },
    );
    return size;
  }

  /** Fetch a remote file into a local path (written beside it, then renamed). */
  async download(remote: string, local: string, signal?: AbortSignal): Promise<number> {
    fs.mkdirSync(path.dirname(local), { recursive: true });
    const tmp = `${local}.part`;
    try {
      await this.exec(['cat', '--', remote], { signal, stdoutFile: tmp });
      fs.renameSync(tmp, local);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    return fs.statSync(local).size;
  }

  /** Close the master connection. */
  async close(): Promise<void> {
    const execa = await loadExeca();
    await execa(this.settings.sshPath, [...this.baseArgs(), '-O', 'exit', this.host], { reject: false, timeout: 5000 });
  }
}

/** sha256 of a local file, streamed. */
export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  const stream = fs.createReadStream(file, { highWaterMark: 1 << 20, signal });
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

export { shQuote, shJoin };
