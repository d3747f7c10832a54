// "Show in Graph" on the diagnostics of a DFC log inside a real VS Code: a parser error naming an
// ONNX node offers the action on the log line (and on the Python line the source map gives), and
// the command opens the model in the model editor; an error naming no node offers none; an error
// naming an HN layer (the optimizer's `for layer <net>/<layer>`) offers it in the HAR beside the log.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { extensionServices, until } from './helpers';

const FIX = path.join(path.resolve(__dirname, '..', '..'), 'test', 'fixtures', 'hailo');

const codeOf = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? String(d.code.value) : String(d.code));
const dfc = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Hailo DFC');

describe('graph: Show in Graph on DFC log diagnostics', function () {
  this.timeout(120_000);
  let dir: string;
  let services: Services;
  let onnx: string;
  let modelName: string;

  before(async function () {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    dir = path.join(folder.uri.fsPath, 'graph-dfc-int');
    fs.mkdirSync(dir, { recursive: true });
    services = await extensionServices();
    const project = await until(() => services.project.project, 'the project to load');
    modelName = project.models[0]!.name;
    onnx = path.resolve(folder.uri.fsPath, project.models[0]!.onnx);
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a parser error naming an ONNX node: "Show <node> in Graph" on the log line opens the model editor; the header without a node has none', async function () {
    const node = '/blocks.0/attn/Pow';
    const log = path.join(dir, 'parse.log');
    fs.writeFileSync(
      log,
      [
        `[info] Translation started on ONNX model ${modelName}`,
        `hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException: Parsing failed. The errors found in the graph are:`,
        ` UnsupportedOperationError in op ${node}: Pow operation is unsupported`,
        '',
      ].join('\n'),
    );
    const logUri = vscode.Uri.file(log);
    await vscode.commands.executeCommand('hailo.parseLog', logUri);
    const onLog = await until(() => (dfc(logUri).length >= 2 ? dfc(logUri) : undefined), 'diagnostics on the log');
    const err = onLog.find((d) => codeOf(d) === 'DFC_UnsupportedOperationError')!;
    const head = onLog.find((d) => codeOf(d) === 'DFC_ParsingWithRecommendationException')!;
    assert.ok(err && head, onLog.map(codeOf).join(', '));
    assert.equal(err.relatedInformation?.[0]?.location.uri.fsPath, onnx, 'the error points at the model');

    const doc = await vscode.workspace.openTextDocument(logUri);
    await vscode.window.showTextDocument(doc);
    const shows = (list: vscode.CodeAction[] | undefined) => (list ?? []).filter((a) => a.command?.command === 'hailo.showInGraph');
    const actions = await until(async () => {
      const list = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', logUri, err.range);
      return shows(list).length ? shows(list) : undefined;
    }, 'the Show in Graph action on the log line');
    assert.equal(actions.length, 1);
    assert.equal(actions[0]!.title, `Show ${node} in Graph`);
    const [model, target] = actions[0]!.command!.arguments as [vscode.Uri, string];
    assert.equal(model.fsPath, onnx);
    assert.equal(target, node);
    // the exception header names no node: no action there
    const none = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', logUri, head.range);
    assert.equal(shows(none).length, 0);

    await vscode.commands.executeCommand(actions[0]!.command!.command, ...actions[0]!.command!.arguments!);
    const tab = await until(() => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.uri.fsPath === onnx ? input : undefined;
    }, 'the model editor tab');
    assert.equal(tab.viewType, 'hailo.modelEditor');
  });

  it('an optimizer error naming an HN layer: "Show <layer> in Graph" opens the HAR beside the log', async function () {
    const run = path.join(dir, 'run-opt');
    fs.mkdirSync(run, { recursive: true });
    const har = path.join(run, 'whisper_toy_gen17.har');
    fs.copyFileSync(path.join(FIX, 'gen-whisper-toy-op17.har'), har);
    const layer = 'whisper_toy_gen17/input_layer1';
    const log = path.join(run, 'optimize.log');
    // the line as the optimizer prints it (log-samples/optimize-bad-inputs-shape.log), for this net
    fs.writeFileSync(
      log,
      `  hailo_model_optimization.acceleras.utils.acceleras_exceptions.BadInputsShape: Data shape (80, 200) for layer ${layer} doesn't match network's input shape (1, 200, 80)\n`,
    );
    const logUri = vscode.Uri.file(log);
    await vscode.commands.executeCommand('hailo.parseLog', logUri);
    const d = await until(() => dfc(logUri).find((x) => codeOf(x) === 'DFC_BadInputsShape'), 'the optimizer error on the log');
    assert.equal(d.relatedInformation?.[0]?.message, `HN layer ${layer} in whisper_toy_gen17.har`);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(logUri));
    const act = await until(async () => {
      const list = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', logUri, d.range);
      return (list ?? []).find((a) => a.command?.command === 'hailo.showInGraph');
    }, 'the Show in Graph action for the layer');
    assert.equal(act.title, `Show ${layer} in Graph`);
    const [model, target] = act.command!.arguments as [vscode.Uri, string];
    assert.equal(model.fsPath, har);
    assert.equal(target, layer);
    await vscode.commands.executeCommand(act.command!.command, ...act.command!.arguments!);
    const tab = await until(() => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.uri.fsPath === har ? input : undefined;
    }, 'the model editor of the HAR');
    assert.equal(tab.viewType, 'hailo.modelEditor');
  });

  it('the same error on the Python line the source map gives offers the action too', async function () {
    const map = JSON.parse(fs.readFileSync(`${onnx}.sourcemap.json`, 'utf8')) as { nodes: Record<string, { file: string; line: number }> };
    const [node, loc] = Object.entries(map.nodes).find(([n]) => n.startsWith('/blocks.0/')) ?? [];
    assert.ok(node && loc, 'the example source map maps a node of block 0');
    const log = path.join(dir, 'parse2.log');
    fs.writeFileSync(
      log,
      [
        `hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException: Parsing failed. The errors found in the graph are:`,
        ` UnsupportedOperationError in op ${node}: operation is unsupported`,
        '',
      ].join('\n'),
    );
    await vscode.commands.executeCommand('hailo.parseLog', vscode.Uri.file(log));
    const py = vscode.Uri.file(path.resolve(path.dirname(onnx), loc.file));
    const d = await until(
      () => dfc(py).find((x) => x.range.start.line === loc.line - 1 && x.message.includes(node)),
      `the DFC problem on ${loc.file}:${loc.line}`,
    );
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(py));
    const act = await until(async () => {
      const list = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', py, d.range);
      return (list ?? []).find((a) => a.command?.command === 'hailo.showInGraph' && a.command.arguments?.[1] === node);
    }, 'the Show in Graph action on the Python line');
    assert.equal(act.title, `Show ${node} in Graph`);
  });
});
