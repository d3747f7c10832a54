// Check Fidelity's remote stages inside a real VS Code, against a real sshd on 127.0.0.1 started by
// the test: the HAR in the "DFC emulator" on a compile target and the HEF on a "device", both the
// stand-in hailo_sdk_client / hailo_platform (test/fixtures/fidelity/standins, on the server's
// PYTHONPATH) computing the test function with a deliberate error (8-bit rounding; the device
// zeroes the last 100 time steps). The check must find steps 1400-1499, write the figures to the
// Runs view's lines and the failing limit to the Problems. Then the window "goes away" while the
// device stage runs: the next window reattaches and the check is completed the same way.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { PipelineService } from '../../src/adapters/pipeline';
import { RunsView } from '../../src/adapters/runsView';
import type { Services } from '../../src/adapters/services';
import { readFidelityRecord } from '../../src/core/fidelity/record';
import { readCheckPlan } from '../../src/core/fidelity/store';
import { modelPaths } from '../../src/core/project/load';
import { optimizedHarPath } from '../../src/core/remote/pipelinePaths';
import { listRuns, readRun } from '../../src/core/remote/run';
import { startSshd, sshdUnavailableReason, STANDIN_DIR, type TestSshd } from '../harness/sshd';
import { until, extensionServices } from './helpers';

const FIDELITY_STANDINS = path.join(path.dirname(STANDIN_DIR), 'fidelity', 'standins');

/** A version 1.0 .npy of float32 [1, 80, 3000] (written here: the test needs no numpy on this side). */
function writeMel(file: string, seed: number): void {
  const data = new Float32Array(80 * 3000);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.013 * seed) + 0.3 * Math.cos(i * 0.0007 + seed);
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 80, 3000), }";
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  pre.writeUInt16LE(header.length, 8);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
}

interface TreeItemLike {
  label?: string | { label: string };
  description?: string | boolean;
  run?: { id: string };
}

describe('fidelity: emulator and device stages over SSH', function () {
  this.timeout(240_000);
  let sshd: TestSshd | undefined;
  let services: Services;
  let pipeline: PipelineService;
  let root: string;
  let projectFile: string;
  let original: string;
  let runsDir: string;
  let modelName: string;
  const written: string[] = [];

  const fidelityDiagnostics = () => vscode.languages.getDiagnostics(vscode.Uri.file(projectFile)).filter((d) => d.source === 'hailo-fidelity');
  const standin = (file: string, spec: Record<string, unknown>) => {
    if (!fs.existsSync(file)) written.push(file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ standin: true, net: 'fid', ...spec }));
  };
  /** The fidelity checks (folders with check.json) made since `before`. */
  const checksSince = (before: Set<string>) =>
    fs
      .readdirSync(runsDir)
      .filter((n) => !before.has(n) && fs.existsSync(path.join(runsDir, n, 'check.json')))
      .map((n) => path.join(runsDir, n));

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipping remote fidelity integration tests: ${why}`);
      this.skip();
    }
    if (spawnSync('python3', ['-c', 'import numpy']).status !== 0) {
      console.log('    skipping remote fidelity integration tests: python3 with numpy is needed on the test sshd');
      this.skip();
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    root = folder.uri.fsPath;
    projectFile = path.join(root, 'hailo.json');
    original = fs.readFileSync(projectFile, 'utf8');
    services = await extensionServices();
    await until(() => services.project.project, 'the project to load');
    pipeline = services.runs as unknown as PipelineService;
    sshd = await startSshd({ env: { PYTHONPATH: FIDELITY_STANDINS } });
    await vscode.workspace.getConfiguration('hailo').update('ssh.configFile', sshd.clientConfig, vscode.ConfigurationTarget.Global);
    const json = JSON.parse(original.replace(/^\s*\/\/.*$/gm, '')) as { models: Record<string, unknown>[]; targets?: unknown[]; devices?: unknown[] };
    const m = json.models[0]!;
    modelName = m.name as string;
    m.target = 'box';
    m.device = 'pi5';
    m.outputs = [{ name: 'features' }];
    m.fidelity = { inputs: 'fidelity-remote-inputs', stages: ['fp-optimized', 'quantized', 'device'], thresholds: { minSnrDb: 30 } };
    json.targets = [{ name: 'box', host: sshd.alias, workDir: path.join(sshd.dir, 'box') }];
    json.devices = [{ name: 'pi5', host: sshd.alias, workDir: path.join(sshd.dir, 'pi'), hwArch: 'hailo8l' }];
    fs.writeFileSync(projectFile, JSON.stringify(json, null, 2));
    writeMel(path.join(root, 'fidelity-remote-inputs', 'speech1.npy'), 1);
    await services.project.reload();
    await until(() => services.project.project?.models[0]?.fidelity?.stages && services.project.project, 'the fidelity section in hailo.json');
    const files = modelPaths(services.project.project!.models[0]!, root);
    standin(optimizedHarPath(files.har), { quantize_bits: 8 });
    standin(files.har, {});
    standin(files.hef, { quantize_bits: 8, zero_last: 100 });
    runsDir = path.join(root, '.hailo', 'runs');
    fs.mkdirSync(runsDir, { recursive: true });
  });

  after(async function () {
    if (projectFile && original !== undefined) fs.writeFileSync(projectFile, original);
    for (const f of written) fs.rmSync(f, { force: true });
    if (root) fs.rmSync(path.join(root, 'fidelity-remote-inputs'), { recursive: true, force: true });
    await vscode.workspace.getConfiguration('hailo').update('ssh.configFile', undefined, vscode.ConfigurationTarget.Global);
    await services?.project.reload();
    await sshd?.stop();
  });

  it('Check Fidelity runs the emulator and device stages: steps 1400-1499 found, the Runs view lines, the failing limit in Problems', async () => {
    const before = new Set(fs.readdirSync(runsDir));
    await vscode.commands.executeCommand('hailo.checkFidelity', modelName);
    const checks = checksSince(before);
    assert.equal(checks.length, 1, checks.join(', '));
    const dir = checks[0]!;
    // kept with the run: the emulator run is the check's own folder; the device run is named by the record
    const rec = readFidelityRecord(path.join(dir, 'fidelity.json'));
    assert.deepEqual(
      rec.stages.map((s) => `${s.stage}:${s.status}:${s.where}`),
      ['fp-optimized:ok:box', 'quantized:ok:box', 'device:ok:pi5'],
      JSON.stringify(rec.stages),
    );
    assert.equal(rec.runs?.[0], path.basename(dir));
    assert.equal(readRun(path.join(dir, 'run.json')).kind, 'fidelity');
    const dev = rec.comparisons.find((c) => c.stage === 'device' && c.against === 'reference')!;
    assert.equal(dev.steps, 1500);
    assert.deepEqual(
      dev.damaged.map((d) => [d.from, d.to]),
      [[1400, 1499]],
    );
    assert.ok(dev.perStep.snrDb[1450]! < 1, String(dev.perStep.snrDb[1450]));
    assert.ok(dev.perStep.snrDb[700]! > 30, String(dev.perStep.snrDb[700]));
    const q = rec.comparisons.find((c) => c.stage === 'quantized' && c.against === 'reference')!;
    assert.deepEqual(q.damaged, []);
    assert.ok(fs.existsSync(path.join(dir, 'device', 'speech1', 'features.npy')));

    // the Runs view: a line per stage with its figures against the reference
    const view = new RunsView(pipeline);
    try {
      const items = (await view.getChildren()) as unknown as TreeItemLike[];
      const ids = rec.runs!;
      const runItems = items.filter((i) => i.run && ids.includes(i.run.id));
      assert.equal(runItems.length, 2);
      for (const r of runItems) assert.match(String(r.description), /^succeeded · fidelity on (box|pi5) · /);
      const lines = new Map<string, string>();
      for (const r of runItems)
        for (const s of (await view.getChildren(r as never)) as unknown as TreeItemLike[]) lines.set(String(s.label), String(s.description));
      assert.match(lines.get('device')!, /^succeeded · \d+\.\d s · exit 0 · .*vs fp-optimized: cosine 0\.\d{5} · SNR -?\d+\.\d dB · steps 1400–1499 diverge/);
      assert.match(lines.get('quantized')!, /vs fp-optimized: cosine 0\.9999\d · SNR \d+\.\d dB(?! · steps)/);
      assert.match(lines.get('fp-optimized')!, /^succeeded · /);
    } finally {
      view.dispose();
    }

    // the failing limit: an error on the model's limits in hailo.json, for the device stage
    const diags = await until(() => {
      const d = fidelityDiagnostics();
      return d.length ? d : undefined;
    }, 'fidelity diagnostics on hailo.json');
    const limit = diags.find((d) => d.code === 'FID002');
    assert.ok(limit, diags.map((d) => `${String(d.code)} ${d.message}`).join('\n'));
    assert.equal(limit.severity, vscode.DiagnosticSeverity.Error);
    assert.match(limit.message, /device/i);
    assert.match(limit.message, /below the limit 30 dB/);
    const doc = await vscode.workspace.openTextDocument(projectFile);
    assert.equal(doc.getText(limit.range), '"thresholds"');
    assert.ok(limit.relatedInformation?.some((r) => r.location.uri.fsPath === path.join(dir, 'fidelity.json')));
    assert.ok(!diags.some((d) => d.code === 'FID002' && /quantized/.test(d.message) && !/device/i.test(d.message)));
  });

  it('the window goes away while the device stage runs: the next one reattaches and completes the check (compared, stored, diagnosed)', async () => {
    const files = modelPaths(services.project.project!.models[0]!, root);
    standin(files.hef, { quantize_bits: 8, zero_last: 100, sleep: 4 });
    const before = new Set(fs.readdirSync(runsDir));
    const check = vscode.commands.executeCommand('hailo.checkFidelity', modelName);
    // the device run is running: "close the window" (stop following, leave the remote step running)
    const devRun = await until(
      () => listRuns(runsDir).find((r) => r.run && !before.has(path.basename(r.dir)) && r.run.device && r.run.steps[0]!.status === 'running')?.run,
      'the device stage to run',
      120_000,
    );
    pipeline.detachAll();
    await check;
    const dir = checksSince(before)[0]!;
    assert.ok(!fs.existsSync(path.join(dir, 'fidelity.json')), 'nothing compared while the device stage runs');
    assert.equal(readCheckPlan(dir).remote[1]!.run, devRun.id);
    assert.equal(readRun(path.join(runsDir, devRun.id, 'run.json')).status, 'running');
    assert.equal(fidelityDiagnostics().length, 0);

    // the next window: reattach to what was left running
    await pipeline.resumeAll();
    const rec = await until(
      () => (fs.existsSync(path.join(dir, 'fidelity.json')) ? readFidelityRecord(path.join(dir, 'fidelity.json')) : undefined),
      'the reattached check to be compared',
      120_000,
    );
    assert.equal(readRun(path.join(runsDir, devRun.id, 'run.json')).status, 'succeeded');
    assert.deepEqual(
      rec.stages.map((s) => `${s.stage}:${s.status}`),
      ['fp-optimized:ok', 'quantized:ok', 'device:ok'],
      JSON.stringify(rec.stages),
    );
    const dev = rec.comparisons.find((c) => c.stage === 'device' && c.against === 'reference')!;
    assert.deepEqual(
      dev.damaged.map((d) => [d.from, d.to]),
      [[1400, 1499]],
    );
    const fig = (readRun(path.join(runsDir, devRun.id, 'run.json')).steps[0]!.summary as { figures?: { damaged: unknown[] } }).figures;
    assert.deepEqual(fig?.damaged, [{ from: 1400, to: 1499 }]);
    const diags = await until(() => {
      const d = fidelityDiagnostics().filter((x) => x.code === 'FID002');
      return d.length ? d : undefined;
    }, 'the reattached check diagnostics');
    assert.match(diags[0]!.message, /device/i);
    await until(() => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === `Fidelity: ${modelName}`), 'the fidelity results panel');
  });
});
