// Export inside a real VS Code: the command on the example workspace's model (real torch export
// with /usr/bin/python3 through the hailo.pythonPath setting), the sidecar it writes, the
// CodeLenses on the model's Python file, and a failing factory turned into a diagnostic on its line.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { until, extensionServices } from './helpers';

const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

describe('export', function () {
  this.timeout(120_000);
  let root: string;
  let projectFile: string;
  let original: string;
  let services: Services;

  before(async function () {
    const probe = spawnSync(PY, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(`    skipping export integration tests: ${PY} has no torch/onnx`);
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
  });

  after(async function () {
    if (!projectFile) return;
    fs.writeFileSync(projectFile, original);
    fs.rmSync(path.join(root, 'failing_model.py'), { force: true });
    await vscode.workspace.getConfiguration('hailo').update('pythonPath', undefined, vscode.ConfigurationTarget.Workspace);
    await services?.project.reload();
  });

  it('exports the model and writes the source map next to the ONNX', async function () {
    const onnx = path.join(root, 'build', 'encoder.onnx');
    const sidecar = `${onnx}.sourcemap.json`;
    fs.rmSync(sidecar, { force: true });
    const before = fs.existsSync(onnx) ? fs.statSync(onnx).mtimeMs : 0;
    await vscode.commands.executeCommand('hailo.exportModel', 'whisper_tiny_encoder');
    assert.ok(fs.existsSync(sidecar), 'sidecar written');
    assert.ok(fs.statSync(onnx).mtimeMs > before, 'ONNX rewritten');
    const map = JSON.parse(fs.readFileSync(sidecar, 'utf8'));
    assert.equal(map.version, 1);
    assert.equal(map.entry, 'tiny_whisper.encoder:build');
    const files = new Set(Object.values(map.nodes as Record<string, { file: string }>).map((n) => n.file));
    assert.ok(files.has('../tiny_whisper/encoder.py'), [...files].join(', '));
    assert.ok(Object.keys(map.nodes).length > 50);
  });

  it('shows "Export to ONNX" on the factory and its class, "Add to hailo.json" on other modules', async function () {
    const uri = vscode.Uri.file(path.join(root, 'tiny_whisper', 'encoder.py'));
    const doc = await vscode.workspace.openTextDocument(uri);
    const lenses = await until(async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
      return l?.length ? l : undefined;
    }, 'code lenses');
    const at = (re: RegExp) =>
      doc
        .getText()
        .split('\n')
        .findIndex((l) => re.test(l));
    const titleAt = (line: number) => lenses.filter((l) => l.range.start.line === line).map((l) => l.command?.title ?? '');
    assert.ok(
      titleAt(at(/^def build\(/)).some((t) => t.includes('Export to ONNX (whisper_tiny_encoder)')),
      JSON.stringify(titleAt(at(/^def build\(/))),
    );
    assert.ok(titleAt(at(/^class AudioEncoder/)).some((t) => t.includes('Export to ONNX')));
    assert.ok(titleAt(at(/^class SelfAttention/)).some((t) => t.includes('Add to hailo.json')));
    const exportLens = lenses.find((l) => l.command?.command === 'hailo.exportModel');
    assert.deepEqual(exportLens?.command?.arguments, ['whisper_tiny_encoder']);
  });

  it('a factory that raises becomes a diagnostic on its line', async function () {
    const py = path.join(root, 'failing_model.py');
    fs.writeFileSync(py, 'import torch\n\n\ndef build():\n    width = 0\n    raise ValueError(f"width must be positive, got {width}")\n');
    const text = original.replace(
      '"models": [',
      '"models": [\n    { "name": "failing", "entry": "failing_model:build", "inputs": [{ "name": "x", "shape": [1, 4] }], "onnx": "build/failing.onnx" },',
    );
    fs.writeFileSync(projectFile, text);
    await services.project.reload();
    await until(() => services.project.project?.models.some((m) => m.name === 'failing'), 'the new model');
    await vscode.commands.executeCommand('hailo.exportModel', 'failing');
    const diags = await until(() => {
      const d = vscode.languages.getDiagnostics(vscode.Uri.file(py));
      return d.length ? d : undefined;
    }, 'a diagnostic on failing_model.py');
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.source, 'hailo-export');
    assert.equal(diags[0]!.range.start.line, 5);
    assert.equal(diags[0]!.code, 'ValueError');
    assert.match(diags[0]!.message, /The model factory failed: .*width must be positive, got 0/);
    assert.ok(!fs.existsSync(path.join(root, 'build', 'failing.onnx')));
  });
});
