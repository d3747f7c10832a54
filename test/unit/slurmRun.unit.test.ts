import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Model, SlurmOptions, Target } from '../../src/core/project/schema';
import { cancelDetachedRun, resumeRun, startRun } from '../../src/core/remote/pipeline';
import { listRuns, readRun } from '../../src/core/remote/run';
import { SshHost } from '../../src/core/remote/ssh';
import { spawnSync } from 'node:child_process';
import { runExport } from '../../src/core/export/run';
import { describeStepJob } from '../../src/core/slurm/driver';
import { sweepCsv, sweepRows } from '../../src/core/slurm/sweep';
import { readSweep, runSweep, variantResults } from '../../src/core/slurm/sweepRun';
import { HostMessage } from '../../src/core/protocol/sweepResults';
import { SWEEP_COLUMNS } from '../../src/core/slurm/sweep';
import { checkTarget } from '../../src/core/remote/dfc';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';
import { SLURM_SSHD_CONFIG, slurmUnavailableReason, startSlurm, type TestSlurm } from '../harness/slurm';
import { sshdUnavailableReason, startSshd, STANDIN_DIR, type TestSshd } from '../harness/sshd';
import { REFERENCE_DIR } from '../reference';

/**
 * The compile pipeline on a `slurm` target through the run engine, on the real one-node test
 * cluster (test/harness/slurm.ts): each step a batch job, its log followed into the run folder,
 * the job recorded in run.json, reattached by job id and cancelled with scancel.
 */
describe('slurm: pipeline runs through the run engine on a real one-node cluster', function () {
  this.timeout(240000);
  let slurm: TestSlurm | undefined;
  let sshd: TestSshd | undefined;
  let host: SshHost;
  let root: string;
  let n = 0;

  const venv = (name: string, control: Record<string, unknown>): string => {
    const dir = path.join(sshd!.dir, 'venvs', name);
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    const controlFile = path.join(dir, 'control.json');
    fs.writeFileSync(controlFile, JSON.stringify({ delay: 0.001, ...(fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), ...control }));
    fs.writeFileSync(
      path.join(dir, 'bin', 'activate'),
      `PATH=${STANDIN_DIR}:$PATH\nexport PATH\nHAILO_STANDIN_CONTROL=${controlFile}\nexport HAILO_STANDIN_CONTROL\n`,
    );
    return dir;
  };
  const model = (): Model => ({
    name: 'enc',
    inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
    onnx: 'model.onnx',
    calibSet: 'calib.npy',
    modelScript: 'enc.alls',
    hwArch: 'hailo8l',
    endNodes: ['/ln_post/LayerNormalization'],
  });
  const target = (v: string, over: Partial<SlurmOptions> = {}): Target => ({
    name: 'cluster',
    host: sshd!.alias,
    workDir: path.join(sshd!.dir, 'work'),
    kind: 'slurm',
    slurm: { partition: 'debug', cpus: 1, memory: '200M', timeLimit: '5', dfc: { kind: 'venv', path: v }, ...over },
  });
  const runsDir = () => path.join(root, '.hailo', 'runs');

  before(async function () {
    const why = sshdUnavailableReason() ?? slurmUnavailableReason();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    slurm = await startSlurm();
    sshd = await startSshd({ extraServerConfig: SLURM_SSHD_CONFIG });
    host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: slurm.sshClientConfig(sshd.clientConfig), controlDir: sshd.controlDir });
  });
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `hwsr-${n++}-`));
    fs.writeFileSync(
      path.join(root, 'model.onnx'),
      Buffer.concat([Buffer.from('\x08\x07\x12\x04onnx'), Buffer.from(`${process.pid}-${Date.now()}-${n}`), Buffer.alloc(20_000, 7)]),
    );
    fs.writeFileSync(path.join(root, 'calib.npy'), Buffer.alloc(5_000, 3));
    fs.writeFileSync(path.join(root, 'enc.alls'), 'model_optimization_flavor(optimization_level=0)\n');
  });
  after(async () => {
    await host?.close().catch(() => undefined);
    await sshd?.stop();
    await slurm?.stop();
  });

  it('runs parse → optimize → compile as batch jobs: jobs recorded, logs followed, artifacts back, HEF in the model path', async () => {
    const v = venv('pipeline', {});
    const phases = new Set<string>();
    const lines: string[] = [];
    const run = await startRun(
      {
        host,
        runsDir: runsDir(),
        pollIntervalMs: 250,
        events: {
          onLine: (_s, l) => lines.push(l),
          onProgress: (m) => {
            const p = /Slurm job \d+ (\w+)/.exec(m);
            if (p) phases.add(p[1]!);
          },
        },
      },
      { projectRoot: root, model: model(), target: target(v), steps: ['parse', 'optimize', 'compile'] },
    );
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
    assert.equal(run.target.kind, 'slurm');
    const dir = path.join(runsDir(), run.id);
    const ids = new Set<string>();
    for (const s of run.steps) {
      assert.equal(s.status, 'succeeded');
      assert.ok(s.slurm, `${s.step} has its job recorded`);
      assert.match(s.slurm.jobId, /^\d+$/);
      ids.add(s.slurm.jobId);
      assert.equal(s.slurm.state, 'COMPLETED');
      assert.equal(s.slurm.nodes, slurm!.node);
      assert.equal(s.slurm.verdict?.kind, 'succeeded');
      assert.ok(s.launch?.includes('--parsable'), 'started with sbatch --parsable');
      assert.equal(s.pgid, undefined, 'no detached process group on a Slurm target');
      // the local log is the job's output byte for byte
      const local = fs.readFileSync(path.join(dir, `${s.step}.log`));
      const remote = fs.readFileSync(s.slurm.output);
      assert.ok(local.equals(remote), `${s.step}.log equals the job's output`);
      assert.equal(s.logOffset, remote.length);
      assert.match(local.toString('utf8'), new RegExp(`^hwb-job: ${s.slurm.jobId} on `));
    }
    assert.equal(ids.size, 3, 'one job per step');
    assert.ok(phases.has('running') || phases.has('queued'), [...phases].join(','));
    assert.ok(
      lines.some((l) => /hailo compiler/.test(l)),
      'log lines reached the events',
    );
    const hef = run.steps[2]!.artifacts.find((a) => a.kind === 'hef');
    assert.ok(hef?.local && fs.existsSync(path.join(dir, hef.local)), 'the HEF came back');
    assert.ok(fs.existsSync(path.join(root, 'enc.hef')) || fs.readdirSync(root).some((f) => f.endsWith('.hef')), 'the HEF was copied to the model path');
    assert.match(describeStepJob(run.steps[0]!)!, /^job \d+ completed/);
  });

  it('cancels a running job with scancel and records the run as cancelled', async () => {
    const v = venv('cancel', { holdSeconds: 600 });
    const ac = new AbortController();
    const run = await startRun(
      { host, runsDir: runsDir(), pollIntervalMs: 250, signal: ac.signal, events: { onLine: (_s, l) => /still working/.test(l) && ac.abort() } },
      { projectRoot: root, model: model(), target: target(v), steps: ['parse'] },
    ).catch((e: unknown) => e);
    const rec = readRun(path.join(listRuns(runsDir())[0]!.dir, 'run.json'));
    assert.equal(rec.status, 'cancelled', String(run));
    const s = rec.steps[0]!;
    assert.equal(s.status, 'cancelled');
    assert.equal(s.slurm?.state, 'CANCELLED');
    const q = await host.exec(['squeue', '-h', '-j', s.slurm!.jobId, '-o', '%T'], { check: false });
    assert.equal(q.stdout.toString('utf8').trim(), '', 'the job is gone from the queue');
  });

  it("a step Slurm kills for memory ends as memory-limit with Slurm's verdict and what to change", async () => {
    const v = venv('oom', { allocMB: 400, holdSeconds: 30 });
    const run = await startRun(
      { host, runsDir: runsDir(), pollIntervalMs: 250 },
      { projectRoot: root, model: model(), target: target(v, { memory: '60M' }), steps: ['parse', 'optimize'] },
    );
    assert.equal(run.status, 'memory-limit');
    const s = run.steps[0]!;
    assert.equal(s.status, 'memory-limit');
    assert.equal(s.error?.code, 'MEMORY_LIMIT');
    assert.match(s.error!.message, /^Out of memory: the job used more than the 60M it asked for\. Slurm ended job \d+/);
    assert.match(s.error!.message, /Raise "slurm\.memory" in hailo\.json \(now 60M\)/);
    assert.equal(s.slurm?.verdict?.kind, 'out-of-memory');
    assert.equal(run.steps[1]!.status, 'skipped', 'the next step does not run');
  });

  it('keeps following through a dropped SSH connection: the job runs on, the log has every byte once', async () => {
    const v = venv('drop', { delay: 0.004, holdSeconds: 4 });
    let restarted: Promise<void> | undefined;
    const states: string[] = [];
    const run = await startRun(
      {
        host,
        runsDir: runsDir(),
        pollIntervalMs: 250,
        reconnectTimeoutMs: 60000,
        events: { onLine: () => void (restarted ??= sshd!.restart()), onConnection: (st) => states.push(st) },
      },
      { projectRoot: root, model: model(), target: target(v), steps: ['parse'] },
    );
    await restarted;
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps[0]!.error));
    const s = run.steps[0]!;
    assert.ok(fs.readFileSync(path.join(runsDir(), run.id, 'parse.log')).equals(fs.readFileSync(s.slurm!.output)), 'the log has every byte once');
    if (states.length) assert.deepEqual([...new Set(states)], ['lost', 'restored']);
  });

  it('reattaches by job id after a reload: the log continues from its byte offset, nothing lost; a detached run cancels with scancel', async () => {
    const v = venv('reattach', { delay: 0.004, holdSeconds: 2 });
    const detach = new AbortController();
    let seen = 0;
    const err = await startRun(
      { host, runsDir: runsDir(), pollIntervalMs: 250, detach: detach.signal, events: { onLine: () => ++seen === 3 && detach.abort() } },
      { projectRoot: root, model: model(), target: target(v), steps: ['parse'] },
    ).catch((e: unknown) => e);
    assert.match(String(err), /Cancelled|Stopped following/);
    const id = listRuns(runsDir())[0]!.run!.id;
    const mid = readRun(path.join(runsDir(), id, 'run.json'));
    assert.equal(mid.steps[0]!.status, 'running');
    assert.ok(mid.steps[0]!.slurm?.jobId);
    assert.ok(mid.steps[0]!.logOffset > 0);
    // a new window: a new connection, only run.json to go on
    const host2 = new SshHost(sshd!.alias, {
      sshPath: 'ssh',
      connectTimeout: 5,
      configFile: slurm!.sshClientConfig(sshd!.clientConfig),
      controlDir: sshd!.controlDir,
    });
    try {
      const done = await resumeRun({ host: host2, runsDir: runsDir(), pollIntervalMs: 250 }, id, { projectRoot: root, model: model() });
      assert.equal(done.status, 'succeeded');
      assert.equal(done.steps[0]!.slurm!.jobId, mid.steps[0]!.slurm!.jobId, 'the same job, not a new one');
      const local = fs.readFileSync(path.join(runsDir(), id, 'parse.log'));
      assert.ok(local.equals(fs.readFileSync(done.steps[0]!.slurm!.output)), 'the log has every byte once');
    } finally {
      await host2.close().catch(() => undefined);
    }

    // a run left detached in the queue is cancelled without following it
    const hold = venv('hold', { holdSeconds: 600 });
    const d2 = new AbortController();
    await startRun(
      { host, runsDir: runsDir(), pollIntervalMs: 250, detach: d2.signal, events: { onStepStarted: () => d2.abort() } },
      { projectRoot: root, model: model(), target: target(hold), steps: ['parse'] },
    ).catch(() => undefined);
    const id2 = listRuns(runsDir())[0]!.run!.id;
    const jobId = readRun(path.join(runsDir(), id2, 'run.json')).steps[0]!.slurm!.jobId;
    const c = await cancelDetachedRun({ host, runsDir: runsDir() }, id2);
    assert.equal(c.status, 'cancelled');
    for (let i = 0; i < 40; i++) {
      const q = await host.exec(['squeue', '-h', '-j', jobId, '-o', '%T'], { check: false });
      if (!/PENDING|RUNNING/.test(q.stdout.toString('utf8'))) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`job ${jobId} still in the queue after scancel`);
  });

  it('sweeps 4 variants as one job array: each exported and linted here, the one that fails to export does not stop the others', async function () {
    const py = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
    const probe = spawnSync(py, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(`      skipped: ${py} has no torch/onnx (${(probe.stderr ?? '').trim().split('\n').pop()})`);
      this.skip();
    }
    const repo = path.resolve(__dirname, '..', '..');
    const v = venv('sweep', {});
    const m: Model = {
      name: 'stack',
      entry: 'tinywhisper.sweep:build',
      inputs: [{ name: 'mel', shape: [1, 80, 100] }],
      onnx: 'stack.onnx',
      calibSet: 'calib.npy',
      hwArch: 'hailo8l',
    };
    const sweep = { name: 'widths', model: 'stack', matrix: { kwargs: { width: [8, 12, 16, 32] } }, concurrency: 2, latencyBudgetMs: 50 };
    const sweepsDir = path.join(root, '.hailo', 'sweeps');
    const updates: string[] = [];
    const rec = await runSweep(
      { host, sweepsDir, runsDir: runsDir(), pollIntervalMs: 250, onUpdate: (r) => updates.push(r.results.map((x) => x.slurm?.state ?? '-').join(',')) },
      {
        projectRoot: root,
        projectFile: path.join(root, 'hailo.json'),
        sweep,
        model: m,
        target: target(v),
        exportVariant: async (spec) => {
          await runExport({
            interpreter: { path: py, source: 'cli-option' },
            driverPath: path.join(repo, 'src', 'python', 'hailo_export.py'),
            spec: { ...spec, root: path.join(repo, 'test', 'fixtures', 'py') },
            chooseHint: '',
          });
        },
      },
    );
    assert.equal(rec.results.length, 4);
    assert.match(rec.jobId ?? '', /^\d+$/, 'one job array');
    const [w8, w12, w16, w32] = rec.results;
    assert.equal(w12!.exported, 'failed');
    assert.match(w12!.firstError ?? '', /^export: .*width 12 is not a multiple of 8/);
    assert.deepEqual(w12!.steps, { parse: 'not-run', optimize: 'not-run', compile: 'not-run' });
    assert.equal(w12!.slurm, undefined, 'a variant that did not export is not in the array');
    for (const r of [w8!, w16!, w32!]) {
      assert.equal(r.exported, 'succeeded');
      assert.equal(typeof r.lintErrors, 'number');
      assert.deepEqual(r.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, `${r.variant.label}: ${r.firstError}`);
      assert.equal(r.slurm?.jobId, `${rec.jobId}_${r.variant.index}`);
      assert.equal(r.slurm?.state, 'COMPLETED');
      assert.ok(fs.existsSync(path.join(sweepsDir, rec.id, r.variant.id, 'dfc.log')), 'the element log came back');
    }
    assert.equal(rec.status, 'succeeded');
    assert.ok(
      updates.some((u) => /RUNNING|PENDING/.test(u)),
      'the record was updated while the array ran',
    );
    // the record on disk is what the panel shows: rows, CSV
    const again = readSweep(path.join(sweepsDir, rec.id, 'sweep.json'));
    const rows = sweepRows(variantResults(again), again.latencyBudgetMs);
    assert.equal(rows.length, 4);
    assert.equal(rows.find((r) => r.id === w12!.variant.id)!.firstError.startsWith('export:'), true);
    const csv = sweepCsv(rows).split('\r\n');
    assert.equal(csv.length, 6, 'header, 4 rows, final newline');
    assert.match(csv[0]!, /^Variant,Values,Lint errors/);
    // the panel's message is what the webview accepts
    const msg = HostMessage.safeParse({
      type: 'sweep',
      id: again.id,
      name: again.name,
      model: again.model,
      target: again.target.name,
      status: again.status,
      jobId: again.jobId,
      budgetMs: 50,
      columns: SWEEP_COLUMNS,
      rows,
    });
    assert.ok(msg.success, msg.success ? '' : JSON.stringify(msg.error.issues[0]));
  });

  it('cancels a sweep: scancel of the job array, the record says cancelled', async function () {
    const py = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
    if (spawnSync(py, ['-c', 'import torch, onnx']).status !== 0) {
      console.log(`      skipped: ${py} has no torch/onnx`);
      this.skip();
    }
    const repo = path.resolve(__dirname, '..', '..');
    const v = venv('sweep-cancel', { holdSeconds: 600 });
    const m: Model = {
      name: 'stack',
      entry: 'tinywhisper.sweep:build',
      inputs: [{ name: 'mel', shape: [1, 80, 100] }],
      onnx: 'stack.onnx',
      calibSet: 'calib.npy',
      hwArch: 'hailo8l',
    };
    const ac = new AbortController();
    const sweepsDir = path.join(root, '.hailo', 'sweeps');
    const err = await runSweep(
      {
        host,
        sweepsDir,
        runsDir: runsDir(),
        pollIntervalMs: 250,
        signal: ac.signal,
        onUpdate: (r) => r.results.some((x) => x.slurm?.state === 'RUNNING') && ac.abort(),
      },
      {
        projectRoot: root,
        projectFile: path.join(root, 'hailo.json'),
        sweep: { name: 'cancel', model: 'stack', matrix: { kwargs: { width: [8, 16] } }, concurrency: 1 },
        model: m,
        target: target(v),
        exportVariant: async (spec) => {
          await runExport({
            interpreter: { path: py, source: 'cli-option' },
            driverPath: path.join(repo, 'src', 'python', 'hailo_export.py'),
            spec: { ...spec, root: path.join(repo, 'test', 'fixtures', 'py') },
            chooseHint: '',
          });
        },
      },
    ).catch((e: unknown) => e);
    assert.match(String(err), /cancelled/i);
    const id = fs.readdirSync(sweepsDir)[0]!;
    const rec = readSweep(path.join(sweepsDir, id, 'sweep.json'));
    assert.equal(rec.status, 'cancelled');
    assert.ok(
      rec.results.every((r) => r.steps.compile !== 'succeeded' && r.steps.compile !== 'running'),
      JSON.stringify(rec.results.map((r) => r.steps)),
    );
    assert.ok(
      rec.results.some((r) => /Cancelled/.test(r.firstError ?? '')),
      JSON.stringify(rec.results.map((r) => r.firstError)),
    );
    const q = await host.exec(['squeue', '-h', '-j', rec.jobId!, '-o', '%T'], { check: false });
    assert.doesNotMatch(q.stdout.toString('utf8'), /PENDING|RUNNING/, 'nothing of the array is left in the queue');
  });

  it('sweeps on a plain SSH target one variant after the other, each a recorded run; a failed export skips only its variant', async function () {
    const py = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
    if (spawnSync(py, ['-c', 'import torch, onnx']).status !== 0) {
      console.log(`      skipped: ${py} has no torch/onnx`);
      this.skip();
    }
    const repo = path.resolve(__dirname, '..', '..');
    const v = venv('ssh-sweep', {});
    const m: Model = {
      name: 'stack',
      entry: 'tinywhisper.sweep:build',
      inputs: [{ name: 'mel', shape: [1, 80, 100] }],
      onnx: 'stack.onnx',
      calibSet: 'calib.npy',
      hwArch: 'hailo8l',
    };
    const box: Target = { name: 'box', host: sshd!.alias, workDir: path.join(sshd!.dir, 'work'), dfc: { kind: 'venv', path: v } };
    const rec = await runSweep(
      { host, sweepsDir: path.join(root, '.hailo', 'sweeps'), runsDir: runsDir(), pollIntervalMs: 100 },
      {
        projectRoot: root,
        projectFile: path.join(root, 'hailo.json'),
        sweep: { name: 'ssh', model: 'stack', matrix: { kwargs: { width: [12, 8, 16] } } },
        model: m,
        target: box,
        exportVariant: async (spec) => {
          await runExport({
            interpreter: { path: py, source: 'cli-option' },
            driverPath: path.join(repo, 'src', 'python', 'hailo_export.py'),
            spec: { ...spec, root: path.join(repo, 'test', 'fixtures', 'py') },
            chooseHint: '',
          });
        },
      },
    );
    assert.equal(rec.target.kind, 'ssh');
    assert.equal(rec.jobId, undefined);
    const [w12, w8, w16] = rec.results;
    assert.equal(w12!.exported, 'failed');
    for (const r of [w8!, w16!]) {
      assert.deepEqual(r.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, r.firstError);
      assert.ok(r.runId, 'each variant is a recorded run');
      const run = readRun(path.join(runsDir(), r.runId, 'run.json'));
      assert.equal(run.status, 'succeeded');
      assert.ok(run.steps[0]!.pgid, 'a detached process on the host, not a batch job');
    }
    // one after the other: the second run started after the first ended
    const a = readRun(path.join(runsDir(), w8!.runId!, 'run.json'));
    const b = readRun(path.join(runsDir(), w16!.runId!, 'run.json'));
    assert.ok(Date.parse(b.createdAt) >= Date.parse(a.endedAt!) - 1000);
    assert.ok(!fs.existsSync(path.join(root, 'stack.hef')), "a sweep does not replace the model's own HEF");
  });

  it('hailo-workbench sweep runs a sweep from hailo.json on the Slurm target and prints JSON; remote check runs the Slurm probes', async function () {
    const py = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
    if (spawnSync(py, ['-c', 'import torch, onnx']).status !== 0) {
      console.log(`      skipped: ${py} has no torch/onnx`);
      this.skip();
    }
    const repo = path.resolve(__dirname, '..', '..');
    // the fixture package beside hailo.json, as a user's project has its model code
    fs.cpSync(path.join(repo, 'test', 'fixtures', 'py', 'tinywhisper'), path.join(root, 'tinywhisper'), {
      recursive: true,
      filter: (f) => !f.includes('__pycache__'),
    });
    const v = venv('cli', {});
    const t = target(v);
    fs.writeFileSync(
      path.join(root, 'hailo.json'),
      JSON.stringify({
        version: 1,
        models: [
          {
            name: 'stack',
            entry: 'tinywhisper.sweep:build',
            inputs: [{ name: 'mel', shape: [1, 80, 100] }],
            onnx: 'stack.onnx',
            calibSet: 'calib.npy',
            hwArch: 'hailo8l',
            target: 'cluster',
          },
        ],
        targets: [{ name: t.name, host: t.host, workDir: t.workDir, kind: 'slurm', slurm: t.slurm }],
        sweeps: [{ name: 'depths', model: 'stack', matrix: { kwargs: { depth: [1, 2] } } }],
      }),
    );
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = {
      out: (x) => out.push(x),
      err: (x) => err.push(x),
      cwd: root,
      env: { ...process.env, HAILO_SSH_CONFIG: slurm!.sshClientConfig(sshd!.clientConfig), HAILO_PYTHON: py },
    };
    const code = await main(['sweep', '--config', 'hailo.json', '--name', 'depths', '--format', 'json'], io);
    assert.equal(code, 0, err.join('\n'));
    const rec = JSON.parse(out.join('\n')) as { jobId: string; results: { steps: Record<string, string> }[]; rows: { compile: string }[] };
    assert.match(rec.jobId, /^\d+$/);
    assert.equal(rec.rows.length, 2);
    assert.ok(
      rec.rows.every((r) => r.compile === 'succeeded'),
      JSON.stringify(rec.results),
    );

    const c = await checkTarget(host, t);
    assert.ok(c.slurm, 'the Slurm probes ran');
    assert.deepEqual(
      c.slurm.map((i) => `${i.id}:${i.level}`).filter((x) => !x.endsWith(':ok')),
      [],
      c.output,
    );
    assert.ok(
      c.slurm.some((i) => i.id === 'shared-storage'),
      c.output,
    );
    assert.match(c.dfc ?? '', /^\d+\.\d+/, c.output);
    assert.equal(c.problem, undefined);
  });
});
