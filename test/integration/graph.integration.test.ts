// The graph view's host side inside a real VS Code: "Show in Graph" is offered as a code action on
// the lint problems of a PyTorch line (naming the ONNX node of the source map), and the
// hailo.showInGraph command opens that model in the model editor.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';
import { extensionServices, until } from './helpers';

describe('graph', function () {
  this.timeout(120_000);
  let dir: string;

  before(async function () {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    dir = path.join(folder.uri.fsPath, 'graph-int');
    fs.mkdirSync(dir, { recursive: true });
    await extensionServices();
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a lint problem on a PyTorch line offers "Show in Graph" for its node; the command opens the model editor', async function () {
    const onnx = path.join(dir, 'graph_enc.onnx');
    const py = path.join(dir, 'model.py');
    fs.writeFileSync(py, Array.from({ length: 30 }, (_, i) => `x${i + 1} = ${i + 1}`).join('\n') + '\n');
    writeWhisper(onnx, { ...WHISPER_SIZES.toy, opset: 13, frames: 400 });
    fs.writeFileSync(
      `${onnx}.sourcemap.json`,
      JSON.stringify({ version: 1, model: 'graph_enc.onnx', nodes: { '/blocks.0/attn/Softmax': { file: 'model.py', line: 20 } } }),
    );
    const uri = vscode.Uri.file(onnx);
    const pyUri = vscode.Uri.file(py);
    await vscode.commands.executeCommand('vscode.open', uri);
    const diag = await until(
      () => vscode.languages.getDiagnostics(pyUri).find((d) => d.source === 'Hailo lint' && d.range.start.line === 19),
      'the lint problem on line 20',
    );

    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const doc = await vscode.workspace.openTextDocument(pyUri);
    await vscode.window.showTextDocument(doc);
    const actions = await until(async () => {
      const list = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', pyUri, diag.range);
      return list?.filter((a) => a.command?.command === 'hailo.showInGraph').length ? list : undefined;
    }, 'the Show in Graph action');
    const show = actions.find((a) => a.command?.command === 'hailo.showInGraph')!;
    assert.equal(show.title, 'Show /blocks.0/attn/Softmax in Graph');
    const [model, node] = show.command!.arguments as [vscode.Uri, string];
    assert.equal(model.fsPath, onnx);
    assert.equal(node, '/blocks.0/attn/Softmax');
    // no action where there is no problem
    const none = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', pyUri, new vscode.Range(2, 0, 2, 1));
    assert.equal((none ?? []).filter((a) => a.command?.command === 'hailo.showInGraph').length, 0);

    await vscode.commands.executeCommand(show.command!.command, ...show.command!.arguments!);
    const tab = await until(() => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.uri.fsPath === onnx ? input : undefined;
    }, 'the model editor tab');
    assert.equal(tab.viewType, 'hailo.modelEditor');
  });
});
