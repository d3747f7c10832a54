// Check Fidelity inside a real VS Code: the command on the example workspace's model (real
// PyTorch with /usr/bin/python3 through the hailo.pythonPath setting, the ONNX in onnxruntime-web
// from the extension's dist/ort), the result folder it writes, and a limit the ONNX cannot meet
// turned into an error diagnostic on the model's fidelity limits in hailo.json.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { until, extensionServices } from './helpers';

const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

/** A version 1.0 .npy of float32 [1, 80, 3000] (written here: the test needs no numpy). */
function writeMel(file: string, seed: number): void {
  let s = seed;
  const data = Float32Array.from({ length: 80 * 3000 }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 80, 3000), }";
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  pre.writeUInt16LE(header.length, 8);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
}

describe('fidelity', function () {
  this.timeout(180_000);
  let root: string;
  let projectFile: string;
  let original: string;
  let services: Services;

  before(async function () {
    const probe = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(`    skipping fidelity integration tests: ${PY} has no torch/numpy`);
      this.skip();
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    root = folder.uri.fsPath;
    projectFile = path.join(root, 'hailo.json');
    original = fs.readFileSync(projectFile, 'utf8');
    services = await extensionServices();
    await until(() => services.project.project, 'the project to load');
    await vscode.workspace.getConfiguration('hailo').update('pythonPath', PY, vscode.ConfigurationTarget.Workspace);
    writeMel(path.join(root, 'fidelity-inputs', 'speech1.npy'), 1);
  });

  after(async function () {
    if (!projectFile) return;
    fs.writeFileSync(projectFile, original);
    fs.rmSync(path.join(root, 'fidelity-inputs'), { recursive: true, force: true });
    for (const d of checks()) fs.rmSync(d, { recursive: true, force: true });
    await vscode.workspace.getConfiguration('hailo').update('pythonPath', undefined, vscode.ConfigurationTarget.Workspace);
    await services?.project.reload();
  });

  /** The fidelity checks kept in the runs folder (check.json beside the results). */
  function checks(): string[] {
    const dir = path.join(root, '.hailo', 'runs');
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((n) => fs.existsSync(path.join(dir, n, 'check.json')))
          .map((n) => path.join(dir, n))
      : [];
  }

  async function setFidelity(fidelity: unknown): Promise<void> {
    const text = original.replace('"onnx": "build/encoder.onnx",', `"onnx": "build/encoder.onnx",\n      "fidelity": ${JSON.stringify(fidelity)},`);
    assert.notEqual(text, original, 'the example model has an onnx field to add the section after');
    fs.writeFileSync(projectFile, text);
    await services.project.reload();
    await until(() => services.project.project?.models[0]?.fidelity, 'the fidelity section to load');
  }

  it('checks PyTorch against ONNX and writes the results; a limit it cannot meet is an error on hailo.json', async () => {
    await setFidelity({ inputs: 'fidelity-inputs', thresholds: { minCosine: 0.999 } });
    await vscode.commands.executeCommand('hailo.checkFidelity', 'whisper_tiny_encoder');
    // kept with the check's run in .hailo/runs/<id>/: a check of host stages only has no run.json
    const runs = checks();
    assert.equal(runs.length, 1, runs.join(', '));
    assert.ok(!fs.existsSync(path.join(runs[0]!, 'run.json')));
    assert.ok(fs.existsSync(path.join(runs[0]!, 'onnx', 'speech1', 'features.npy')));
    assert.ok(!fs.existsSync(path.join(root, '.hailo', 'fidelity')));
    const rec = JSON.parse(fs.readFileSync(path.join(runs[0]!, 'fidelity.json'), 'utf8'));
    assert.deepEqual(
      rec.stages.map((s: { stage: string; status: string }) => `${s.stage}:${s.status}`),
      ['torch:ok', 'onnx:ok'],
    );
    assert.ok(rec.comparisons[0].metrics.cosine > 0.9999);
    assert.equal(vscode.languages.getDiagnostics(vscode.Uri.file(projectFile)).filter((d) => d.source === 'hailo-fidelity').length, 0);

    await setFidelity({ inputs: 'fidelity-inputs', thresholds: { minSnrDb: 300 } });
    await vscode.commands.executeCommand('hailo.checkFidelity', 'whisper_tiny_encoder');
    const diags = await until(() => {
      const d = vscode.languages.getDiagnostics(vscode.Uri.file(projectFile)).filter((x) => x.source === 'hailo-fidelity');
      return d.length ? d : undefined;
    }, 'fidelity diagnostics on hailo.json');
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.code, 'FID002');
    assert.equal(diags[0]!.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diags[0]!.message, /ONNX \(onnxruntime\), output "features": SNR to PyTorch .* is below the limit 300 dB/);
    const doc = await vscode.workspace.openTextDocument(projectFile);
    assert.equal(doc.getText(diags[0]!.range), '"thresholds"');
    assert.equal(checks().length, 2);
  });
});
