// .alls model scripts inside a real VS Code: the language is known, diagnostics appear as the
// document is opened and go away as it is fixed, and the completion, hover and definition
// providers answer through the same commands the editor uses. Layer names come from a HAR built
// here from the repository's synthesised HN fixture and placed beside the script.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar-stream';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { until, EXTENSION_ID } from './helpers';

const REPO = path.resolve(__dirname, '..', '..');

async function tarOf(members: { name: string; data: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const m of members) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: m.name, size: m.data.length, mtime: new Date(0) }, m.data, (e) => (e ? reject(e) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const SCRIPT = [
  'normalization([0.0, 0.0, 0.0], [255.0, 255.0, 255.0])',
  'norm1 = normalization([0.0], [255.0])',
  'quantization_param(conv99, precision_mode=a16_w16)',
  'quantization_param(norm1, precision_mode=a16_w16)',
  'quantization_param(conv1, precision_mode=a16_w16)',
  'quantization_param(',
  '',
].join('\n');

function codes(uri: vscode.Uri): string[] {
  return vscode.languages
    .getDiagnostics(uri)
    .filter((d) => d.source === 'hailo-alls')
    .map((d) => `${d.range.start.line + 1}:${String(typeof d.code === 'object' ? d.code.value : d.code)}`);
}

describe('alls model scripts', function () {
  this.timeout(60_000);
  let dir: string;
  let doc: vscode.TextDocument;

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    const ext = vscode.extensions.getExtension<Services>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    if (!ext.isActive) await ext.activate();
    dir = path.join(folder.uri.fsPath, 'alls-it');
    fs.mkdirSync(dir, { recursive: true });
    const hn = fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'alls', 'whisper_enc.hn'));
    fs.writeFileSync(path.join(dir, 'whisper_enc.har'), await tarOf([{ name: 'whisper_enc.hn', data: hn }]));
    const file = path.join(dir, 'encoder.alls');
    fs.writeFileSync(file, SCRIPT);
    doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(doc);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens .alls files as the alls language', () => {
    assert.equal(doc.languageId, 'alls');
  });

  it('shows diagnostics on open: the bare normalization and the unknown layer', async () => {
    const got = await until(() => {
      const c = codes(doc.uri);
      return c.includes('1:ALLS005') && c.includes('3:ALLS006') ? c : undefined;
    }, 'hailo-alls diagnostics');
    const unknown = vscode.languages.getDiagnostics(doc.uri).find((d) => (typeof d.code === 'object' ? d.code.value : d.code) === 'ALLS006')!;
    assert.equal(unknown.severity, vscode.DiagnosticSeverity.Error);
    assert.match(unknown.message, /No layer "conv99" in the HN of whisper_enc\.har/);
    assert.deepEqual([unknown.range.start.character, unknown.range.end.character], [19, 25]);
    assert.ok(!got.some((c) => c.startsWith('4:') || c.startsWith('5:')), `norm1 and conv1 are fine: ${got.join(', ')}`);
  });

  it('updates the diagnostics as the document is edited', async () => {
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, new vscode.Position(0, 0), 'normalization0 = ');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await until(() => !codes(doc.uri).includes('1:ALLS005') && codes(doc.uri).includes('3:ALLS006'), 'the fixed line to lose its error');
  });

  it('completes layer names from the HAR, with the ONNX node in the detail, and keywords', async () => {
    const line = 5;
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      doc.uri,
      new vscode.Position(line, doc.lineAt(line).text.length),
    );
    const byLabel = new Map(list.items.map((i) => [typeof i.label === 'string' ? i.label : i.label.label, i]));
    const conv1 = byLabel.get('conv1');
    assert.ok(conv1, `conv1 offered; got ${[...byLabel.keys()].join(', ')}`);
    assert.equal(conv1.kind, vscode.CompletionItemKind.Variable);
    assert.match(String(conv1.detail), /^conv · \/conv1\/Conv/);
    assert.ok(byLabel.has('ew_add3'));
    assert.ok(byLabel.has('norm1'), 'layers the script creates are offered too');
    assert.ok(byLabel.has('precision_mode='));
  });

  it('completes values of a keyword', async () => {
    const line = 4;
    const col = doc.lineAt(line).text.indexOf('a16_w16');
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, new vscode.Position(line, col));
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const v of ['a8_w8', 'a16_w16', 'a8_w4']) assert.ok(labels.includes(v), v);
  });

  it('hovers commands and layers', async () => {
    const onCommand = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(1, 12));
    const text = (h: vscode.Hover[]) => h.flatMap((x) => x.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text(onCommand), /must be assigned/);
    const line = 4;
    const onLayer = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      doc.uri,
      new vscode.Position(line, doc.lineAt(line).text.indexOf('conv1') + 2),
    );
    assert.match(text(onLayer), /whisper_enc\/conv1\*\* — HN layer of type `conv`/);
    assert.match(text(onLayer), /\/conv1\/Conv/);
  });

  it('offers quick fixes for the unknown layer', async () => {
    const line = 2;
    const col = doc.lineAt(line).text.indexOf('conv99');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      new vscode.Range(line, col, line, col + 6),
    );
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Change to conv7'), titles.join(', '));
    const fix = actions.find((a) => a.title === 'Change to conv7')!;
    assert.equal(fix.kind?.value, vscode.CodeActionKind.QuickFix.value);
    assert.ok(fix.edit && fix.edit.get(doc.uri).some((e) => e.newText === 'conv7'));
  });

  it('outlines the script', async () => {
    const syms = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', doc.uri);
    const names = syms.map((x) => x.name);
    assert.ok(names.includes('norm1'), names.join(', '));
    assert.ok(names.includes('quantization_param conv99'), names.join(', '));
  });

  it('goes from a layer the script creates to the line that creates it', async () => {
    const line = 3;
    const locs = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>(
      'vscode.executeDefinitionProvider',
      doc.uri,
      new vscode.Position(line, doc.lineAt(line).text.indexOf('norm1') + 1),
    );
    assert.equal(locs.length, 1);
    const l = locs[0]!;
    const range = 'range' in l ? l.range : l.targetRange;
    const uri = 'uri' in l ? l.uri : l.targetUri;
    assert.equal(uri.fsPath, doc.uri.fsPath);
    assert.equal(range.start.line, 1);
  });
});
