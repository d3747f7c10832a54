// Hostile model files inside a real extension host: the model editor shows the reader's typed
// error (or the summary, for a malformed node), and the extension host's event loop keeps
// turning while the file is read (the largest gap between 20 ms timer ticks is measured).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import type { HostMessage } from '../../src/core/protocol/modelEditor';
import { gzipBomb, nested, onnxMalformed } from '../fuzz/generators';
import { EXTENSION_ID } from './helpers';

/** Largest event-loop gap allowed while a hostile file is read (a blocked host shows seconds). */
const MAX_GAP_MS = 1500;

describe('hostile model files in the model editor', function () {
  this.timeout(180_000);
  let dir: string;
  let services: Services;
  const gaps: string[] = [];

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    const ext = vscode.extensions.getExtension<Services>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    if (!ext.isActive) await ext.activate();
    services = ext.exports;
    dir = path.join(folder.uri.fsPath, 'hostile-it');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'nested.hn'), nested(4 * 1024 * 1024));
    fs.writeFileSync(path.join(dir, 'bomb.har'), await gzipBomb('{"name":"n","layers":{}}', 256 * 1024 * 1024));
    fs.writeFileSync(path.join(dir, 'malformed.onnx'), onnxMalformed());
    if (process.platform !== 'win32') execFileSync('mkfifo', [path.join(dir, 'fifo.har')]);
  });

  after(async () => {
    console.log(`      largest event-loop gap while reading: ${gaps.join(', ')}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the file in the model editor and waits for what it shows, measuring the host's largest timer gap meanwhile. */
  async function open(name: string): Promise<{ shown: HostMessage; gapMs: number }> {
    const uri = vscode.Uri.file(path.join(dir, name));
    let last = Date.now();
    let gapMs = 0;
    const tick = setInterval(() => {
      const now = Date.now();
      gapMs = Math.max(gapMs, now - last);
      last = now;
    }, 20);
    try {
      await vscode.commands.executeCommand('vscode.openWith', uri, 'hailo.modelEditor');
      const end = Date.now() + 60_000;
      for (;;) {
        const shown = services.modelEditorMessage?.(uri);
        if (shown && shown.type !== 'loading') {
          gaps.push(`${name} ${gapMs} ms`);
          return { shown, gapMs };
        }
        if (Date.now() > end) throw new Error(`${name}: the model editor still shows ${shown?.type ?? 'nothing'} after 60 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      clearInterval(tick);
    }
  }

  it('an HN of 8 MB of nested brackets: HN_INVALID naming the file, host responsive', async () => {
    const { shown, gapMs } = await open('nested.hn');
    assert.equal(shown.type, 'failed');
    assert.ok(
      shown.type === 'failed' && shown.code === 'HN_INVALID' && shown.message.includes('nested.hn') && /nested deeper than 256 levels/.test(shown.message),
      JSON.stringify(shown),
    );
    assert.ok(gapMs < MAX_GAP_MS, `event loop blocked for ${gapMs} ms`);
  });

  it('a gzip HAR inflating 1000:1: refused as a decompression bomb, host responsive', async () => {
    const { shown, gapMs } = await open('bomb.har');
    assert.ok(
      shown.type === 'failed' && shown.code === 'HAR_INVALID' && shown.message.includes('bomb.har') && /decompression bomb/.test(shown.message),
      JSON.stringify(shown),
    );
    assert.ok(gapMs < MAX_GAP_MS, `event loop blocked for ${gapMs} ms`);
  });

  it('a FIFO named .har: refused at once, not waited on', async function () {
    if (process.platform === 'win32') this.skip();
    const { shown, gapMs } = await open('fifo.har');
    assert.ok(shown.type === 'failed' && shown.code === 'MODEL_READ_FAILED' && /named pipe \(FIFO\)/.test(shown.message), JSON.stringify(shown));
    assert.ok(gapMs < MAX_GAP_MS, `event loop blocked for ${gapMs} ms`);
  });

  it('an ONNX node with too few inputs: the summary opens with the finding on that node', async () => {
    const { shown } = await open('malformed.onnx');
    assert.equal(shown.type, 'summary', JSON.stringify(shown).slice(0, 500));
    assert.ok(
      shown.type === 'summary' && shown.summary.warnings.some((w) => w === 'add (Add): Add has 0 inputs, needs 2'),
      JSON.stringify(shown.type === 'summary' ? shown.summary.warnings : shown),
    );
  });
});
