// The rewrite ledger inside a real VS Code: "Hailo: Compare Model with HAR" on an ONNX written by
// the ONNX fixture generator and the repository's synthetic HAR for it fills the hailo-ledger
// diagnostics on the ONNX file and, through a source map sidecar, on the Python lines; the HAR
// opens in the model editor.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { writeWhisper, WHISPER_SIZES } from '../fixtures/onnx/gen';
import { EXTENSION_ID } from './helpers';

const REPO = path.resolve(__dirname, '..', '..');
const FIX = path.join(REPO, 'test', 'fixtures', 'hailo');

async function until<T>(fn: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ledgerDiagnostics = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Hailo rewrites');

describe('rewrite ledger', function () {
  this.timeout(120_000);
  let dir: string;
  let onnx: string;
  let py: string;

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    const ext = vscode.extensions.getExtension<Services>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    if (!ext.isActive) await ext.activate();
    dir = path.join(folder.uri.fsPath, 'ledger-it');
    fs.mkdirSync(dir, { recursive: true });
    onnx = path.join(dir, 'encoder.onnx');
    writeWhisper(onnx, { ...WHISPER_SIZES.toy, opset: 17, frames: 200 });
    for (const f of ['gen-whisper-toy-op17.har', 'gen-whisper-toy-op17.parse.log']) fs.copyFileSync(path.join(FIX, f), path.join(dir, f));
    py = path.join(dir, 'model.py');
    fs.writeFileSync(
      py,
      ['import torch', '', 'class Block(torch.nn.Module):', '    def __init__(self):', '        self.attn_ln = torch.nn.LayerNorm(32)', ''].join('\n'),
    );
    fs.writeFileSync(
      `${onnx}.sourcemap.json`,
      JSON.stringify({
        version: 1,
        model: 'encoder.onnx',
        nodes: { '/blocks.0/attn_ln/LayerNormalization': { file: 'model.py', line: 5, module: 'blocks.0.attn_ln' } },
      }),
    );
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Compare Model with HAR puts the ledger findings on the ONNX file and on the Python line', async () => {
    await vscode.commands.executeCommand('hailo.compareModelWithHar', {
      onnx,
      har: path.join(dir, 'gen-whisper-toy-op17.har'),
      parseLog: path.join(dir, 'gen-whisper-toy-op17.parse.log'),
    });
    const onOnnx = await until(() => {
      const d = ledgerDiagnostics(vscode.Uri.file(onnx));
      return d.length ? d : undefined;
    }, 'hailo-ledger diagnostics on the ONNX file');
    const ln = onOnnx.filter((d) => d.code === 'RW001');
    assert.equal(ln.length, 5, 'five LayerNorms');
    assert.equal(ln[0]!.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(ln[0]!.message, /8-bit behaviour will differ from PyTorch/);
    const onPy = ledgerDiagnostics(vscode.Uri.file(py));
    assert.equal(onPy.length, 1);
    assert.equal(onPy[0]!.range.start.line, 4);
    assert.match(onPy[0]!.message, /This LayerNormalization became normalization1 plus two reshapes in the parsed HAR/);
    assert.ok(onPy[0]!.relatedInformation?.some((r) => r.location.uri.fsPath.endsWith('.har') && /normalization1/.test(r.message)));
  });

  it('the diagnostics go when the compared HAR changes on disk', async () => {
    const har = path.join(dir, 'gen-whisper-toy-op17.har');
    assert.ok(ledgerDiagnostics(vscode.Uri.file(onnx)).length > 0);
    fs.appendFileSync(har, Buffer.alloc(0));
    fs.writeFileSync(har, fs.readFileSync(path.join(FIX, 'gen-whisper-toy-op17.har')));
    await until(() => ledgerDiagnostics(vscode.Uri.file(onnx)).length === 0, 'stale diagnostics to be cleared');
  });

  it('a HAR opens in the model editor, which shows the model (not an error)', async () => {
    const har = vscode.Uri.file(path.join(dir, 'gen-whisper-toy-op17.har'));
    await vscode.commands.executeCommand('vscode.openWith', har, 'hailo.modelEditor');
    await until(() => {
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      return tab?.input instanceof vscode.TabInputCustom && tab.input.viewType === 'hailo.modelEditor' && tab.input.uri.fsPath.endsWith('.har');
    }, 'the HAR in the model editor');
    const services = vscode.extensions.getExtension<Services>(EXTENSION_ID)!.exports;
    const shown = await until(() => {
      const m = services.modelEditorMessage?.(har);
      return m && m.type !== 'loading' ? m : undefined;
    }, 'the model editor to finish reading the HAR');
    assert.equal(shown.type, 'summary', `the editor shows ${shown.type === 'failed' ? `an error: ${shown.code} ${shown.message}` : shown.type}`);
    if (shown.type !== 'summary') return;
    assert.equal(shown.summary.kind, 'har');
    assert.ok(shown.summary.ops.length > 0, 'the HN layers by type');
    assert.ok(shown.summary.inputs.length > 0 && shown.summary.outputs.length > 0, 'inputs and outputs');
    assert.ok(
      shown.summary.facts.some((f) => f.key === 'Layers' && Number(f.value) > 0),
      JSON.stringify(shown.summary.facts),
    );
  });
});
