// Deploy and Benchmark inside a real VS Code, against a real sshd on 127.0.0.1 started by the test,
// with the stand-in hailortcli (test/fixtures/standins) as the device: the command from a model,
// the device run with its results stored in .hailo/runs/<id>/, the results panel's data with the
// budget, real-time factor and the regression of a slower second run, and Check Device.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { listRuns, readRun, RunRecord, writeRun } from '../../src/core/remote/run';
import { resultsView, RESULTS_FILE } from '../../src/core/remote/results';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';
import { until, extensionServices } from './helpers';

const REFERENCE_DIR = process.env.HAILO_REFERENCE_DIR;

describe('device: deploy and benchmark over SSH', function () {
  this.timeout(240_000);
  let sshd: TestSshd | undefined;
  let services: Services;
  let root: string;
  let projectFile: string;
  let original: string;
  let modelName: string;
  let runsDir: string;
  let hefFile: string;

  const control = (c: Record<string, unknown>) =>
    fs.writeFileSync(
      sshd!.controlFile,
      JSON.stringify({ ...(REFERENCE_DIR && fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), hailortcli: { delay: 0.001, ...c } }),
    );

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipping device integration tests: ${why}`);
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
    const dev = path.join(sshd.sysfs, 'bus', 'pci', 'devices', '0001:01:00.0');
    fs.mkdirSync(dev, { recursive: true });
    fs.writeFileSync(path.join(dev, 'vendor'), '0x1e60\n');
    fs.writeFileSync(path.join(dev, 'current_link_speed'), '5.0 GT/s PCIe\n');
    fs.writeFileSync(path.join(dev, 'current_link_width'), '1\n');
    fs.mkdirSync(path.join(sshd.sysfs, 'firmware', 'devicetree', 'base'), { recursive: true });
    fs.writeFileSync(path.join(sshd.sysfs, 'firmware', 'devicetree', 'base', 'model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
    await vscode.workspace.getConfiguration('hailo').update('ssh.configFile', sshd.clientConfig, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('hailo').update('device.benchmarkSeconds', 1, vscode.ConfigurationTarget.Workspace);
    const json = JSON.parse(original.replace(/^\s*\/\/.*$/gm, '')) as { models: Record<string, unknown>[]; devices?: unknown[] };
    modelName = json.models[0]!.name as string;
    json.models[0]!.device = 'pi5';
    json.models[0]!.latencyBudgetMs = 8;
    json.devices = [{ name: 'pi5', host: sshd.alias, workDir: path.join(sshd.dir, 'pi'), hwArch: 'hailo8l' }];
    fs.writeFileSync(projectFile, JSON.stringify(json, null, 2));
    await services.project.reload();
    await until(() => services.project.project?.devices?.length && services.project.project, 'the device in hailo.json');
    const { modelPaths } = await import('../../src/core/project/load');
    hefFile = modelPaths(services.project.project!.models[0]!, root).hef;
    fs.mkdirSync(path.dirname(hefFile), { recursive: true });
    fs.writeFileSync(hefFile, `HWB-TEST-HEF arch=hailo8l\nintegration ${process.pid}\n`);
    runsDir = path.join(root, '.hailo', 'runs');
  });

  after(async function () {
    if (projectFile && original !== undefined) fs.writeFileSync(projectFile, original);
    if (hefFile) fs.rmSync(hefFile, { force: true });
    await vscode.workspace.getConfiguration('hailo').update('ssh.configFile', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('hailo').update('device.benchmarkSeconds', undefined, vscode.ConfigurationTarget.Workspace);
    await services?.project.reload();
    await sshd?.stop();
  });

  it('Hailo: Deploy and Benchmark on a model: a device run with results.json, budget and real-time factor', async () => {
    control({ device: 'hailo8l' });
    const before = new Set(listRuns(runsDir).map((r) => r.dir));
    await vscode.commands.executeCommand('hailo.deployBenchmark', modelName);
    const fresh = listRuns(runsDir).filter((r) => !before.has(r.dir));
    assert.equal(fresh.length, 1);
    const run = readRun(path.join(fresh[0]!.dir, 'run.json'));
    assert.equal(run.kind, 'device');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
    assert.deepEqual(
      run.steps.map((s) => s.step),
      ['parse-hef', 'benchmark'],
    );
    assert.ok(fs.existsSync(path.join(fresh[0]!.dir, RESULTS_FILE)));
    assert.ok(fs.existsSync(path.join(fresh[0]!.dir, 'benchmark.log')));
    const v = resultsView(runsDir, services.project.project!.models[0]!);
    const last = v.rows[v.rows.length - 1]!;
    assert.equal(last.runId, run.id);
    assert.ok(last.latencyMs! > 0);
    assert.equal(last.budget, last.latencyMs! <= 8 ? 'within' : 'over');
    if (v.windowSeconds) assert.equal(last.rtf, last.latencyMs! / 1000 / v.windowSeconds);
  });

  it('a slower second run is flagged as a regression against the previous comparable run', async () => {
    control({ device: 'hailo8l', benchmark: 'slow' });
    await vscode.commands.executeCommand('hailo.deployBenchmark', modelName);
    const v = resultsView(runsDir, services.project.project!.models[0]!);
    const last = v.rows[v.rows.length - 1]!;
    assert.ok(last.regression, JSON.stringify(last));
    assert.equal(last.regression.metric, 'latency');
    assert.equal(last.regression.regressed, true);
    assert.ok(Math.abs(last.regression.change - 0.5) < 0.01, String(last.regression.change));
    // the HEF did not change: not sent again
    const run = readRun(path.join(runsDir, last.runId, 'run.json'));
    assert.equal(run.bytesSent, 0);
  });

  it('benchmark repeated in one run (benchmarkRepeats): every repetition kept; a change within their spread is not flagged', async () => {
    // the previous run (slow) measured 1.5x in all three repetitions; this one 1.52x, 1.47x, 1.55x
    const counterFile = path.join(sshd!.dir, `bench-count-${process.pid}`);
    fs.rmSync(counterFile, { force: true });
    control({ device: 'hailo8l', scales: [1.52, 1.47, 1.55], counterFile });
    const json = JSON.parse(fs.readFileSync(projectFile, 'utf8')) as { devices: Record<string, unknown>[] };
    json.devices[0]!.benchmarkRepeats = 3;
    fs.writeFileSync(projectFile, JSON.stringify(json, null, 2));
    await services.project.reload();
    await until(() => services.project.project?.devices?.[0]?.benchmarkRepeats === 3 && services.project.project, 'benchmarkRepeats in hailo.json');
    await vscode.commands.executeCommand('hailo.deployBenchmark', modelName);
    assert.equal(fs.readFileSync(counterFile, 'utf8'), '3');
    const v = resultsView(runsDir, services.project.project!.models[0]!);
    const last = v.rows[v.rows.length - 1]!;
    const prev = v.rows[v.rows.length - 2]!;
    assert.equal(last.repetitions?.length, 3, JSON.stringify(last));
    const reps = last.repetitions!.map((r) => r.hwLatencyMs!);
    const base = prev.repetitions![0]!.hwLatencyMs! / 1.5;
    assert.ok(Math.abs(reps[1]! / base - 1.47) < 0.001 && Math.abs(reps[2]! / base - 1.55) < 0.001, JSON.stringify(reps));
    assert.equal(last.latencyMs, reps[0]);
    assert.ok(last.regression);
    assert.equal(last.regression.noiseFrom, 'repeats');
    assert.ok(Math.abs(last.regression.noise - 0.08 / 1.52) < 0.001, String(last.regression.noise));
    assert.equal(last.regression.regressed, false);
    const saved = JSON.parse(fs.readFileSync(path.join(runsDir, last.runId, RESULTS_FILE), 'utf8')) as { repetitions: unknown[] };
    assert.equal(saved.repetitions.length, 3);
  });

  it("the compiler's estimate from a compile run's profiler log appears beside the measurement", async () => {
    const model = services.project.project!.models[0]!;
    assert.match(resultsView(runsDir, model).estimateMissing ?? '', /Performance Summary|no compile run/);
    const id = `20200101-000000-${model.name}-e5t1`;
    const dir = path.join(runsDir, id);
    try {
      writeRun(
        runsDir,
        RunRecord.parse({
          version: 1,
          id,
          kind: 'compile',
          model: model.name,
          netName: model.name,
          hwArch: 'hailo8l',
          target: { name: 'box', host: 'box', workDir: '/w' },
          remoteDir: `/w/runs/${id}`,
          createdAt: '2020-01-01T00:00:00.000Z',
          status: 'succeeded',
          steps: [],
          inputs: [],
          bytesSent: 0,
          toolVersions: {},
        }),
      );
      fs.copyFileSync(
        path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'dfc', 'hailomz-profile-whisper-enc-hailo8l-estimate.log'),
        path.join(dir, 'profile.log'),
      );
      const v = resultsView(runsDir, model);
      assert.deepEqual(v.estimate, { source: 'hailo profiler (Pre Placement), profile.log', runId: id, fps: 21.87, latencyMs: 142.36, contexts: 4 });
      assert.equal(v.estimateMissing, undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Hailo: Show Device Results opens the panel; Check Device runs against the device', async () => {
    await vscode.commands.executeCommand('hailo.showDeviceResults', modelName);
    const tab = await until(
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === `Device Results: ${modelName}`),
      'the results panel',
    );
    assert.ok(tab);
    control({ device: 'hailo8l' });
    await vscode.commands.executeCommand('hailo.checkDevice', 'pi5');
  });
});
