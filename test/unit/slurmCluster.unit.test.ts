import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDfcLog } from '../../src/core/hailo/dfcLog';
import type { SlurmOptions } from '../../src/core/project/schema';
import { SshHost } from '../../src/core/remote/ssh';
import { checkSlurmTarget } from '../../src/core/slurm/check';
import { SlurmClient } from '../../src/core/slurm/client';
import { jobRecord, pollJob, stateFromExitFile } from '../../src/core/slurm/follow';
import { EXIT_FILE, JOB_START_MARKER, type SlurmJobSpec } from '../../src/core/slurm/script';
import { describeState, type SlurmJobState } from '../../src/core/slurm/state';
import { expandSweep, resultFromDfcLog, sweepArraySpec, sweepCsv, sweepRows, variantLogPath } from '../../src/core/slurm/sweep';
import { explainVerdict } from '../../src/core/slurm/verdict';
import { SLURM_SSHD_CONFIG, slurmUnavailableReason, startSlurm, type TestSlurm } from '../harness/slurm';
import { sshdUnavailableReason, startSshd, STANDIN_DIR, type TestSshd } from '../harness/sshd';

/**
 * Batch jobs on a real one-node Slurm cluster (test/harness/slurm.ts), submitted through the local
 * OpenSSH server as from a login node, running the stand-in `hailo` inside the jobs.
 * Slurm enforces time limits in whole minutes on a 30 s cycle, so the time-limit job is submitted
 * first and checked last; the other cases run meanwhile (about 90 s in all).
 */
describe('slurm: jobs on a real one-node cluster through sshd', function () {
  this.timeout(240000);
  let slurm: TestSlurm | undefined;
  let sshd: TestSshd | undefined;
  let host: SshHost;
  let client: SlurmClient;
  let work: string;
  let timeoutJob: { jobId: string; submitted: number; dir: string };

  /** A "venv" whose activate script puts the stand-ins on PATH and steers them with its own control file. */
  const venv = (name: string, control: Record<string, unknown>): string => {
    const dir = path.join(sshd!.dir, 'venvs', name);
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    const controlFile = path.join(dir, 'control.json');
    fs.writeFileSync(controlFile, JSON.stringify({ delay: 0.001, ...control }));
    fs.writeFileSync(
      path.join(dir, 'bin', 'activate'),
      `PATH=${STANDIN_DIR}:$PATH\nexport PATH\nHAILO_STANDIN_CONTROL=${controlFile}\nexport HAILO_STANDIN_CONTROL\n`,
    );
    return dir;
  };
  const target = (over: Partial<SlurmOptions> & { venv: string }): SlurmOptions => {
    const { venv: v, ...rest } = over;
    return { partition: 'debug', cpus: 1, memory: '200M', timeLimit: '5', dfc: { kind: 'venv', path: v }, ...rest };
  };
  const onnx = (dir: string) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'model.onnx'), Buffer.from('onnx stand-in bytes for the hailo stand-in'));
    return path.join(dir, 'model.onnx');
  };
  const parseCmd = (dir: string, net = 'net') => [
    'hailo',
    'parser',
    'onnx',
    path.join(dir, 'model.onnx'),
    '--net-name',
    net,
    '--hw-arch',
    'hailo8l',
    '--har-path',
    path.join(dir, `${net}.har`),
    '-y',
  ];
  const spec = (name: string, dir: string, commands: string[][]): SlurmJobSpec => ({
    name,
    scriptPath: path.join(dir, 'job.sbatch.sh'),
    output: path.join(dir, 'job.log'),
    chdir: dir,
    tasks: [{ dir, commands }],
  });
  const waitFor = (jobId: string, done: (s: SlurmJobState[]) => boolean, timeoutMs = 30000, onState?: (s: SlurmJobState[]) => void) =>
    client.wait(jobId, { intervalMs: 250, timeoutMs, done, onState });
  const finished = (s: SlurmJobState[]) => s.length > 0 && s.every((j) => j.phase === 'finished');

  before(async function () {
    const why = sshdUnavailableReason() ?? slurmUnavailableReason();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    slurm = await startSlurm();
    sshd = await startSshd({ extraServerConfig: SLURM_SSHD_CONFIG });
    host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: slurm.sshClientConfig(sshd.clientConfig), controlDir: sshd.controlDir });
    client = new SlurmClient(host);
    work = path.join(sshd.dir, 'work');
    fs.mkdirSync(work, { recursive: true });
    const dir = path.join(work, 'timeout');
    onnx(dir);
    const v = venv('timeout', { holdSeconds: 600 });
    const sub = await client.submit(target({ venv: v, timeLimit: '1' }), spec('hwb-timeout', dir, [parseCmd(dir)]));
    timeoutJob = { jobId: sub.jobId, submitted: Date.now(), dir };
  });

  after(async () => {
    await host?.close().catch(() => undefined);
    await sshd?.stop();
    await slurm?.stop();
  });

  it('reaches the cluster over ssh: version, squeue --json answers', async () => {
    const v = await client.version();
    assert.match(v, /^\d+\.\d+\.\d+/);
    assert.equal(v, slurm!.version);
    const r = await host.exec(['squeue', '--json']);
    assert.ok(Array.isArray(JSON.parse(r.stdout.toString('utf8')).jobs));
  });

  it('refuses a job Slurm will not take with the reason in words and what to change', async () => {
    const dir = path.join(work, 'refused');
    const v = venv('refused', {});
    await assert.rejects(client.submit(target({ venv: v, partition: 'nope' }), spec('hwb-refused', dir, [['true']])), (e: Error) => {
      assert.match(e.message, /^Slurm has no partition "nope" \(Invalid partition name specified\)\. Set "slurm\.partition" in hailo\.json/);
      return true;
    });
    await assert.rejects(
      client.submit(target({ venv: v, memory: '100G' }), spec('hwb-refused', dir, [['true']])),
      /^HailoError: No node in partition "debug" has what the job asks for: 1 CPUs, 100G memory/,
    );
  });

  it('runs a parse step as a batch job with the stand-in hailo, its log followed by byte offset', async () => {
    const dir = path.join(work, 'parse');
    onnx(dir);
    const v = venv('parse', { delay: 0.003 });
    const sub = await client.submit(target({ venv: v }), spec('hwb-parse', dir, [parseCmd(dir)]));
    assert.match(sub.jobId, /^\d+$/);
    assert.ok(sub.argv.includes('--parsable'));
    let offset = 0;
    const chunks: Buffer[] = [];
    const seen = new Set<string>();
    const states = await waitFor(sub.jobId, finished, 60000, (s) => {
      if (s[0]) seen.add(s[0].phase);
    });
    // follow to the end
    for (;;) {
      const r = await client.readLog(path.join(dir, 'job.log'), offset);
      if (!r.data.length) break;
      chunks.push(r.data);
      offset = r.offset;
    }
    const whole = fs.readFileSync(path.join(dir, 'job.log'));
    assert.ok(Buffer.concat(chunks).equals(whole), 'followed bytes equal the file');
    const text = whole.toString('utf8');
    assert.ok(text.startsWith(`${JOB_START_MARKER} ${sub.jobId} on `), text.slice(0, 80));
    assert.match(text, /\[info\] Running `hailo parser onnx/);
    assert.equal(states[0]!.state, 'COMPLETED');
    assert.equal(states[0]!.exitCode, 0);
    assert.equal(states[0]!.nodes, slurm!.node);
    assert.ok(fs.existsSync(path.join(dir, 'net.har')), 'the HAR was written in the run folder');
    assert.equal(fs.readFileSync(path.join(dir, EXIT_FILE), 'utf8').trim(), '0');
    assert.equal(explainVerdict(states[0]!).kind, 'succeeded');
    const summary = parseDfcLog(text);
    assert.ok(
      summary.steps.some((s) => s.step === 'parse' && s.status === 'succeeded'),
      JSON.stringify(summary.steps),
    );
  });

  it('shows a job pending on resources, cancels it while pending and the blocker while running', async () => {
    const hold = venv('hold', { holdSeconds: 600 });
    const bdir = path.join(work, 'blocker');
    onnx(bdir);
    // the node has 2000 MB: 1500 M running leaves too little for 1000 M
    const blocker = await client.submit(target({ venv: hold, memory: '1500M' }), spec('hwb-blocker', bdir, [parseCmd(bdir)]));
    const running = await waitFor(
      blocker.jobId,
      (s) =>
        s[0]?.phase === 'running' && fs.existsSync(path.join(bdir, 'job.log')) && fs.readFileSync(path.join(bdir, 'job.log'), 'utf8').includes('still working'),
    );
    assert.equal(running[0]!.nodes, slurm!.node);
    assert.match(describeState(running[0]!), new RegExp(`^running on ${slurm!.node}, \\d+:\\d\\d$`));
    const pdir = path.join(work, 'pending');
    onnx(pdir);
    const pending = await client.submit(target({ venv: hold, memory: '1000M' }), spec('hwb-pending', pdir, [parseCmd(pdir)]));
    const queued = await waitFor(pending.jobId, (s) => s[0]?.phase === 'queued' && s[0]?.reason === 'Resources');
    assert.equal(queued[0]!.state, 'PENDING');
    assert.equal(describeState(queued[0]!), 'queued: waiting for CPUs, memory or GPUs to become free');
    assert.equal(queued[0]!.startTime, undefined, 'a pending job has no start time');

    await client.cancel(pending.jobId);
    const cp = await waitFor(pending.jobId, finished);
    assert.equal(cp[0]!.state, 'CANCELLED');
    const vp = explainVerdict(cp[0]!);
    assert.equal(vp.kind, 'cancelled');
    assert.match(vp.detail, /before it started/);
    assert.ok(!fs.existsSync(path.join(pdir, 'job.log')), 'a job cancelled while pending wrote no log');

    await client.cancel(blocker.jobId);
    const cb = await waitFor(blocker.jobId, finished);
    assert.equal(cb[0]!.state, 'CANCELLED');
    assert.equal(cb[0]!.signal, 15);
    const log = fs.readFileSync(path.join(bdir, 'job.log'), 'utf8');
    assert.match(log, new RegExp(`\\*\\*\\* JOB ${blocker.jobId} ON \\S+ CANCELLED AT`));
    const vb = explainVerdict(cb[0]!, { logTail: log });
    assert.equal(vb.kind, 'cancelled');
    assert.doesNotMatch(vb.detail, /before it started/);
    assert.ok(!fs.existsSync(path.join(bdir, EXIT_FILE)), 'the script was killed, not ended');
    // cancelling again is not an error
    await client.cancel(blocker.jobId);
  });

  it('reattaches by job id after a dropped SSH connection and a reload: the log continues from its offset, nothing lost', async () => {
    const dir = path.join(work, 'reattach');
    onnx(dir);
    const v = venv('reattach', { delay: 0.004, holdSeconds: 3 });
    const s = spec('hwb-reattach', dir, [parseCmd(dir)]);
    const sub = await client.submit(target({ venv: v }), s);
    const rec = jobRecord(sub, s);
    const chunks: Buffer[] = [];
    let offset = 0;
    let before;
    // until the log has started and a state read after it says running (a state read just before
    // the job started can come with the job's first log bytes)
    for (let i = 0; i < 200 && (offset === 0 || before?.states[0]?.phase !== 'running'); i++) {
      before = await pollJob(client, host, rec, offset);
      chunks.push(before.data);
      offset = before.offset;
      if (before.done) break;
      if (!offset || before.states[0]?.phase !== 'running') await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(offset > 0, 'some log arrived before the drop');
    assert.equal(before!.states[0]!.phase, 'running', 'the job runs while the connection drops');
    // the connection drops (the server restarts, the master connection dies), then a new window reattaches
    await sshd!.restart();
    const host2 = new SshHost(sshd!.alias, {
      sshPath: 'ssh',
      connectTimeout: 5,
      configFile: slurm!.sshClientConfig(sshd!.clientConfig),
      controlDir: sshd!.controlDir,
    });
    const client2 = new SlurmClient(host2);
    const saved = JSON.parse(JSON.stringify(rec)) as typeof rec; // as stored in the run record
    let last;
    try {
      for (let i = 0; i < 600; i++) {
        last = await pollJob(client2, host2, saved, offset);
        chunks.push(last.data);
        offset = last.offset;
        if (last.done) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(last?.done);
      assert.equal(last.states[0]!.state, 'COMPLETED');
      const final = await client2.readLog(s.output, offset);
      chunks.push(final.data);
      assert.ok(Buffer.concat(chunks).equals(fs.readFileSync(s.output)), 'the followed bytes equal the log');
      assert.match(Buffer.concat(chunks).toString('utf8'), /still working/);
      // Slurm forgetting the job: the exit file decides, and without it the job is reported lost
      assert.deepEqual([(await stateFromExitFile(host2, saved)).state, (await stateFromExitFile(host2, saved)).exitCode], ['COMPLETED', 0]);
      const gone = await stateFromExitFile(host2, { ...saved, taskDirs: [path.join(work, 'nowhere')] });
      assert.equal(gone.state, 'LOST');
      assert.match(explainVerdict(gone).detail, /no longer knows job/);
    } finally {
      await host2.close().catch(() => undefined);
    }
  });

  it('explains a job killed for memory, with what to change', async () => {
    const dir = path.join(work, 'oom');
    onnx(dir);
    const v = venv('oom', { allocMB: 400, holdSeconds: 30 });
    const req = target({ venv: v, memory: '60M' });
    const sub = await client.submit(req, spec('hwb-oom', dir, [parseCmd(dir)]));
    const s = await waitFor(sub.jobId, finished, 60000);
    const log = fs.readFileSync(path.join(dir, 'job.log'), 'utf8');
    if (slurm!.memoryEnforcement === 'cgroup') assert.equal(s[0]!.state, 'OUT_OF_MEMORY');
    else assert.equal(s[0]!.state, 'FAILED');
    const verdict = explainVerdict(s[0]!, { request: req, logTail: log, step: 'optimize' });
    assert.equal(verdict.kind, 'out-of-memory');
    assert.match(verdict.title, /more than the 60M/);
    assert.match(verdict.change!, /Raise "slurm\.memory" in hailo\.json \(now 60M\)/);
  });

  it('runs a sweep of 4 variants as a job array (2 at a time); the failing variant does not stop the others', async () => {
    const sweep = { name: 'widths', model: 'enc', matrix: { kwargs: { width: [64, 128] }, hwArch: ['hailo8l', 'hailo8'] as ('hailo8l' | 'hailo8')[] } };
    const model = { name: 'enc', onnx: 'enc.onnx', inputs: [{ name: 'mel', shape: [1, 80, 300] }] };
    const variants = expandSweep(sweep, model);
    assert.equal(variants.length, 4);
    const runDir = path.join(work, 'sweep');
    const failing = variants[2]!;
    for (const v of variants) if (v !== failing) onnx(path.join(runDir, v.id)); // the failing variant has no ONNX
    const v = venv('sweep', {});
    const spec = sweepArraySpec({
      sweepName: sweep.name,
      runDir,
      variants,
      limit: 2,
      commands: (x, dir) => [
        ['hailo', 'parser', 'onnx', path.join(dir, 'model.onnx'), '--net-name', 'enc', '--hw-arch', x.hwArch!, '--har-path', path.join(dir, 'enc.har'), '-y'],
        [
          'hailo',
          'optimize',
          path.join(dir, 'enc.har'),
          '--hw-arch',
          x.hwArch!,
          '--use-random-calib-set',
          '--output-har-path',
          path.join(dir, 'enc_optimized.har'),
        ],
        [
          'hailo',
          'compiler',
          path.join(dir, 'enc_optimized.har'),
          '--hw-arch',
          x.hwArch!,
          '--output-dir',
          dir,
          '--output-har-path',
          path.join(dir, 'enc_compiled.har'),
        ],
      ],
    });
    const sub = await client.submit(target({ venv: v }), spec);
    assert.ok(sub.argv.includes('--array=0-3%2'), sub.argv.join(' '));
    let maxRunning = 0;
    const states = await waitFor(
      sub.jobId,
      (s) => s.length === 4 && s.every((j) => j.phase === 'finished'),
      90000,
      (s) => {
        maxRunning = Math.max(maxRunning, s.filter((j) => j.phase === 'running').length);
      },
    );
    assert.ok(maxRunning <= 2, `at most 2 elements ran at once (saw ${maxRunning})`);
    const byTask = new Map(states.map((j) => [j.arrayTaskId!, j]));
    assert.deepEqual([...byTask.keys()].sort(), [0, 1, 2, 3]);
    for (const x of variants) {
      const j = byTask.get(x.index)!;
      assert.equal(j.jobId, `${sub.jobId}_${x.index}`);
      if (x === failing) {
        assert.equal(j.state, 'FAILED');
        assert.equal(j.exitCode, 1);
        assert.equal(explainVerdict(j).title, 'Failed with exit code 1');
      } else {
        assert.equal(j.state, 'COMPLETED', `${x.label}: ${j.state}`);
        assert.ok(fs.existsSync(path.join(runDir, x.id, 'enc.hef')), `${x.label}: HEF written`);
      }
    }
    const results = variants.map((x) => {
      const j = byTask.get(x.index)!;
      const log = fs.readFileSync(variantLogPath(runDir, x), 'utf8');
      assert.ok(log.startsWith(`${JOB_START_MARKER} `) && log.includes(`task ${x.index} on `), log.slice(0, 80));
      return resultFromDfcLog(x, parseDfcLog(log), { slurm: { jobId: j.jobId, state: j.state } });
    });
    const rows = sweepRows(results);
    assert.deepEqual(
      rows.map((r) => r.compile),
      variants.map((x) => (x === failing ? 'not-run' : 'succeeded')),
    );
    assert.equal(rows[2]!.parse, 'failed');
    assert.match(rows[2]!.firstError, /No such file or directory/);
    const csv = sweepCsv(rows);
    assert.equal(csv.trimEnd().split('\r\n').length, 5);
  });

  it('runs Check Target: Slurm, controller, partition, limits, DFC on the compute node, shared storage', async () => {
    const v = venv('check', {});
    const ok = await checkSlurmTarget(host, target({ venv: v }), { workDir: work, pollMs: 250, jobTimeoutMs: 60000 });
    assert.deepEqual(
      ok.map((i) => [i.id, i.level]),
      [
        ['slurm', 'ok'],
        ['controller', 'ok'],
        ['partition', 'ok'],
        ['limits', 'ok'],
        ['shared-storage', 'ok'],
        ['dfc', 'ok'],
      ],
      JSON.stringify(ok, null, 1),
    );
    assert.equal(ok.find((i) => i.id === 'dfc')!.title, `DFC 3.33.0 on ${slurm!.node}`);
    const noPart = await checkSlurmTarget(host, target({ venv: v, partition: 'nope' }), { workDir: work, noTestJob: true });
    assert.equal(noPart.at(-1)!.level, 'error');
    assert.match(noPart.at(-1)!.detail, /debug, tiny/);
    const tooBig = await checkSlurmTarget(host, target({ venv: v, partition: 'tiny', cpus: 2, memory: '4G', timeLimit: '10' }), {
      workDir: work,
      noTestJob: true,
    });
    const lim = tooBig.find((i) => i.id === 'limits')!;
    assert.equal(lim.level, 'error');
    assert.match(lim.detail, /MaxTime of 1 min/);
    assert.match(lim.detail, /MaxCPUsPerNode of 1/);
    assert.match(lim.detail, /MaxMemPerNode of 500 MB/);
    const noDfc = await checkSlurmTarget(host, target({ venv: path.join(work, 'no-such-venv') }), { workDir: work, pollMs: 250, jobTimeoutMs: 60000 });
    const dfc = noDfc.find((i) => i.id === 'dfc')!;
    assert.equal(dfc.level, 'error');
    assert.match(dfc.title, /exit code 127|not found/);
  });

  it('explains a job stopped at its time limit, with what to change', async () => {
    const req = target({ venv: 'unused', timeLimit: '1' });
    const s = await waitFor(timeoutJob.jobId, finished, 150000);
    // Slurm records TIMEOUT, or FAILED when the script exits on the signal before the controller
    // marks the limit; slurmstepd's line in the job's output says which it was
    assert.ok(['TIMEOUT', 'FAILED'].includes(s[0]!.state), s[0]!.state);
    assert.ok(s[0]!.elapsedSeconds! >= 60, `ran ${s[0]!.elapsedSeconds} s`);
    const log = fs.readFileSync(path.join(timeoutJob.dir, 'job.log'), 'utf8');
    assert.match(log, /CANCELLED AT .* DUE TO TIME LIMIT/);
    const v = explainVerdict(s[0]!, { request: req, logTail: log });
    assert.equal(v.kind, 'timeout');
    assert.match(v.title, /Time limit reached \(1 min\)/);
    assert.match(v.change!, /Raise "slurm\.timeLimit"/);
  });
});
