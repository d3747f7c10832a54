/**
 * A real one-node Slurm cluster for tests (Debian `slurm-wlm` + `munge`): `munged`, `slurmctld`
 * and `slurmd` in the foreground on 127.0.0.1 and free ports, as root, with a throwaway munge key,
 * state, spool and log folders and a generated slurm.conf under one temp dir. Nothing in /etc is
 * read or written: every client finds the cluster through $SLURM_CONF.
 *
 * The node claims more CPUs and less memory than the machine has (`SlurmdParameters=config_overrides`)
 * so that scheduling is the same on every machine. Memory limits are enforced by the cgroup v1
 * memory controller where it is writable (jobs end as OUT_OF_MEMORY, as on most clusters), else by
 * `JobAcctGatherParams=OverMemoryKill` (the job step is killed and fails with signal 9 and
 * "Exceeded job memory limit" in its output); `memoryEnforcement` says which.
 *
 * Remote tests reach it through the local OpenSSH server (test/harness/sshd.ts): `sshClientConfig()`
 * writes a copy of that server's client config whose `Host hwtest` sends SLURM_CONF (`SetEnv`), and
 * the server must be started with `SLURM_SSHD_CONFIG` (`AcceptEnv SLURM_CONF`).
 *
 * stop() cancels every job, stops the daemons and then ends, by pid, any process still carrying
 * this cluster's SLURM_CONF in its environment (slurmstepd and job processes), and removes the
 * cgroups it made.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const SLURM_SSHD_CONFIG = 'AcceptEnv SLURM_CONF';

const BINARIES = { munged: ['/usr/sbin/munged'], slurmctld: ['/usr/sbin/slurmctld'], slurmd: ['/usr/sbin/slurmd'] };
const CLIENTS = ['sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo', 'sacct'];

function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

function findDaemon(name: keyof typeof BINARIES): string | undefined {
  return BINARIES[name].find((p) => fs.existsSync(p)) ?? which(name);
}

/** Why the Slurm tests cannot run here, or undefined when they can. */
export function slurmUnavailableReason(): string | undefined {
  if (process.env.HAILO_TEST_NO_SLURM === '1') return 'HAILO_TEST_NO_SLURM=1';
  if (process.platform !== 'linux') return `Slurm tests need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'Slurm tests run slurmd as root (slurmd must start job steps as any user); run the tests as root';
  for (const d of ['munged', 'slurmctld', 'slurmd'] as const) {
    if (!findDaemon(d)) return `${d} not found; install the Debian packages slurm-wlm and munge (test/setup/install.sh does)`;
  }
  for (const c of CLIENTS) if (!which(c)) return `${c} not on PATH; install slurm-wlm`;
  return undefined;
}

export type MemoryEnforcement = 'cgroup' | 'overmemorykill';

export interface TestSlurm {
  dir: string;
  conf: string;
  /** Environment for running Slurm clients locally (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  node: string;
  /** The default partition (`debug`, 8 CPUs, 2000 MB, 10 min) and a small one (`tiny`, 1 CPU, 1 min). */
  partition: string;
  smallPartition: string;
  cpus: number;
  realMemoryMB: number;
  memoryEnforcement: MemoryEnforcement;
  version: string;
  /** Seconds from the first spawn until the node was idle. */
  startSeconds: number;
  /** Run a Slurm client locally: stdout, throws on a non-zero exit. */
  run(argv: string[], opts?: { check?: boolean }): { status: number; stdout: string; stderr: string };
  /** A copy of the sshd's client config whose `Host hwtest` sends this cluster's SLURM_CONF. */
  sshClientConfig(sshdClientConfig: string): string;
  /** Cancel every job and wait until the queue is empty. */
  cancelAll(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** cgroup v1 with a writable memory controller (slurm's cgroup/v1 plugin), probed with mkdir. */
function cgroupV1Usable(): boolean {
  if (process.env.HAILO_TEST_SLURM_CGROUP === '0') return false;
  const mem = '/sys/fs/cgroup/memory';
  if (!fs.existsSync(path.join(mem, 'memory.limit_in_bytes')) || !fs.existsSync('/sys/fs/cgroup/freezer')) return false;
  if (!fs.existsSync('/usr/lib/x86_64-linux-gnu/slurm-wlm/cgroup_v1.so') && !fs.existsSync('/usr/lib/aarch64-linux-gnu/slurm-wlm/cgroup_v1.so')) return false;
  const probe = path.join(mem, `hwtest-probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** Remove the (empty) cgroups slurm made under each v1 controller (`slurm` or `slurm_<node>`), deepest first. */
function removeSlurmCgroups(node: string): void {
  for (const root of ['memory', 'freezer', 'cpuset', 'devices', 'cpuacct', 'cpu'].flatMap((ctl) =>
    ['slurm', `slurm_${node}`].map((n) => path.join('/sys/fs/cgroup', ctl, n)),
  )) {
    const walk = (d: string): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
      try {
        fs.rmdirSync(d);
      } catch {}
    };
    walk(root);
  }
}

/** Pids of live processes whose environment holds SLURM_CONF=<conf> (daemons, slurmstepd, job processes). */
function pidsWithConf(conf: string): number[] {
  const needle = Buffer.from(`SLURM_CONF=${conf}\0`);
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${e}/environ`);
      if (env.includes(needle)) out.push(Number(e));
    } catch {}
  }
  return out;
}

export async function startSlurm(): Promise<TestSlurm> {
  const why = slurmUnavailableReason();
  if (why) throw new Error(why);
  // a free port can be taken between probing and binding: one more try with new ports
  try {
    return await startOnce();
  } catch (e) {
    console.log(`      slurm test cluster did not start (${(e as Error).message.split('\n')[0]}); trying again`);
    return startOnce();
  }
}

async function startOnce(): Promise<TestSlurm> {
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join('/tmp', 'hwslurm-'));
  fs.chmodSync(dir, 0o755);
  for (const d of ['state', 'spool', 'log', 'munge']) fs.mkdirSync(path.join(dir, d), { mode: 0o700 });
  // munged wants a socket dir others can traverse; the key stays 0400 root
  fs.chmodSync(path.join(dir, 'munge'), 0o755);
  const key = path.join(dir, 'munge', 'munge.key');
  fs.writeFileSync(key, crypto.randomBytes(1024), { mode: 0o400 });
  const sock = path.join(dir, 'munge', 'munge.socket');
  const node = os.hostname().split('.')[0]!;
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const cgroup = cgroupV1Usable();
  const memoryEnforcement: MemoryEnforcement = cgroup ? 'cgroup' : 'overmemorykill';
  const cpus = 8;
  const realMemoryMB = 2000;
  const conf = path.join(dir, 'slurm.conf');
  fs.writeFileSync(
    conf,
    [
      'ClusterName=hwtest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${sock}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      ...(cgroup
        ? ['ProctrackType=proctrack/cgroup', 'TaskPlugin=task/cgroup']
        : ['ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'JobAcctGatherParams=OverMemoryKill']),
      'JobAcctGatherType=jobacct_gather/linux',
      'JobAcctGatherFrequency=task=1',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SchedulerType=sched/backfill',
      'SchedulerParameters=sched_interval=1,bf_interval=1',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core_Memory',
      'SlurmdParameters=config_overrides',
      'ReturnToService=2',
      'MpiDefault=none',
      'KillWait=2',
      'OverTimeLimit=0',
      'InactiveLimit=0',
      'MinJobAge=600',
      'MessageTimeout=10',
      'SlurmctldTimeout=10',
      'SlurmdTimeout=30',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${realMemoryMB} State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=10 State=UP`,
      `PartitionName=tiny Nodes=${node} MaxTime=1 MaxCPUsPerNode=1 MaxMemPerNode=500 State=UP`,
      '',
    ].join('\n'),
  );
  if (cgroup) {
    fs.writeFileSync(
      path.join(dir, 'cgroup.conf'),
      [
        'CgroupPlugin=cgroup/v1',
        'CgroupMountpoint=/sys/fs/cgroup',
        'ConstrainRAMSpace=yes',
        'ConstrainSwapSpace=no',
        'ConstrainCores=no',
        'ConstrainDevices=no',
        '',
      ].join('\n'),
    );
  }
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const errs: Record<string, string> = {};
  const launch = (name: string, bin: string, args: string[]) => {
    const c = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    errs[name] = '';
    c.stderr!.on('data', (d: Buffer) => (errs[name] = (errs[name]! + d.toString()).slice(-4000)));
    children.push(c);
    return c;
  };
  const run = (argv: string[], opts: { check?: boolean } = {}) => {
    const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8', timeout: 30000 });
    const res = { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    if (opts.check !== false && res.status !== 0) throw new Error(`${argv.join(' ')} exited ${res.status}: ${res.stderr.trim()}`);
    return res;
  };
  const stopAll = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const done = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([done, sleep(5000)]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    // slurmstepd and job processes outlive slurmd: end them by pid
    for (let i = 0; i < 20; i++) {
      const left = pidsWithConf(conf);
      if (!left.length) break;
      for (const p of left) {
        try {
          process.kill(p, i < 5 ? 'SIGTERM' : 'SIGKILL');
        } catch {}
      }
      await sleep(100);
    }
    if (cgroup) removeSlurmCgroups(node);
  };
  try {
    const munged = launch('munged', findDaemon('munged')!, [
      '-F',
      '-f',
      `--socket=${sock}`,
      `--key-file=${key}`,
      `--log-file=${dir}/log/munged.log`,
      `--pid-file=${dir}/munge/munged.pid`,
      `--seed-file=${dir}/munge/munged.seed`,
      '--num-threads=4',
    ]);
    for (let i = 0; !fs.existsSync(sock); i++) {
      if (munged.exitCode !== null) throw new Error(`munged exited: ${errs.munged}`);
      if (i > 200) throw new Error(`munged did not create its socket: ${errs.munged}`);
      await sleep(25);
    }
    const ctld = launch('slurmctld', findDaemon('slurmctld')!, ['-D', '-i', '-f', conf]);
    const slurmd = launch('slurmd', findDaemon('slurmd')!, ['-D', '-f', conf]);
    const deadline = Date.now() + 30000;
    for (;;) {
      if (ctld.exitCode !== null) throw new Error(`slurmctld exited: ${errs.slurmctld} ${tail(path.join(dir, 'log', 'slurmctld.log'))}`);
      if (slurmd.exitCode !== null) throw new Error(`slurmd exited: ${errs.slurmd} ${tail(path.join(dir, 'log', 'slurmd.log'))}`);
      const r = spawnSync('sinfo', ['-h', '-n', node, '-o', '%t'], { env, encoding: 'utf8', timeout: 5000 });
      if (r.status === 0 && /^idle/m.test(r.stdout)) break;
      if (Date.now() > deadline) throw new Error(`the test node did not become idle in 30 s (sinfo: ${(r.stdout || r.stderr).trim()}); logs in ${dir}/log`);
      await sleep(100);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const version = run(['sinfo', '--version'])
    .stdout.trim()
    .replace(/^slurm(-wlm)?\s+/, '');
  const slurm: TestSlurm = {
    dir,
    conf,
    env,
    node,
    partition: 'debug',
    smallPartition: 'tiny',
    cpus,
    realMemoryMB,
    memoryEnforcement,
    version,
    startSeconds: (Date.now() - t0) / 1000,
    run,
    sshClientConfig(sshdClientConfig: string) {
      const text = fs.readFileSync(sshdClientConfig, 'utf8');
      const out = text.replace(/^Host hwtest$/m, `Host hwtest\n  SetEnv SLURM_CONF=${conf}`);
      if (out === text) throw new Error(`${sshdClientConfig}: no "Host hwtest" block`);
      const file = path.join(path.dirname(sshdClientConfig), 'ssh_config_slurm');
      fs.writeFileSync(file, out);
      return file;
    },
    async cancelAll(timeoutMs = 20000) {
      const ids = run(['squeue', '-h', '-o', '%A'])
        .stdout.split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
      if (ids.length) run(['scancel', ...new Set(ids)], { check: false });
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (!run(['squeue', '-h', '-o', '%A'], { check: false }).stdout.trim()) return;
        await sleep(200);
      }
    },
    async stop() {
      try {
        await slurm.cancelAll(10000);
      } catch {}
      await stopAll();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return slurm;
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}
