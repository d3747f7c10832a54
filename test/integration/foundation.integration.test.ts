// The extension skeleton inside a real VS Code: activation on a workspace with hailo.json, the
// Models view's data, diagnostics on the exact JSON path, "Create Project File", the command
// contributions, workspace trust. The workspace is a temp copy of examples/whisper-tiny.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { parseProjectText } from '../../src/core/project/load';
import { EXTENSION_ID, until } from './helpers';

function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  return folder.uri.fsPath;
}

type TreeItemLike = { type: 'model' | 'artifact' };

describe('foundation', function () {
  let services: Services;
  let projectFile: string;
  let original: string;

  before(async function () {
    projectFile = path.join(workspaceRoot(), 'hailo.json');
    original = fs.readFileSync(projectFile, 'utf8');
  });

  afterEach(async function () {
    // every test leaves hailo.json as it found it
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (!fs.existsSync(projectFile) || fs.readFileSync(projectFile, 'utf8') !== original) {
      fs.writeFileSync(projectFile, original);
      if (services) {
        await services.project.reload();
        await until(() => services.project.project !== undefined, 'the project to reload');
      }
    }
  });

  it('activates by itself on a workspace with hailo.json (workspaceContains)', async function () {
    const ext = vscode.extensions.getExtension<Services>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    await until(() => ext.isActive, 'activation without any command');
    services = ext.exports;
    assert.ok(services.project && services.log && services.models, 'activate() returns the Services');
    assert.equal(typeof services.activationMs, 'number');
    assert.ok(services.activationMs! < 1000, `activate() took ${services.activationMs} ms`);
  });

  it('reads the project file and offers the Models view data', async function () {
    await until(() => services.project.project, 'the project to load');
    const project = services.project.project!;
    assert.equal(project.models.length, 1);
    assert.equal(project.models[0]!.name, 'whisper_tiny_encoder');

    const roots = (await services.models.getChildren()) as unknown as TreeItemLike[];
    assert.equal(roots.length, 1);
    const modelItem = services.models.getTreeItem(roots[0] as never);
    assert.equal(modelItem.label, 'whisper_tiny_encoder');
    assert.match(String(modelItem.description), /hailo8l · 1x80x3000/);

    const children = await services.models.getChildren(roots[0] as never);
    const rows = children.map((c) => {
      const t = services.models.getTreeItem(c);
      return `${t.label} ${t.description}`;
    });
    assert.deepEqual(rows, [
      `PyTorch ${path.join('tiny_whisper', 'encoder.py')} · present`,
      `ONNX ${path.join('build', 'encoder.onnx')} · present`,
      `HAR ${path.join('build', 'encoder.har')} · missing`,
      `HEF ${path.join('build', 'encoder.hef')} · missing`,
    ]);
  });

  it('marks the ONNX stale when its Python source changes content, not when only its time does', async function () {
    const root = workspaceRoot();
    const src = path.join(root, 'tiny_whisper', 'encoder.py');
    const onnx = path.join(root, 'build', 'encoder.onnx');
    const before = fs.statSync(src);
    const text = fs.readFileSync(src, 'utf8');
    const onnxState = async () => {
      const [model] = (await services.models.getChildren()) as never[];
      const item = services.models.getTreeItem((await services.models.getChildren(model))[1]!);
      return { state: String(item.description), tooltip: String(item.tooltip) };
    };
    try {
      // a checkout or copy that gives the Python a newer time than the ONNX: still fresh
      const now = Date.now() / 1000;
      fs.utimesSync(onnx, now - 60, now - 60);
      fs.utimesSync(src, now, now);
      let s = await onnxState();
      assert.match(s.state, /encoder\.onnx · present$/);
      assert.match(s.tooltip, /Matches the Python it was exported from \(by content\)/);
      // an edit: stale, naming the file
      fs.writeFileSync(src, `${text}\n# edited\n`);
      s = await onnxState();
      assert.match(s.state, /encoder\.onnx · stale$/);
      assert.match(s.tooltip, /Stale: tiny_whisper.encoder\.py changed/);
    } finally {
      fs.writeFileSync(src, text);
      fs.utimesSync(src, before.atime, before.mtime);
      fs.utimesSync(onnx, new Date(), new Date());
    }
  });

  it('puts diagnostics on the exact JSON path of an invalid value as the user types', async function () {
    const uri = vscode.Uri.file(projectFile);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const bad = original.replace('"shape": [1, 80, 3000]', '"shape": [1, -80, 3000]').replace('"hwArch": "hailo8l"', '"hwArch": "hailo9"');
    assert.notEqual(bad, original);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), bad);
    assert.ok(await vscode.workspace.applyEdit(edit));

    const diags = await until(() => {
      const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'hailo');
      return d.length >= 2 ? d : undefined;
    }, 'diagnostics on hailo.json');
    const text = doc.getText();
    const at = (needle: string) => {
      const offset = text.indexOf(needle);
      assert.ok(offset >= 0, needle);
      return new vscode.Range(doc.positionAt(offset), doc.positionAt(offset + needle.length));
    };
    const shape = diags.find((d) => d.range.isEqual(at('-80')));
    assert.ok(shape, `a diagnostic exactly on -80; got ${diags.map((d) => `${JSON.stringify(d.range)} ${d.message}`).join('; ')}`);
    assert.equal(shape.severity, vscode.DiagnosticSeverity.Error);
    const arch = diags.find((d) => d.range.isEqual(at('"hailo9"')));
    assert.ok(arch, `a diagnostic exactly on "hailo9"; got ${diags.map((d) => `${JSON.stringify(d.range)} ${d.message}`).join('; ')}`);
    assert.equal(services.project.project, undefined, 'an invalid file gives no project');

    await vscode.commands.executeCommand('workbench.action.files.revert');
    await until(() => vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'hailo').length === 0, 'diagnostics to clear after revert');
    await until(() => services.project.project, 'the valid project again');
  });

  it('"Create Project File" never overwrites an existing hailo.json', async function () {
    await vscode.commands.executeCommand('hailo.createProjectFile');
    assert.equal(fs.readFileSync(projectFile, 'utf8'), original);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, projectFile, 'it opens the existing file');
  });

  it('"Create Project File" writes a valid starter file when there is none', async function () {
    fs.rmSync(projectFile);
    await services.project.reload();
    assert.equal(services.project.exists, false);
    assert.deepEqual(await services.models.getChildren(), []);

    await vscode.commands.executeCommand('hailo.createProjectFile');
    assert.ok(fs.existsSync(projectFile), 'hailo.json was written');
    const parsed = parseProjectText(fs.readFileSync(projectFile, 'utf8'), projectFile);
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.project?.models, [], 'no placeholder model that validates and then fails on export');
    assert.doesNotMatch(fs.readFileSync(projectFile, 'utf8'), /model\.encoder:build/);
    await until(() => services.project.project, 'the new project to load');
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, projectFile, 'the new file is opened');
    // the workspace's module is offered (a quick pick); dismiss it
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  });

  it('registers every contributed command, and every command is contributed', async function () {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.ok(contributed.length >= 4);
    const all = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !all.has(c));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
    const extra = [...all].filter(
      (c) => c.startsWith('hailo.') && !contributed.includes(c) && !/^hailo\.[\w]+\.(focus|resetViewLocation|open|toggleVisibility|removeView)$/.test(c),
    );
    assert.deepEqual(extra, [], `registered but not contributed: ${extra.join(', ')}`);
  });

  it('"Refresh Models" and "Show Log" run without error', async function () {
    await vscode.commands.executeCommand('hailo.refreshModels');
    await vscode.commands.executeCommand('hailo.showLog');
    assert.ok(services.project.project);
  });

  it('declares workspace trust: limited, with code-running settings restricted', async function () {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const trust = ext.packageJSON.capabilities?.untrustedWorkspaces as { supported: boolean | string; restrictedConfigurations?: string[] };
    assert.equal(trust.supported, 'limited');
    assert.ok(trust.restrictedConfigurations?.includes('hailo.pythonPath'));
    assert.ok(trust.restrictedConfigurations?.includes('hailo.ssh.path'));
    assert.equal(ext.packageJSON.capabilities?.virtualWorkspaces, false);
  });
});
