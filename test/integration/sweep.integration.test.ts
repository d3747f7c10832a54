// Hailo: Run Sweep inside a real VS Code against a real sshd on 127.0.0.1 started by the test: four
// variants of a PyTorch factory exported with /usr/bin/python3 (one refuses its width), compiled one
// after the other by the stand-in `hailo` (which writes a real HAR, so each variant's rewrite ledger
// is computed), each compiled HEF deployed and benchmarked on the stand-in `hailortcli` device; the
// record under .hailo/sweeps/ and the table the panel shows, with rewrites and latency filled.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { runExport } from '../../src/core/export/run';
import { listRuns, readRun } from '../../src/core/remote/run';
import { SshHost } from '../../src/core/remote/ssh';
import { deviceResultOf, latencyOf } from '../../src/core/remote/results';
import { sweepRows } from '../../src/core/slurm/sweep';
import { listSweeps, runSweep, variantResults } from '../../src/core/slurm/sweepRun';
import { startSshd, sshdUnavailableReason, STANDIN_DIR, type TestSshd } from '../harness/sshd';
import { until, extensionServices } from './helpers';

const REFERENCE_DIR = process.env.HAILO_REFERENCE_DIR;
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
const REPO = path.resolve(__dirname, '..', '..');
const HAR = path.join(REPO, 'test', 'fixtures', 'hailo', 'toy-op17.har');

describe('sweep: Run Sweep with rewrites and device latency over SSH', function () {
  this.timeout(300_000);
  let sshd: TestSshd | undefined;
  let services: Services;
  let root: string;
  let projectFile: string;
  let original: string;

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipping sweep integration tests: ${why}`);
      this.skip();
    }
    if (spawnSync(PY, ['-c', 'import torch, onnx']).status !== 0) {
      console.log(`    skipping sweep integration tests: ${PY} has no torch/onnx (set HAILO_TEST_PYTHON)`);
      this.skip();
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    root = folder.uri.fsPath;
    projectFile = path.join(root, 'hailo.json');
    original = fs.readFileSync(projectFile, 'utf8');
    services = await extensionServices();
    await until(() => services.project.project, 'the project to load');
    sshd = await startSshd();
    // the device: a Pi 5 with a Hailo-8L as the device check reads it
    const dev = path.join(sshd.sysfs, 'bus', 'pci', 'devices', '0001:01:00.0');
    fs.mkdirSync(dev, { recursive: true });
    fs.writeFileSync(path.join(dev, 'vendor'), '0x1e60\n');
    fs.writeFileSync(path.join(dev, 'current_link_speed'), '8.0 GT/s PCIe\n');
    fs.writeFileSync(path.join(dev, 'current_link_width'), '1\n');
    fs.mkdirSync(path.join(sshd.sysfs, 'firmware', 'devicetree', 'base'), { recursive: true });
    fs.writeFileSync(path.join(sshd.sysfs, 'firmware', 'devicetree', 'base', 'model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
    fs.writeFileSync(
      sshd.controlFile,
      JSON.stringify({
        ...(REFERENCE_DIR && fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}),
        hailortcli: { delay: 0.001, device: 'hailo8l' },
      }),
    );
    // the compile box's DFC: the stand-in, writing a real HAR as the parser's output
    const venv = path.join(sshd.dir, 'venvs', 'sweep');
    fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(venv, 'control.json'), JSON.stringify({ delay: 0.001, har: HAR }));
    fs.writeFileSync(
      path.join(venv, 'bin', 'activate'),
      `PATH=${STANDIN_DIR}:$PATH\nexport PATH\nHAILO_STANDIN_CONTROL=${path.join(venv, 'control.json')}\nexport HAILO_STANDIN_CONTROL\n`,
    );
    // the swept factory, in the workspace
    fs.cpSync(path.join(REPO, 'test', 'fixtures', 'py', 'tinywhisper'), path.join(root, 'tinywhisper'), {
      recursive: true,
      filter: (f) => !f.includes('__pycache__'),
    });
    fs.writeFileSync(path.join(root, 'calib.npy'), Buffer.alloc(4096, 1));
    await vscode.workspace.getConfiguration('hailo').update('ssh.configFile', sshd.clientConfig, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('hailo').update('pythonPath', PY, vscode.ConfigurationTarget.Workspace);
    const json = JSON.parse(original.replace(/^\s*\/\/.*$/gm, '')) as Record<string, unknown[]>;
    json.models = [
      ...json.models!,
      { name: 'stack', entry: 'tinywhisper.sweep:build', inputs: [{ name: 'mel', shape: [1, 80, 100] }], onnx: 'build/stack.onnx', calibSet: 'calib.npy' },
    ];
    const slow = path.join(sshd.dir, 'venvs', 'slow');
    fs.mkdirSync(path.join(slow, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(slow, 'control.json'), JSON.stringify({ delay: 0.001, har: HAR, holdSeconds: 1 }));
    fs.writeFileSync(
      path.join(slow, 'bin', 'activate'),
      `PATH=${STANDIN_DIR}:$PATH\nexport PATH\nHAILO_STANDIN_CONTROL=${path.join(slow, 'control.json')}\nexport HAILO_STANDIN_CONTROL\n`,
    );
    json.targets = [
      { name: 'box', host: sshd.alias, workDir: path.join(sshd.dir, 'work'), dfc: { kind: 'venv', path: venv } },
      { name: 'slow-box', host: sshd.alias, workDir: path.join(sshd.dir, 'work'), dfc: { kind: 'venv', path: slow } },
    ];
    json.devices = [{ name: 'pi5', host: sshd.alias, workDir: path.join(sshd.dir, 'pi'), hwArch: 'hailo8l' }];
    json.sweeps = [
      {
        name: 'widths',
        model: 'stack',
        target: 'box',
        matrix: { kwargs: { width: [8, 12, 16, 24] } },
        device: 'pi5',
        benchmarkSeconds: 1,
        latencyBudgetMs: 1000,
      },
      // compiled on a box whose DFC holds each step a second, so a reload lands while a variant runs
      { name: 'reload', model: 'stack', target: 'slow-box', matrix: { kwargs: { width: [8, 12, 16] } } },
    ];
    fs.writeFileSync(projectFile, JSON.stringify(json, null, 2));
    await services.project.reload();
    await until(() => services.project.project?.sweeps?.length && services.project.project, 'the sweep in hailo.json');
  });

  after(async function () {
    if (projectFile && original !== undefined) fs.writeFileSync(projectFile, original);
    await vscode.workspace.getConfiguration('hailo').update('ssh.configFile', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('hailo').update('pythonPath', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await services?.project.reload();
    await sshd?.stop();
  });

  it('runs the sweep: the failing variant does not stop the others; rewrites by kind and latency fill the table', async () => {
    await vscode.commands.executeCommand('hailo.runSweep', 'widths');
    const rec = listSweeps(path.join(root, '.hailo', 'sweeps')).find((r) => r.name === 'widths');
    assert.ok(rec, 'the sweep record');
    assert.equal(rec.status, 'succeeded');
    assert.equal(rec.results.length, 4);
    const w12 = rec.results[1]!;
    assert.equal(w12.exported, 'failed');
    assert.match(w12.firstError ?? '', /width 12 is not a multiple of 8/);
    const runsDir = path.join(root, '.hailo', 'runs');
    for (const r of [rec.results[0]!, rec.results[2]!, rec.results[3]!]) {
      assert.deepEqual(r.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, r.firstError);
      assert.ok(r.rewrites && Object.values(r.rewrites).some((n) => n > 0), `rewrites of ${r.variant.label}: ${JSON.stringify(r.rewrites ?? r.notes)}`);
      const dev = readRun(path.join(runsDir, r.deviceRunId!, 'run.json'));
      assert.equal(dev.kind, 'device');
      assert.equal(r.latencyMs, latencyOf(deviceResultOf(dev)!)!.value);
    }
    const rows = sweepRows(variantResults(rec), rec.latencyBudgetMs);
    assert.equal(rows.filter((r) => r.best).length, 1);
    assert.ok(rows.filter((r) => r.compile === 'succeeded').every((r) => r.rewrites !== '' && typeof r.latencyMs === 'number' && r.notes.estimate));
    // the panel is open on the sweep
    await until(() => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label === 'Sweep: widths')), 'the sweep results panel');
  });

  it('picks up a sweep the previous window left running: its variant run reattached, the others run, the panel fills in', async () => {
    // the previous window: the same sweep started through the core, which stops following while the
    // first variant compiles (what closing the window does) and leaves the record "running"
    const project = services.project.project!;
    const sweep = project.sweeps!.find((x) => x.name === 'reload')!;
    const model = project.models.find((m) => m.name === 'stack')!;
    const target = project.targets!.find((t) => t.name === 'slow-box')!;
    const sweepsDir = path.join(root, '.hailo', 'sweeps');
    const runsDir = path.join(root, '.hailo', 'runs');
    const host = new SshHost(sshd!.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd!.clientConfig });
    const detach = new AbortController();
    let started = 0;
    try {
      await runSweep(
        { host, sweepsDir, runsDir, detach: detach.signal, pollIntervalMs: 200, runEvents: { onStepStarted: () => ++started === 2 && detach.abort() } },
        {
          projectRoot: root,
          projectFile,
          sweep,
          model,
          target,
          exportVariant: async (spec) => {
            await runExport({
              interpreter: { path: PY, source: 'cli-option' },
              driverPath: path.join(REPO, 'src', 'python', 'hailo_export.py'),
              spec,
              chooseHint: '',
            });
          },
        },
      ).then(
        () => assert.fail('the sweep should have stopped following'),
        (e: unknown) => assert.match(String(e), /Stopped following|detached|Cancelled/i),
      );
    } finally {
      await host.close().catch(() => undefined);
    }
    const left = listSweeps(sweepsDir).find((r) => r.name === 'reload')!;
    assert.equal(left.status, 'running');
    const firstRun = left.results[0]!.runId!;
    assert.ok(firstRun, 'the running variant has its run id in the record');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // this window picks it up as activation does
    await services.sweeps!.resumeAll();
    const done = await until(
      () => {
        const r = listSweeps(sweepsDir).find((x) => x.id === left.id);
        return r && r.status !== 'running' && r;
      },
      'the picked-up sweep to finish',
      240_000,
    );
    assert.equal(done.status, 'succeeded');
    assert.equal(done.results[0]!.runId, firstRun, 'the same run, reattached, not started again');
    assert.equal(readRun(path.join(runsDir, firstRun, 'run.json')).status, 'succeeded');
    assert.equal(done.results[1]!.exported, 'failed');
    for (const r of [done.results[0]!, done.results[2]!]) {
      assert.deepEqual(r.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, r.firstError);
      assert.ok(r.rewrites && Object.values(r.rewrites).some((n) => n > 0), 'rewrites after the pick-up');
    }
    const ours = listRuns(runsDir).filter((x) => x.run && x.run.kind !== 'device' && x.run.model === 'stack' && x.run.createdAt >= left.createdAt);
    assert.equal(ours.length, 2, 'one run per compiled variant of this sweep, none started twice');
    await until(() => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label === 'Sweep: reload')), 'the sweep panel of the picked-up sweep');
  });
});
