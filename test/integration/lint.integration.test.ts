// The Hailo lint inside a real VS Code: an .onnx opens in the model editor, its findings become
// hailo-lint diagnostics (with rule links) on the model and on the PyTorch lines of its source
// map, the file is linted again when it changes on disk, `hailo.lintModel` lints a model listed
// in hailo.json (contract findings on its line there) and survives an unreadable model.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import type { Finding } from '../../src/core/finding';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';
import { until, extensionServices } from './helpers';

const codeOf = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? String(d.code.value) : String(d.code));
const lintDiagnostics = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Hailo lint');

describe('lint', function () {
  this.timeout(120_000);
  let root: string;
  let dir: string;
  let projectFile: string;
  let original: string;
  let services: Services;

  before(async function () {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    root = folder.uri.fsPath;
    dir = path.join(root, 'lint-int');
    fs.mkdirSync(dir, { recursive: true });
    projectFile = path.join(root, 'hailo.json');
    original = fs.readFileSync(projectFile, 'utf8');
    services = await extensionServices();
    await until(() => services.project.project, 'the project to load');
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (projectFile) fs.writeFileSync(projectFile, original);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await services?.project.reload();
  });

  it('opens an .onnx in the model editor; diagnostics with rule links on the model and the PyTorch lines', async function () {
    const onnx = path.join(dir, 'enc.onnx');
    const py = path.join(dir, 'model.py');
    fs.writeFileSync(py, Array.from({ length: 60 }, (_, i) => `# line ${i + 1}`).join('\n') + '\n');
    writeWhisper(onnx, { ...WHISPER_SIZES.toy, opset: 17, frames: 400 });
    fs.writeFileSync(
      `${onnx}.sourcemap.json`,
      JSON.stringify({
        version: 1,
        model: 'enc.onnx',
        nodes: { '/blocks.0/attn/Softmax': { file: 'model.py', line: 20 }, '/conv1/Conv': { file: 'model.py', line: 7 } },
      }),
    );
    const uri = vscode.Uri.file(onnx);

    await vscode.commands.executeCommand('vscode.open', uri);
    const tab = await until(() => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.uri.fsPath === onnx ? input : undefined;
    }, 'the model editor tab');
    assert.equal(tab.viewType, 'hailo.modelEditor');

    const onModel = await until(() => {
      const d = lintDiagnostics(uri);
      return d.some((x) => codeOf(x) === 'HW012') ? d : undefined;
    }, 'lint diagnostics on the .onnx');
    assert.ok(
      onModel.some((d) => codeOf(d) === 'HW010'),
      'opset-17 LayerNormalization',
    );
    for (const d of onModel) {
      assert.equal(typeof d.code, 'object');
      const target = (d.code as { target: vscode.Uri }).target.toString();
      assert.match(target, /media\/docs\/rules\.md#L\d+$/, 'the shipped rule docs, offline');
      assert.equal(d.range.start.line, 0);
    }
    const softmax = onModel.find((d) => codeOf(d) === 'HW012')!;
    assert.ok(softmax.relatedInformation?.some((r) => r.location.uri.fsPath === py && r.location.range.start.line === 19));

    const onPy = lintDiagnostics(vscode.Uri.file(py));
    const pySoftmax = onPy.find((d) => codeOf(d) === 'HW012');
    assert.ok(pySoftmax, `HW012 on model.py; have ${onPy.map(codeOf).join(', ')}`);
    assert.equal(pySoftmax.range.start.line, 19);
    assert.ok(pySoftmax.relatedInformation?.some((r) => r.location.uri.fsPath === onnx && /\/blocks\.0\/attn\/Softmax/.test(r.message)));
    assert.ok(
      onPy.some((d) => codeOf(d) === 'HW019' && d.range.start.line === 6),
      'Conv1d on line 7',
    );
  });

  it('lints again when the model changes on disk (an export at another opset)', async function () {
    const onnx = path.join(dir, 'enc.onnx');
    writeWhisper(onnx, { ...WHISPER_SIZES.toy, opset: 13, frames: 400 });
    const d = await until(() => {
      const list = lintDiagnostics(vscode.Uri.file(onnx));
      return list.some((x) => codeOf(x) === 'HW011') ? list : undefined;
    }, 'HW011 after the opset-13 rewrite');
    assert.ok(!d.some((x) => codeOf(x) === 'HW010'));
  });

  it('hailo.lintModel on a hailo.json model: returns findings, contract error on the hailo.json line', async function () {
    const probe = path.join(dir, 'probe.onnx');
    writeWhisper(probe, { ...WHISPER_SIZES.toy, opset: 17, frames: 400 });
    const text = original.replace(
      '"models": [',
      `"models": [\n    {\n      "name": "lint_probe",\n      "inputs": [{ "name": "mel", "shape": [1, 80, 400] }],\n      "outputs": [{ "name": "output", "shape": [1, 1500, 32] }],\n      "onnx": "lint-int/probe.onnx"\n    },`,
    );
    assert.notEqual(text, original);
    fs.writeFileSync(projectFile, text);
    await services.project.reload();
    await until(() => services.project.project?.models.some((m) => m.name === 'lint_probe'), 'the probe model in the project');

    const findings = await vscode.commands.executeCommand<Finding[] | undefined>('hailo.lintModel', vscode.Uri.file(probe));
    assert.ok(findings, 'the command returns the findings');
    const contract = findings.find((f) => f.code === 'HW021');
    assert.ok(contract, 'HW021 for 200 steps against the 1500-step contract');
    assert.match(contract.message, /\[1, 200, 32\] but hailo\.json expects \[1, 1500, 32\]/);

    const onProject = await until(() => lintDiagnostics(vscode.Uri.file(projectFile)).find((d) => codeOf(d) === 'HW021'), 'HW021 on hailo.json');
    const shapeLine = text.split('\n').findIndex((l) => l.includes('"shape": [1, 1500, 32]'));
    assert.equal(onProject.range.start.line, shapeLine);
    assert.equal(onProject.severity, vscode.DiagnosticSeverity.Error);
  });

  it('Ctrl+. on a finding: Explain opens the rule docs in the markdown preview; the opset and .alls quick fixes edit hailo.json and the script', async function () {
    const probe = path.join(dir, 'probe.onnx');
    const py = path.join(dir, 'probe.py');
    // the model as exported at opset 13
    const text = original.replace(
      '"models": [',
      `"models": [\n    {\n      "name": "lint_probe",\n      "opset": 13,\n      "inputs": [{ "name": "mel", "shape": [1, 80, 400] }],\n      "onnx": "lint-int/probe.onnx"\n    },`,
    );
    fs.writeFileSync(projectFile, text);
    await services.project.reload();
    await until(() => services.project.project?.models.find((m) => m.name === 'lint_probe')?.opset === 13, 'opset 13 in the project');
    fs.writeFileSync(py, Array.from({ length: 30 }, (_, i) => `# line ${i + 1}`).join('\n') + '\n');
    writeWhisper(probe, { ...WHISPER_SIZES.toy, opset: 13, frames: 400 });
    const first = await vscode.commands.executeCommand<Finding[] | undefined>('hailo.lintModel', vscode.Uri.file(probe));
    const ln = first?.find((f) => f.code === 'HW011');
    assert.ok(ln, 'HW011 at opset 13');
    fs.writeFileSync(`${probe}.sourcemap.json`, JSON.stringify({ version: 1, model: 'probe.onnx', nodes: { [ln.nodes[0]!]: { file: 'probe.py', line: 5 } } }));
    await vscode.commands.executeCommand('hailo.lintModel', vscode.Uri.file(probe));
    const pyUri = vscode.Uri.file(py);
    const diag = await until(() => lintDiagnostics(pyUri).find((d) => codeOf(d) === 'HW011'), 'HW011 on probe.py');
    assert.match(diag.message, /decomposed by the ONNX exporter/);
    await vscode.window.showTextDocument(pyUri);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', pyUri, diag.range);
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Explain HW011'), titles.join(' | '));
    const opsetFix = actions.find((a) => a.title === 'Set "opset": 17 for model "lint_probe" in hailo.json');
    assert.ok(opsetFix?.edit, titles.join(' | '));
    assert.ok(await vscode.workspace.applyEdit(opsetFix.edit));
    const projectDoc = await vscode.workspace.openTextDocument(projectFile);
    await projectDoc.save();
    await until(() => services.project.project?.models.find((m) => m.name === 'lint_probe')?.opset === 17, 'opset 17 in hailo.json');

    // Explain: the rule's entry in the markdown preview
    const explain = actions.find((a) => a.title === 'Explain HW011')!;
    await vscode.commands.executeCommand(explain.command!.command, ...(explain.command!.arguments ?? []));
    await until(() => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputWebview && /markdown\.preview/.test(input.viewType) ? input : undefined;
    }, 'the markdown preview of the rule docs');
    assert.ok(vscode.workspace.textDocuments.some((d) => d.uri.fsPath.endsWith(path.join('media', 'docs', 'rules.md'))));

    // at opset 17 the native LayerNorm is HW010, whose fix adds Hailo's recipe to a new model script
    writeWhisper(probe, { ...WHISPER_SIZES.toy, opset: 17, frames: 400 });
    const again = await vscode.commands.executeCommand<Finding[] | undefined>('hailo.lintModel', vscode.Uri.file(probe));
    const hw010 = again?.find((f) => f.code === 'HW010');
    assert.ok(hw010);
    fs.writeFileSync(
      `${probe}.sourcemap.json`,
      JSON.stringify({ version: 1, model: 'probe.onnx', nodes: { [hw010.nodes[0]!]: { file: 'probe.py', line: 9 } } }),
    );
    await vscode.commands.executeCommand('hailo.lintModel', vscode.Uri.file(probe));
    const d10 = await until(() => lintDiagnostics(pyUri).find((d) => codeOf(d) === 'HW010'), 'HW010 on probe.py');
    const a10 = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', pyUri, d10.range);
    const recipe = a10.find((a) => a.title.startsWith("Add Hailo's LayerNorm recipe"));
    assert.ok(recipe?.edit, a10.map((a) => a.title).join(' | '));
    assert.ok(await vscode.workspace.applyEdit(recipe.edit));
    const alls = path.join(dir, 'probe.alls');
    // the edit leaves the new script and hailo.json open with changes, as any quick fix does
    for (const f of [alls, projectFile]) await (await vscode.workspace.openTextDocument(f)).save();
    assert.match(
      fs.readFileSync(alls, 'utf8'),
      /^pre_quantization_optimization\(layer_norm_decomposition, bit_decomposition_mode=uniform_precision, equalization=disabled\)\n$/,
    );
    assert.match(fs.readFileSync(projectFile, 'utf8'), /"modelScript": "lint-int\/probe\.alls"/);
  });

  it('an unreadable model: no findings, no crash, diagnostics cleared; the editor still opens', async function () {
    const bad = path.join(dir, 'bad.onnx');
    fs.writeFileSync(bad, 'not a model at all\n');
    const r = await vscode.commands.executeCommand<Finding[] | undefined>('hailo.lintModel', vscode.Uri.file(bad));
    assert.equal(r, undefined);
    assert.equal(lintDiagnostics(vscode.Uri.file(bad)).length, 0);
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(bad));
    await until(() => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.uri.fsPath === bad;
    }, 'the model editor on the bad file');
    // the extension is still alive and answers
    const again = await vscode.commands.executeCommand<Finding[] | undefined>('hailo.lintModel', vscode.Uri.file(path.join(dir, 'enc.onnx')));
    assert.ok(again && again.length > 0);
  });
});
