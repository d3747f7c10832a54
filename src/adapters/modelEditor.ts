import * as vscode from 'vscode';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Finding } from '../core/analysis/finding';
import type { Summarized } from '../core/analysis/lintSummary';
import type { HostMessage } from '../core/protocol/modelEditor';
import { setting } from './config';
import type { LintService } from './lint';
import type { Services } from './services';

export const MODEL_EDITOR_VIEW_TYPE = 'hailo.modelEditor';

type DocState = { kind: 'loading' } | { kind: 'ready'; summarized: Summarized } | { kind: 'failed'; code: string; message: string };

/**
 * A model file opened in the model editor. The document owns the parsed summary and findings,
 * re-reads the file when it (or its source map) changes on disk, and tells its webviews.
 */
export class ModelDocument implements vscode.CustomDocument {
  private readonly emitter = new vscode.EventEmitter<DocState>();
  readonly onDidChangeState = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private abort: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  state: DocState = { kind: 'loading' };

  constructor(
    readonly uri: vscode.Uri,
    private readonly services: Services,
    private readonly lint: LintService,
  ) {
    lint.openInEditor.add(uri.toString());
    const dir = vscode.Uri.file(path.dirname(uri.fsPath));
    const base = path.basename(uri.fsPath);
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(dir, `{${base},${base}.sourcemap.json}`));
    const changed = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.load(true), 400);
    };
    watcher.onDidChange(changed, undefined, this.disposables);
    watcher.onDidCreate(changed, undefined, this.disposables);
    watcher.onDidDelete(changed, undefined, this.disposables);
    this.disposables.push(watcher);
    // the expected shapes live in hailo.json
    services.project.onDidChange(changed, undefined, this.disposables);
  }

  get findings(): Finding[] {
    return this.state.kind === 'ready' ? this.state.summarized.findings : [];
  }

  /** Read (again) and lint; never throws: a bad model becomes the `failed` state. */
  async load(changedOnDisk = false): Promise<void> {
    this.abort?.abort();
    const ac = (this.abort = new AbortController());
    const { summarize } = await import('../core/analysis/lintSummary');
    const t0 = performance.now();
    try {
      const projectFile = this.lint.projectFile();
      const limits = {
        maxJsonBytes: setting('limitsMaxJsonMiB', this.uri) * 1024 * 1024,
        maxInflatedBytes: setting('limitsArchiveMaxInflatedGiB', this.uri) * 1024 ** 3,
        maxCompressionRatio: setting('limitsArchiveMaxCompressionRatio', this.uri),
        maxOnnxNodes: setting('limitsMaxOnnxNodes', this.uri),
      };
      const summarized = await summarize(this.uri.fsPath, { ...(projectFile ? { projectFile } : {}), signal: ac.signal, limits });
      if (ac.signal.aborted) return;
      this.state = { kind: 'ready', summarized };
      this.services.log.info(`Read ${this.uri.fsPath} in ${(performance.now() - t0).toFixed(0)} ms: ${summarized.findings.length} lint finding(s)`);
      if (setting(changedOnDisk ? 'lintOnSave' : 'lintOnOpen', this.uri)) this.lint.publish(this.uri, summarized.findings);
    } catch (e) {
      if (ac.signal.aborted || (e as { code?: string }).code === 'CANCELLED') return;
      const message = e instanceof Error ? e.message : String(e);
      const code = (e as { code?: string }).code ?? 'MODEL_READ_FAILED';
      this.state = { kind: 'failed', code, message };
      this.lint.clear(this.uri);
      this.services.log.error(`Cannot read ${this.uri.fsPath}: ${message}`);
      void vscode.window.showErrorMessage(`Hailo: cannot read ${path.basename(this.uri.fsPath)}: ${message}`);
    }
    this.emitter.fire(this.state);
  }

  message(): HostMessage {
    switch (this.state.kind) {
      case 'loading':
        return { type: 'loading', file: this.uri.fsPath };
      case 'ready':
        return { type: 'summary', summary: this.state.summarized.summary };
      case 'failed':
        return { type: 'failed', file: this.uri.fsPath, code: this.state.code, message: this.state.message };
    }
  }

  /** Called once when the document is closed. */
  onDispose: (() => void) | undefined;

  dispose(): void {
    this.onDispose?.();
    this.lint.openInEditor.delete(this.uri.toString());
    this.abort?.abort();
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** The read-only custom editor for .onnx files (the provider stays thin; the document does the work). */
export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  constructor(
    private readonly services: Services,
    private readonly lint: LintService,
  ) {}

  /** Open documents by URI. */
  readonly documents = new Map<string, ModelDocument>();

  async openCustomDocument(uri: vscode.Uri): Promise<ModelDocument> {
    const doc = new ModelDocument(uri, this.services, this.lint);
    this.documents.set(uri.toString(), doc);
    doc.onDispose = () => {
      if (this.documents.get(uri.toString()) === doc) this.documents.delete(uri.toString());
    };
    void doc.load();
    return doc;
  }

  async resolveCustomEditor(doc: ModelDocument, panel: vscode.WebviewPanel): Promise<void> {
    const ext = this.services.context.extensionUri;
    const dist = vscode.Uri.joinPath(ext, 'dist');
    const media = vscode.Uri.joinPath(ext, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    panel.webview.html = html(panel.webview, vscode.Uri.joinPath(dist, 'webview', 'modelEditor.js'), vscode.Uri.joinPath(media, 'modelEditor.css'));
    let ready = false;
    const post = () => {
      if (ready) void panel.webview.postMessage(doc.message());
    };
    const subs = [
      doc.onDidChangeState(post),
      panel.webview.onDidReceiveMessage(async (raw: unknown) => {
        // zod loads with the first message, not at activation
        const [{ parseMessage }, { WebviewMessage }] = await Promise.all([import('../core/protocol/envelope'), import('../core/protocol/modelEditor')]);
        const msg = parseMessage(WebviewMessage, raw);
        if (!msg) {
          this.services.log.warn('Model editor: ignored a malformed message from the webview');
          return;
        }
        switch (msg.type) {
          case 'ready':
            ready = true;
            post();
            break;
          case 'revealFinding': {
            // only locations the document itself produced are opened
            const f = doc.findings[msg.id];
            const { findingLocation } = await import('../core/analysis/lintSummary');
            const loc = f ? findingLocation(f) : undefined;
            if (!loc) break;
            const line = Math.max(0, loc.line - 1);
            try {
              await vscode.window.showTextDocument(vscode.Uri.file(loc.file), { selection: new vscode.Range(line, 0, line, 0), viewColumn: vscode.ViewColumn.Beside, preview: true });
            } catch (e) {
              void panel.webview.postMessage({ type: 'error', message: `Cannot open ${loc.file}: ${e instanceof Error ? e.message : String(e)}` } satisfies HostMessage);
            }
            break;
          }
          case 'showProblems':
            await vscode.commands.executeCommand('workbench.actions.view.problems');
            break;
        }
      }),
    ];
    panel.onDidDispose(() => subs.forEach((s) => s.dispose()));
  }
}

function html(webview: vscode.Webview, script: vscode.Uri, css: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${webview.asWebviewUri(css).toString()}" nonce="${nonce}">
<title>Hailo model</title>
</head>
<body>
<main id="root" aria-live="polite"></main>
<script nonce="${nonce}" src="${webview.asWebviewUri(script).toString()}"></script>
</body>
</html>`;
}

export function registerModelEditor(services: Services, lint: LintService): void {
  const provider = new ModelEditorProvider(services, lint);
  services.modelEditor = { shown: (uri) => provider.documents.get(uri.toString())?.message() };
  services.context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(MODEL_EDITOR_VIEW_TYPE, provider, {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false },
    }),
  );
}
