import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SshHost } from '../../src/core/remote/ssh';
import { startRun, resumeRun, cancelDetachedRun } from '../../src/core/remote/pipeline';
import { readRun, listRuns, runComparison } from '../../src/core/remote/run';
import { isHailoError } from '../../src/core/errors';
import type { DfcLogSummary } from '../../src/core/hailo/dfcLog';
import { runFacts, stepFactsText } from '../../src/core/remote/runCompare';
import type { Model, Target } from '../../src/core/project/schema';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';
import { REFERENCE_DIR } from '../reference';

describe('remote: pipeline through a real sshd with stand-in DFC tools', function () {
  this.timeout(120000);
  let sshd: TestSshd;
  let host: SshHost;
  let root: string;
  let n = 0;

  const control = (c: Record<string, unknown>) =>
    fs.writeFileSync(sshd.controlFile, JSON.stringify({ delay: 0.001, ...(fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), ...c }));

  const model = (over: Partial<Model> = {}): Model => ({
    name: 'enc',
    inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
    onnx: 'model.onnx',
    calibSet: 'calib.npy',
    modelScript: 'enc.alls',
    hwArch: 'hailo8l',
    endNodes: ['/ln_post/LayerNormalization'],
    ...over,
  });
  const target = (over: Partial<Target> = {}): Target => ({
    name: 'box',
    host: sshd.alias,
    workDir: path.join(sshd.dir, 'work'),
    dfc: { kind: 'venv', path: sshd.venv },
    ...over,
  });
  const runsDir = () => path.join(root, '.hailo', 'runs');
  const ctx = (over: Record<string, unknown> = {}) => ({ host, runsDir: runsDir(), pollIntervalMs: 100, ...over });

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    if (!fs.existsSync(REFERENCE_DIR)) console.log(`    note: ${REFERENCE_DIR} absent; the stand-in replays its own fixture logs`);
    sshd = await startSshd();
    host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
  });
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `hwp-${n++}-`));
    fs.writeFileSync(
      path.join(root, 'model.onnx'),
      Buffer.concat([Buffer.from('\x08\x07\x12\x04onnx'), Buffer.from(`${process.pid}-${Date.now()}-${n}`), Buffer.alloc(200_000, 7)]),
    );
    fs.writeFileSync(path.join(root, 'calib.npy'), Buffer.alloc(50_000, 3));
    fs.writeFileSync(path.join(root, 'enc.alls'), 'model_optimization_flavor(optimization_level=0)\n');
  });
  const roots: string[] = [];
  afterEach(() => roots.push(root));
  after(async () => {
    await host?.close();
    await sshd?.stop();
    for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
  });

  it('runs parse → optimize → compile, brings back artifacts and records run.json', async () => {
    control({});
    const finished: string[] = [];
    const run = await startRun(
      ctx({ events: { onStepFinished: (_r: unknown, s: { step: string; status: string }) => finished.push(`${s.step}:${s.status}`) } }),
      {
        projectRoot: root,
        model: model(),
        target: target(),
        steps: ['parse', 'optimize', 'compile'],
      },
    );
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
    assert.deepEqual(finished, ['parse:succeeded', 'optimize:succeeded', 'compile:succeeded']);
    const dir = path.join(runsDir(), run.id);
    for (const f of ['enc.har', 'enc_optimized.har', 'enc.hef', 'enc_compiled.har', 'parse.log', 'optimize.log', 'compile.log'])
      assert.ok(fs.existsSync(path.join(dir, f)), f);
    // the model's own paths were updated
    assert.ok(fs.existsSync(path.join(root, 'model.har')));
    assert.ok(fs.existsSync(path.join(root, 'model.hef')));
    const rec = readRun(path.join(dir, 'run.json'));
    assert.equal(rec.toolVersions.dfc, '3.33.0');
    assert.deepEqual(rec.inputs.map((i) => i.role).sort(), ['calibSet', 'modelScript', 'onnx']);
    const parse = rec.steps[0]!;
    assert.deepEqual(parse.command.slice(0, 3), ['hailo', 'parser', 'onnx']);
    assert.ok(parse.command.includes('-y'));
    assert.ok(parse.command.includes('--end-node-names'));
    assert.equal(parse.exitCode, 0);
    assert.ok((parse.durationMs ?? -1) >= 0);
    assert.ok(rec.steps[1]!.command.includes('--calib-set-path'));
    assert.ok(rec.steps[1]!.command.includes('--model-script'));
    const summary = rec.steps[1]!.summary as DfcLogSummary;
    assert.equal(summary.optimize.snr.length, 1, JSON.stringify(summary.optimize));
    assert.equal((rec.steps[2]!.summary as DfcLogSummary).compile.contextMode, 'multi');
    // what the Runs view rows show on these steps: the optimizer's SNR, the compiler's contexts and utilisation
    const facts = runFacts(rec);
    assert.equal(stepFactsText(facts.steps[1]!), 'SNR ≥ 9.2 dB');
    assert.match(stepFactsText(facts.steps[2]!) ?? '', /^9 contexts · compute 36\.8 %/);
    // the local log is the remote log byte for byte
    const remoteLog = fs.readFileSync(path.join(rec.remoteDir, 'jobs', 'compile', 'log'));
    assert.deepEqual(fs.readFileSync(path.join(dir, 'compile.log')), remoteLog);
  });

  it('sends an unchanged input only once (content-addressed cache)', async () => {
    control({});
    const t = target();
    const first = await startRun(ctx(), { projectRoot: root, model: model(), target: t, steps: ['parse'] });
    assert.ok(first.bytesSent >= 200_000, `first run sent ${first.bytesSent}`);
    const second = await startRun(ctx(), { projectRoot: root, model: model(), target: t, steps: ['parse'] });
    assert.equal(second.status, 'succeeded');
    assert.equal(second.bytesSent, 0);
    assert.ok(second.inputs.every((i) => !i.sent));
    const diff = runComparison(first, second);
    assert.ok(!('input.inputs/model.onnx' in diff), 'same input hash');
    assert.equal(listRuns(runsDir()).length, 2);
  });

  it('cancel stops the remote process group and is reported as cancelled', async () => {
    control({ delay: 0.05, holdSeconds: 60, child: true });
    const ac = new AbortController();
    let pgid = 0;
    let lines = 0;
    const run = await startRun(
      ctx({
        signal: ac.signal,
        events: {
          onStepStarted: (_r: unknown, s: { pgid?: number }) => (pgid = s.pgid ?? 0),
          onLine: () => {
            if (++lines === 5) ac.abort();
          },
        },
      }),
      { projectRoot: root, model: model(), target: target(), steps: ['parse', 'optimize'] },
    ).catch((e: unknown) => e);
    assert.ok(pgid > 1);
    const rec = isHailoError(run) ? readRun(path.join(listRuns(runsDir())[0]!.dir, 'run.json')) : (run as Awaited<ReturnType<typeof startRun>>);
    assert.equal(rec.status, 'cancelled');
    assert.equal(rec.steps[0]!.status, 'cancelled');
    assert.equal(rec.steps[1]!.status, 'skipped');
    const ps = (await host.exec(['ps', '-A', '-o', 'pgid='])).stdout
      .toString()
      .split('\n')
      .map((s) => Number(s.trim()));
    assert.ok(!ps.includes(pgid), `processes of group ${pgid} still running`);
  });

  it('survives a killed SSH connection mid-step: reconnects, no log line lost or repeated', async () => {
    control({ delay: 0.02, holdSeconds: 2 });
    let killed = false;
    const lines: string[] = [];
    let lost = 0;
    const run = await startRun(
      ctx({
        events: {
          onConnection: (s: string) => s === 'lost' && lost++,
          onLine: (_s: string, l: string) => {
            lines.push(l);
            if (lines.length === 10 && !killed) {
              killed = true;
              // ssh -O check prints "Master running (pid=N)" on stderr: kill that master outright
              const check = execFileSync(
                'sh',
                [
                  '-c',
                  `ssh ${host
                    .baseArgs()
                    .map((a) => `'${a}'`)
                    .join(' ')} -O check ${sshd.alias} 2>&1 || true`,
                ],
                { encoding: 'utf8' },
              );
              const m = /pid=(\d+)/.exec(check);
              assert.ok(m, check);
              process.kill(Number(m[1]), 'SIGKILL');
            }
          },
        },
      }),
      { projectRoot: root, model: model(), target: target(), steps: ['parse'] },
    );
    assert.ok(killed);
    assert.equal(run.status, 'succeeded');
    const local = fs.readFileSync(path.join(runsDir(), run.id, 'parse.log'));
    const remote = fs.readFileSync(path.join(run.remoteDir, 'jobs', 'parse', 'log'));
    assert.deepEqual(local, remote);
    assert.equal(lines.join('\n') + '\n', remote.toString('utf8'));
  });

  it('reattaches after the client goes away mid-step (as after a window reload)', async () => {
    control({ delay: 0.02, holdSeconds: 2 });
    const detach = new AbortController();
    let seen = 0;
    const err = await startRun(ctx({ detach: detach.signal, events: { onLine: () => ++seen === 8 && detach.abort() } }), {
      projectRoot: root,
      model: model(),
      target: target(),
      steps: ['parse', 'optimize'],
    }).catch((e: unknown) => e);
    assert.ok(isHailoError(err, 'CANCELLED'), String(err));
    const id = listRuns(runsDir())[0]!.run!.id;
    const mid = readRun(path.join(runsDir(), id, 'run.json'));
    assert.equal(mid.steps[0]!.status, 'running');
    // a new client (new host object, new process state) picks the run up from run.json
    const host2 = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
    const done = await resumeRun({ host: host2, runsDir: runsDir(), pollIntervalMs: 100 }, id, { projectRoot: root, model: model() });
    assert.equal(done.status, 'succeeded');
    for (const step of ['parse', 'optimize']) {
      const local = fs.readFileSync(path.join(runsDir(), id, `${step}.log`));
      const remote = fs.readFileSync(path.join(done.remoteDir, 'jobs', step, 'log'));
      assert.deepEqual(local, remote, `${step}.log differs from the remote log`);
    }
  });

  it('cancels a run nobody follows (left running by a closed window)', async () => {
    control({ delay: 0.05, holdSeconds: 60, child: true });
    const detach = new AbortController();
    let pgid = 0;
    await startRun(
      ctx({ detach: detach.signal, events: { onStepStarted: (_r: unknown, s: { pgid?: number }) => (pgid = s.pgid ?? 0), onLine: () => detach.abort() } }),
      {
        projectRoot: root,
        model: model(),
        target: target(),
        steps: ['parse', 'optimize'],
      },
    ).catch(() => undefined);
    const id = listRuns(runsDir())[0]!.run!.id;
    const alive = (await host.exec(['ps', '-A', '-o', 'pgid='])).stdout
      .toString()
      .split('\n')
      .map((s) => Number(s.trim()));
    assert.ok(alive.includes(pgid), 'the step kept running after the client went away');
    const rec = await cancelDetachedRun(ctx(), id);
    assert.equal(rec.status, 'cancelled');
    assert.deepEqual(
      rec.steps.map((s) => s.status),
      ['cancelled', 'skipped'],
    );
    const ps = (await host.exec(['ps', '-A', '-o', 'pgid='])).stdout
      .toString()
      .split('\n')
      .map((s) => Number(s.trim()));
    assert.ok(!ps.includes(pgid), `processes of group ${pgid} still running`);
  });

  it('stops a step that goes over the memory limit, with advice', async () => {
    control({ delay: 0.01, allocMB: 160, holdSeconds: 20 });
    const run = await startRun(ctx(), { projectRoot: root, model: model(), target: target({ memoryLimitGB: 0.08 }), steps: ['optimize'] }).catch(
      (e: unknown) => e,
    );
    // optimize needs a HAR: make one first
    assert.ok(isHailoError(run, 'INVALID_ARGUMENT'));
    fs.writeFileSync(path.join(root, 'model.har'), 'har');
    const t0 = Date.now();
    const avail: (number | undefined)[] = [];
    const rec = await startRun(ctx({ events: { onMemory: (_s: string, _r: number, _p: number, a?: number) => avail.push(a) } }), {
      projectRoot: root,
      model: model(),
      target: target({ memoryLimitGB: 0.08 }),
      steps: ['optimize'],
    });
    assert.equal(rec.status, 'memory-limit');
    assert.ok(avail.length > 0 && avail.every((a) => a === undefined || a > 0), 'machine memory sampled');
    const s = rec.steps[0]!;
    assert.equal(s.status, 'memory-limit');
    assert.equal(s.error?.code, 'MEMORY_LIMIT');
    assert.match(s.error!.message, /calibration set/);
    assert.ok((s.peakRssKB ?? 0) > 0.08 * 1024 * 1024);
    assert.ok(Date.now() - t0 < 15000, 'stopped well before the stand-in would have ended');
  });

  it('replaces an older model HAR but keeps one changed after the run started', async () => {
    control({});
    const har = path.join(root, 'model.har');
    fs.writeFileSync(har, 'older');
    const hourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(har, hourAgo, hourAgo);
    const first = await startRun(ctx(), { projectRoot: root, model: model(), target: target(), steps: ['parse'] });
    assert.equal(first.status, 'succeeded');
    assert.notEqual(fs.readFileSync(har, 'utf8'), 'older');
    // edited while a run is going (here: a modification time after the run's start)
    fs.writeFileSync(har, 'edited');
    const later = new Date(Date.now() + 3600_000);
    fs.utimesSync(har, later, later);
    const second = await startRun(ctx(), { projectRoot: root, model: model(), target: target(), steps: ['parse'] });
    assert.equal(second.status, 'succeeded');
    assert.equal(fs.readFileSync(har, 'utf8'), 'edited');
    assert.ok(fs.existsSync(path.join(runsDir(), second.id, 'enc.har')), 'the result stays in the run folder');
    assert.ok(!fs.existsSync(`${har}.part`));
  });

  it('hostile file names and remote paths: nothing is executed', async () => {
    const argvFile = path.join(sshd.dir, `argv-${n}.jsonl`);
    control({ argvFile });
    const tag = `hwb-canary-${process.pid}-${Date.now()}`;
    const home = os.homedir();
    const hostile = `we'ird $(cd;touch ${tag}) \`cd;touch ${tag}\` ; touch ${tag}\nline`;
    fs.mkdirSync(path.join(root, hostile));
    fs.renameSync(path.join(root, 'model.onnx'), path.join(root, hostile, `${hostile}.onnx`));
    const m = model({
      onnx: `${hostile}/${hostile}.onnx`,
      calibSet: undefined,
      modelScript: undefined,
      endNodes: [`/a b/$(cd;touch ${tag})`, "x'y", 'a -rf', 'ünï\ncode'],
    });
    const t = target({ workDir: path.join(sshd.dir, `work ${hostile}`) });
    const run = await startRun(ctx(), { projectRoot: root, model: m, target: t, steps: ['parse', 'optimize'] });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
    assert.ok(run.steps[1]!.command.includes('--use-random-calib-set'));
    for (const d of [home, root, sshd.dir, run.remoteDir, path.join(run.remoteDir, 'jobs', 'parse')]) {
      assert.equal(fs.existsSync(path.join(d, tag)), false, `canary in ${d}`);
    }
    assert.ok(fs.existsSync(path.join(root, hostile, `${hostile}.har`)));
    // the remote tool received exactly the argv we built, byte for byte
    const got = fs
      .readFileSync(argvFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.deepEqual(
      got,
      run.steps.map((s) => s.command.slice(1)),
    );
  });

  it('docker targets: steps run through docker exec with the work dir mapped into the container; cancel reaches them', async () => {
    control({});
    const hostWork = path.join(sshd.dir, 'dwork');
    const mount = path.join(sshd.dir, 'mnt');
    fs.mkdirSync(hostWork, { recursive: true });
    if (!fs.existsSync(mount)) fs.symlinkSync(hostWork, mount);
    const t = target({ workDir: hostWork, dfc: { kind: 'docker', container: 'hailo-suite', workDir: mount } });
    const run = await startRun(ctx(), { projectRoot: root, model: model(), target: t, steps: ['parse'] });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
    const launch = run.steps[0]!.launch!;
    assert.deepEqual(launch.slice(0, 3), ['hailo', 'parser', 'onnx']);
    assert.ok(launch[3]!.startsWith(mount + '/'), `container path: ${launch[3]}`);
    assert.ok(run.steps[0]!.command[3]!.startsWith(hostWork + '/'));
    control({ delay: 0.05, holdSeconds: 60, child: true });
    const ac = new AbortController();
    let pgid = 0;
    const cancelled = await startRun(
      ctx({ signal: ac.signal, events: { onStepStarted: (_r: unknown, s: { pgid?: number }) => (pgid = s.pgid ?? 0), onLine: () => ac.abort() } }),
      {
        projectRoot: root,
        model: model(),
        target: t,
        steps: ['parse'],
      },
    );
    assert.equal(cancelled.status, 'cancelled');
    const ps = (await host.exec(['ps', '-A', '-o', 'pgid='])).stdout
      .toString()
      .split('\n')
      .map((s) => Number(s.trim()));
    assert.ok(pgid > 1 && !ps.includes(pgid), `processes of group ${pgid} still running`);
  });

  it('a failing step is reported with its exit code and the error from the log', async () => {
    control({ fail: 'parse' });
    const run = await startRun(ctx(), { projectRoot: root, model: model(), target: target(), steps: ['parse', 'optimize'] });
    assert.equal(run.status, 'failed');
    assert.equal(run.steps[0]!.exitCode, 1);
    assert.match(run.steps[0]!.error!.message, /UnsupportedOperationError|ParsingWithRecommendationException/);
    assert.equal(run.steps[1]!.status, 'skipped');
  });
});
