/**
 * A real OpenSSH server for tests: `sshd -D -e -f <config>` on 127.0.0.1 and a free port, with
 * throwaway host and user keys, key authentication as the current user, and a client ssh_config
 * (`Host hwtest`) with its own known_hosts. Nothing touches ~/.ssh.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/usr/bin/sshd'];

export function findSshd(): string | undefined {
  return SSHD_CANDIDATES.find((p) => fs.existsSync(p));
}

export interface TestSshd {
  /** Short temp dir holding keys, configs and the control socket dir. */
  dir: string;
  port: number;
  /** Client config: `Host hwtest` (and `Host hwtest-unknown` with an empty known_hosts). */
  clientConfig: string;
  alias: string;
  knownHosts: string;
  hostPublicKey: string;
  /** The directory on the server's PATH and the venv prefix whose bin/activate adds it. */
  standinBin: string;
  venv: string;
  /** Written by tests to steer the stand-ins (see test/fixtures/standins/hailo). */
  controlFile: string;
  controlDir: string;
  /** The sysfs copy the device check reads on this server ($HWB_SYSFS). */
  sysfs: string;
  stop(): Promise<void>;
  /** Kill the sshd and start it again on the same port (existing sessions die). */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hwtest', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** test/fixtures/standins, found from this file's folder upwards (it may run bundled elsewhere). */
function findStandins(): string {
  for (let d = __dirname; ; d = path.dirname(d)) {
    const p = path.join(d, 'test', 'fixtures', 'standins');
    if (fs.existsSync(path.join(p, 'hailo'))) return p;
    if (path.dirname(d) === d) return path.resolve(__dirname, '..', 'fixtures', 'standins');
  }
}

export const STANDIN_DIR = findStandins();

/** `env`: more variables for every session (e.g. PYTHONPATH of stand-in Python packages). */
export async function startSshd(opts: { extraServerConfig?: string; env?: Record<string, string> } = {}): Promise<TestSshd> {
  const sshd = findSshd();
  if (!sshd) throw new Error('sshd not found');
  const dir = fs.mkdtempSync(path.join('/tmp', 'hws-'));
  fs.chmodSync(dir, 0o700);
  const hostKey = path.join(dir, 'host_ed25519');
  const userKey = path.join(dir, 'user_ed25519');
  keygen(hostKey);
  keygen(userKey);
  const authorized = path.join(dir, 'authorized_keys');
  fs.copyFileSync(`${userKey}.pub`, authorized);
  fs.chmodSync(authorized, 0o600);
  const controlFile = path.join(dir, 'standin-control.json');
  fs.writeFileSync(controlFile, '{}');
  // a "venv" whose activate script puts the stand-ins on PATH
  const venv = path.join(dir, 'venv');
  fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
  fs.writeFileSync(
    path.join(venv, 'bin', 'activate'),
    `PATH=${STANDIN_DIR}:$PATH\nexport PATH\nHAILO_STANDIN_CONTROL=${controlFile}\nexport HAILO_STANDIN_CONTROL\n`,
  );
  if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = os.userInfo().username;
  const serverConfig = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    serverConfig,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'MaxSessions 64',
      'MaxStartups 64:30:128',
      'LogLevel ERROR',
      // HWB_SYSFS: the device check reads this copy of sysfs (tests write a Pi 5's PCIe link there)
      `SetEnv HAILO_STANDIN_CONTROL=${controlFile} PATH=${STANDIN_DIR}:/usr/local/bin:/usr/bin:/bin HWB_SYSFS=${path.join(dir, 'sys')}${Object.entries(
        opts.env ?? {},
      )
        .map(([k, v]) => ` ${k}=${v}`)
        .join('')}`,
      'Subsystem sftp internal-sftp',
      opts.extraServerConfig ?? '',
    ].join('\n') + '\n',
  );
  const knownHosts = path.join(dir, 'known_hosts');
  const hostPublicKey = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  const emptyKnown = path.join(dir, 'known_hosts_empty');
  fs.writeFileSync(emptyKnown, '');
  const clientConfig = path.join(dir, 'ssh_config');
  const common = [
    `  HostName 127.0.0.1`,
    `  Port ${port}`,
    `  User ${user}`,
    `  IdentityFile ${userKey}`,
    '  IdentitiesOnly yes',
    '  GlobalKnownHostsFile /dev/null',
    '  LogLevel ERROR',
  ];
  fs.writeFileSync(
    clientConfig,
    [
      'Host hwtest',
      ...common,
      `  UserKnownHostsFile ${knownHosts}`,
      'Host hwtest-unknown',
      ...common,
      `  UserKnownHostsFile ${emptyKnown}`,
      'Host hwtest-changed',
      ...common,
      `  UserKnownHostsFile ${path.join(dir, 'known_hosts_changed')}`,
      '',
    ].join('\n'),
  );
  // a different key recorded for the same host:port
  const other = path.join(dir, 'other_ed25519');
  keygen(other);
  fs.writeFileSync(
    path.join(dir, 'known_hosts_changed'),
    `[127.0.0.1]:${port} ${fs.readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}\n`,
  );
  const controlDir = path.join(dir, 'c');

  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(sshd, ['-D', '-e', '-f', serverConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errText = '';
    child.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`sshd exited: ${errText}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('data', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
        setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 1000);
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not start: ${errText}`);
  };
  await start();
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    // the sessions sshd forked for open connections (a client's master connection, a detached
    // step) outlive the listener; they hold its stderr pipe, which would keep this process alive
    const sessions = c.pid ? descendants(c.pid) : [];
    const done = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    for (const pid of sessions) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
    c.stderr?.destroy();
  };
  return {
    dir,
    port,
    clientConfig,
    alias: 'hwtest',
    knownHosts,
    hostPublicKey,
    standinBin: STANDIN_DIR,
    venv,
    controlFile,
    controlDir,
    sysfs: path.join(dir, 'sys'),
    async stop() {
      // close any master connections, then the server
      for (const alias of ['hwtest', 'hwtest-unknown', 'hwtest-changed']) {
        spawnSync('ssh', ['-F', clientConfig, '-o', `ControlPath=${path.join(controlDir, '%C')}`, '-O', 'exit', alias], { stdio: 'ignore', timeout: 5000 });
      }
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      await start();
    },
  };
}

/** Every process below `pid` (children first), read from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // the state line: "pid (comm) S ppid ..."; comm may hold spaces and parentheses
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone while reading
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      walk(c);
      out.push(c);
    }
  };
  walk(pid);
  return out;
}

/** Why the SSH tests cannot run here, or undefined when they can. */
export function sshdUnavailableReason(): string | undefined {
  if (!findSshd()) return `no sshd found (looked in ${SSHD_CANDIDATES.join(', ')}); install openssh-server`;
  if (spawnSync('ssh', ['-V']).status !== 0) return 'no ssh client on PATH';
  if (spawnSync('ssh-keygen', ['-?']).error) return 'no ssh-keygen on PATH';
  return undefined;
}
