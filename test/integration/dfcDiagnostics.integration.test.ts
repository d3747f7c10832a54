// DFC logs inside a real VS Code: "Hailo: Parse DFC Log…" on a failed parse log puts the parser
// errors on the model's .onnx and on the log lines, the recommendation gets the quick fix, and
// the quick fix writes endNodes into hailo.json without losing its comments.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';
import type { Services } from '../../src/adapters/services';
import { until, EXTENSION_ID, extensionServices } from './helpers';

const codeOf = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? String(d.code.value) : String(d.code));
const dfc = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Hailo DFC');

describe('DFC log diagnostics', function () {
  this.timeout(120_000);
  let root: string;
  let dir: string;
  let projectFile: string;
  let original: string;
  let services: Services;
  let modelName: string;
  let onnx: string;

  before(async function () {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    root = folder.uri.fsPath;
    dir = path.join(root, 'dfclog-int');
    fs.mkdirSync(dir, { recursive: true });
    projectFile = path.join(root, 'hailo.json');
    original = fs.readFileSync(projectFile, 'utf8');
    services = await extensionServices();
    const project = await until(() => services.project.project, 'the project to load');
    const m = project.models[0]!;
    modelName = m.name;
    onnx = path.resolve(root, m.onnx);
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (projectFile) fs.writeFileSync(projectFile, original);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await services?.project.reload();
  });

  it('parse log: errors on the .onnx and the log; the quick fix writes endNodes into hailo.json', async function () {
    const net = modelName;
    const log = path.join(dir, 'parse.log');
    fs.writeFileSync(
      log,
      [
        `[\x1b[32minfo\x1b[0m] Hailo DFC Version: 3.33.0`,
        `[\x1b[32minfo\x1b[0m] Running \`hailo parser onnx encoder.onnx --hw-arch hailo8l\``,
        `[info] Translation started on ONNX model ${net}`,
        `hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException: Parsing failed. The errors found in the graph are:`,
        ` UnsupportedOperationError in op /blocks.1/attn/TopK: TopK operation is unsupported`,
        `Please try to parse the model again, using these end node names: /blocks.0/attn_ln/LayerNormalization, /conv2/Conv`,
        '',
      ].join('\r\n'),
    );
    const logUri = vscode.Uri.file(log);
    const onnxUri = vscode.Uri.file(onnx);
    await vscode.commands.executeCommand('hailo.parseLog', logUri);

    const onModel = await until(() => (dfc(onnxUri).length >= 2 ? dfc(onnxUri) : undefined), 'diagnostics on the .onnx');
    const op = onModel.find((d) => codeOf(d) === 'DFC_UnsupportedOperationError')!;
    assert.ok(op, 'the parser error is on the model');
    assert.match(op.message, /ONNX node \/blocks\.1\/attn\/TopK: TopK operation is unsupported/);
    assert.equal(op.severity, vscode.DiagnosticSeverity.Error);
    assert.ok(onModel.some((d) => codeOf(d) === 'DFC_END_NODES'));

    const onLog = await until(() => (dfc(logUri).length ? dfc(logUri) : undefined), 'diagnostics on the log');
    const rec = onLog.find((d) => codeOf(d) === 'DFC_END_NODES')!;
    assert.equal(rec.range.start.line, 5);
    assert.equal(onLog.find((d) => codeOf(d) === 'DFC_UnsupportedOperationError')!.range.start.line, 4);

    // the quick fix on the log line
    const doc = await vscode.workspace.openTextDocument(logUri);
    await vscode.window.showTextDocument(doc);
    const actions = await until(async () => {
      const a = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        logUri,
        rec.range,
        vscode.CodeActionKind.QuickFix.value,
      );
      return a?.find((x) => x.title === "Use the parser's recommended end nodes") ? a : undefined;
    }, 'the quick fix');
    const fix = actions.find((x) => x.title === "Use the parser's recommended end nodes")!;
    assert.ok(fix.command, 'the fix runs a command');
    await vscode.commands.executeCommand(fix.command.command, ...(fix.command.arguments ?? []));
    const text = await until(() => {
      const t = fs.readFileSync(projectFile, 'utf8');
      return t.includes('/conv2/Conv') ? t : undefined;
    }, 'hailo.json to change');
    // comments of the example project survive, and the project stays valid
    assert.ok(text.includes('//'), 'comments kept');
    await services.project.reload();
    const model = await until(() => services.project.project?.models.find((x) => x.name === modelName), 'the project to reload');
    assert.deepEqual(model.endNodes, ['/blocks.0/attn_ln/LayerNormalization', '/conv2/Conv']);
  });

  it('the end-nodes fix checks the names against the ONNX: refuses names the model lacks, writes the node names it maps', async function () {
    // the example's exported ONNX (or a generated one when the workspace has none)
    const had = fs.existsSync(onnx);
    if (!had) {
      fs.mkdirSync(path.dirname(onnx), { recursive: true });
      writeWhisper(onnx, { ...WHISPER_SIZES.toy, opset: 17, frames: 400 });
    }
    try {
      fs.writeFileSync(projectFile, original);
      await services.project.reload();
      const before = fs.readFileSync(projectFile, 'utf8');
      // refused: the error waits for the user to dismiss it, so the command is not awaited
      const refused = Promise.resolve(
        vscode.commands.executeCommand('hailo.useRecommendedEndNodes', { nodes: ['/conv2/Conv', 'stage_4/dense/Tensordot/MatM'], model: modelName }),
      );
      void refused.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(fs.readFileSync(projectFile, 'utf8'), before, 'hailo.json unchanged');

      await vscode.commands.executeCommand('hailo.useRecommendedEndNodes', { nodes: ['conv2/Conv'], model: modelName });
      await services.project.reload();
      const model = await until(() => services.project.project?.models.find((x) => x.name === modelName && x.endNodes?.length), 'endNodes written');
      assert.deepEqual(model.endNodes, ['/conv2/Conv'], 'written as the ONNX node name');
    } finally {
      if (!had) fs.rmSync(onnx, { force: true });
      fs.writeFileSync(projectFile, original);
      await services.project.reload();
    }
  });

  it('a model-script error goes on the .alls line and column', async function () {
    const alls = path.join(dir, 'enc.alls');
    fs.writeFileSync(alls, '# script\nnormalization([127.5],[127.5])\n');
    const log = path.join(dir, 'opt.log');
    fs.writeFileSync(
      log,
      [
        '[info] Loading model script commands to x from enc.alls',
        'hailo_sdk_client.sdk_backend.sdk_backend_exceptions.BackendScriptParserException: Parsing failed at:',
        '>!<normalization([127.5],[127.5])',
        '',
      ].join('\n'),
    );
    await vscode.commands.executeCommand('hailo.parseLog', vscode.Uri.file(log));
    const d = await until(() => dfc(vscode.Uri.file(alls))[0], 'a diagnostic on the .alls');
    assert.equal(codeOf(d), 'DFC_BackendScriptParserException');
    assert.deepEqual([d.range.start.line, d.range.start.character], [1, 0]);
  });

  it('an unreadable log is an error message, not a crash', async function () {
    const missing = vscode.Uri.file(path.join(dir, 'missing.log'));
    // the command shows the error and waits for the message to be dismissed: do not wait for it
    await Promise.race([vscode.commands.executeCommand('hailo.parseLog', missing), new Promise((r) => setTimeout(r, 3000))]);
    assert.deepEqual(dfc(missing), []);
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
    // and the next log still parses
    const log = path.join(dir, 'after.log');
    fs.writeFileSync(log, '[error] Failed to produce compiled graph\n');
    await vscode.commands.executeCommand('hailo.parseLog', vscode.Uri.file(log));
    const d = await until(() => dfc(vscode.Uri.file(log))[0], 'a diagnostic on the log');
    assert.equal(codeOf(d), 'DFC_CompilationFailed');
  });
});
