import * as vscode from 'vscode';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Finding } from '../core/finding';
import type { Summarized } from '../core/summary/summarize';
import type { GraphView } from '../core/graph/view';
import type { HostMessage, WebviewMessage } from '../core/protocol/modelEditor';
import { setting } from './config';
import type { LintService } from './lint';
import type { Services } from './services';
import { isCancelled, isHailoError, loadCore } from './core';

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
  private view: string | undefined;
  /** The HN graph of the last comparison (diff mode), for its details and source links. */
  diffGraph: Summarized['graph'];
  /** Posts to each webview showing this document once it said `ready`. */
  readonly posts = new Set<(m: HostMessage) => void>();
  /** A node to show when a webview becomes ready ("Show in Graph" before the editor was open). */
  pendingReveal: string | undefined;
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
    const { summarize } = (await loadCore()).summary;
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
      this.view = undefined;
      this.services.log.info(`Read ${this.uri.fsPath} in ${(performance.now() - t0).toFixed(0)} ms: ${summarized.findings.length} lint finding(s)`);
      if (setting(changedOnDisk ? 'lintOnSave' : 'lintOnOpen', this.uri)) this.lint.publish(this.uri, summarized.findings);
    } catch (e) {
      if (ac.signal.aborted || isCancelled(e)) return;
      const message = e instanceof Error ? e.message : String(e);
      const code = isHailoError(e) ? e.code : 'MODEL_READ_FAILED';
      this.state = { kind: 'failed', code, message };
      this.lint.clear(this.uri);
      this.services.log.error(`Cannot read ${this.uri.fsPath}: ${message}`);
      void vscode.window.showErrorMessage(`Hailo: cannot read ${path.basename(this.uri.fsPath)}: ${message}`);
    }
    this.emitter.fire(this.state);
  }

  /** The graph view of the model as JSON text (built once per read). */
  async graphView(): Promise<{ view: string; ms: number } | undefined> {
    if (this.state.kind !== 'ready' || !this.state.summarized.graph) return undefined;
    const t0 = performance.now();
    if (!this.view) {
      const { buildGraphView } = (await loadCore()).graphView;
      const s = this.state.summarized;
      const view: GraphView = buildGraphView(s.graph!, s.source ? { source: s.source } : {});
      this.view = JSON.stringify(view);
    }
    return { view: this.view, ms: performance.now() - t0 };
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

  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  dispose(): void {
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
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

  /** Open documents by uri: what each editor shows (Services.modelEditorMessage). */
  readonly documents = new Map<string, ModelDocument>();

  async openCustomDocument(uri: vscode.Uri): Promise<ModelDocument> {
    const doc = new ModelDocument(uri, this.services, this.lint);
    const key = uri.toString();
    this.documents.set(key, doc);
    openDocuments.add(doc);
    doc.onDidDispose(() => {
      openDocuments.delete(doc);
      if (this.documents.get(key) === doc) this.documents.delete(key);
    });
    void doc.load();
    return doc;
  }

  async resolveCustomEditor(doc: ModelDocument, panel: vscode.WebviewPanel): Promise<void> {
    const ext = this.services.context.extensionUri;
    const dist = vscode.Uri.joinPath(ext, 'dist');
    const media = vscode.Uri.joinPath(ext, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    panel.webview.html = html(
      panel.webview,
      vscode.Uri.joinPath(dist, 'webview', 'modelEditor.js'),
      vscode.Uri.joinPath(media, 'modelEditor.css'),
      vscode.Uri.joinPath(dist, 'webview', 'graphLayout.js'),
      vscode.Uri.joinPath(media, 'graph.css'),
    );
    let ready = false;
    const post = () => {
      if (ready) void panel.webview.postMessage(doc.message());
    };
    const send = (m: HostMessage) => void panel.webview.postMessage(m);
    const subs = [
      { dispose: () => doc.posts.delete(send) },
      doc.onDidChangeState(post),
      panel.webview.onDidReceiveMessage(async (raw: unknown) => {
        // zod loads with the first message, not at activation
        const core = await loadCore();
        const { parseMessage } = core.envelope;
        const { WebviewMessage } = core.modelEditorProtocol;
        const msg = parseMessage(WebviewMessage, raw);
        if (!msg) {
          this.services.log.warn('Model editor: ignored a malformed message from the webview');
          return;
        }
        switch (msg.type) {
          case 'ready':
            ready = true;
            post();
            doc.posts.add(send);
            if (doc.pendingReveal) {
              send({ type: 'reveal', node: doc.pendingReveal });
              doc.pendingReveal = undefined;
            }
            revealQueued(doc.uri, send);
            break;
          case 'revealFinding': {
            // only locations the document itself produced are opened
            const f = doc.findings[msg.id];
            const { findingLocation } = (await loadCore()).summary;
            const loc = f ? findingLocation(f) : undefined;
            if (!loc) break;
            const line = Math.max(0, loc.line - 1);
            try {
              await vscode.window.showTextDocument(vscode.Uri.file(loc.file), {
                selection: new vscode.Range(line, 0, line, 0),
                viewColumn: vscode.ViewColumn.Beside,
                preview: true,
              });
            } catch (e) {
              void panel.webview.postMessage({
                type: 'error',
                message: `Cannot open ${loc.file}: ${e instanceof Error ? e.message : String(e)}`,
              } satisfies HostMessage);
            }
            break;
          }
          case 'showProblems':
            await vscode.commands.executeCommand('workbench.actions.view.problems');
            break;
          case 'explainRule':
            await vscode.commands.executeCommand('hailo.explainRule', msg.code);
            break;
          default:
            await graphMessage(doc, msg, send, this.services);
        }
      }),
    ];
    // a go-to-definition that opened (or brought forward) this model selects its node
    subs.push(panel.onDidChangeViewState((e) => e.webviewPanel.active && ready && revealQueued(doc.uri, send)));
    panel.onDidDispose(() => subs.forEach((s) => s.dispose()));
  }
}

function html(webview: vscode.Webview, script: vscode.Uri, css: vscode.Uri, worker: vscode.Uri, graphCss: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    // the graph's layout worker: its script is fetched from the extension and started from a blob
    `connect-src ${webview.cspSource}`,
    'worker-src blob:',
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${webview.asWebviewUri(css).toString()}" nonce="${nonce}">
<link rel="stylesheet" href="${webview.asWebviewUri(graphCss).toString()}" nonce="${nonce}">
<title>Hailo model</title>
</head>
<body data-graph-worker="${webview.asWebviewUri(worker).toString()}">
<main id="root" aria-live="polite"></main>
<script nonce="${nonce}" src="${webview.asWebviewUri(script).toString()}"></script>
</body>
</html>`;
}

const openDocuments = new Set<ModelDocument>();

const queuedReveals = new Map<string, { node: string; at: number }>();

/**
 * Select `node` in the graph of `model` when its model editor opens or comes forward in the next
 * few seconds: a definition in another file (an .alls layer) navigates to the model, and the
 * graph then shows the node. A definition merely previewed (hover) never brings the editor forward.
 */
export function queueGraphReveal(model: vscode.Uri, node: string): void {
  queuedReveals.set(model.toString(), { node, at: Date.now() });
}

function revealQueued(uri: vscode.Uri, send: (m: HostMessage) => void): void {
  const q = queuedReveals.get(uri.toString());
  if (!q) return;
  queuedReveals.delete(uri.toString());
  if (Date.now() - q.at < 10_000) send({ type: 'reveal', node: q.node });
}

type GraphRequest = Exclude<WebviewMessage, { type: 'ready' | 'revealFinding' | 'showProblems' }>;

/** The Graph tab's requests: the graph, a node's details, its Python line, a comparison, an export. */
async function graphMessage(doc: ModelDocument, msg: GraphRequest, send: (m: HostMessage) => void, services: Services): Promise<void> {
  const fail = (requestId: number | undefined, message: string) => send({ type: 'error', ...(requestId !== undefined ? { requestId } : {}), message });
  switch (msg.type) {
    case 'graphRequest': {
      if (doc.state.kind === 'loading') {
        // answered once the model is read
        const sub = doc.onDidChangeState(() => {
          sub.dispose();
          void graphMessage(doc, msg, send, services);
        });
        return;
      }
      const r = await doc.graphView();
      if (!r) return fail(msg.requestId, doc.state.kind === 'failed' ? `Cannot read this model: ${doc.state.message}` : 'This model has no graph to show.');
      send({ type: 'graph', requestId: msg.requestId, view: r.view, ms: r.ms });
      return;
    }
    case 'nodeDetailsRequest': {
      const g = msg.side === 'model' ? (doc.state.kind === 'ready' ? doc.state.summarized.graph : undefined) : doc.diffGraph;
      const source = msg.side === 'model' && doc.state.kind === 'ready' ? doc.state.summarized.source : undefined;
      const { nodeDetails } = (await loadCore()).graphView;
      send({ type: 'nodeDetails', requestId: msg.requestId, side: msg.side, details: g ? (nodeDetails(g, msg.id, source) ?? null) : null });
      return;
    }
    case 'openSource': {
      // only a location the host itself read is opened, never a path from the webview
      const g = msg.side === 'model' ? (doc.state.kind === 'ready' ? doc.state.summarized.graph : undefined) : doc.diffGraph;
      const source = msg.side === 'model' && doc.state.kind === 'ready' ? doc.state.summarized.source : undefined;
      const { nodeDetails } = (await loadCore()).graphView;
      const loc = g ? nodeDetails(g, msg.id, source)?.source : undefined;
      if (!loc) return fail(undefined, `No Python line is known for ${msg.id}.`);
      const line = Math.max(0, loc.line - 1);
      try {
        await vscode.window.showTextDocument(vscode.Uri.file(loc.file), {
          selection: new vscode.Range(line, 0, line, 0),
          viewColumn: vscode.ViewColumn.Beside,
          preview: true,
        });
      } catch (e) {
        fail(undefined, `Cannot open ${loc.file}: ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
    case 'diffRequest': {
      try {
        let picked: ComparisonInputs | undefined;
        let choice: string | undefined;
        if (msg.restore !== undefined) {
          // the comparison the webview state names (after a reload): the same run or file, checked again
          const r = await restoredComparison(doc.uri.fsPath, msg.restore);
          if (typeof r === 'string') return fail(msg.requestId, `Cannot restore the comparison: ${r}`);
          picked = r;
          choice = msg.restore;
        } else {
          const p = await pickComparison(doc.uri.fsPath);
          if (!p) return send({ type: 'cancelled', requestId: msg.requestId });
          picked = p.inputs;
          choice = p.choice;
        }
        const core = await loadCore();
        const { runLedger } = core.ledgerRun;
        const { buildGraphView } = core.graphView;
        const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Hailo: comparing with the HAR' }, () =>
          runLedger({ ...picked, onnxFile: doc.uri.fsPath }),
        );
        doc.diffGraph = r.hn.graph;
        const l = r.ledger;
        send({
          type: 'diff',
          requestId: msg.requestId,
          hn: JSON.stringify(buildGraphView(r.hn.graph)),
          ledger: {
            stage: l.stage,
            hailoFile: path.basename(picked.hailoFile),
            counts: { ...l.counts },
            ...(l.contexts?.count ? { contextCount: l.contexts.count } : {}),
            entries: l.entries.map((e) => ({ id: e.id, kind: e.kind, onnxNodes: e.onnxNodes, hnLayers: e.hnLayers, contexts: e.contexts, note: e.note })),
          },
          choice,
        });
      } catch (e) {
        fail(msg.requestId, `Cannot compare: ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
    case 'export': {
      const base = path.basename(doc.uri.fsPath).replace(/\.[^.]+$/, '');
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(path.dirname(doc.uri.fsPath), `${base}.graph.${msg.format}`)),
        filters: msg.format === 'svg' ? { 'SVG image': ['svg'] } : { 'PNG image': ['png'] },
        title: `Export the graph as ${msg.format.toUpperCase()}`,
      });
      if (!target) return send({ type: 'cancelled', requestId: msg.requestId });
      const bytes = msg.format === 'svg' ? Buffer.from(msg.data, 'utf8') : Buffer.from(msg.data, 'base64');
      try {
        await vscode.workspace.fs.writeFile(target, bytes);
        send({ type: 'exported', requestId: msg.requestId, file: target.fsPath });
      } catch (e) {
        fail(msg.requestId, `Cannot write ${target.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
  }
}

/** Pick what to compare the model with: a pipeline run (its HAR and logs) or any .har/.hn in the workspace. */
type ComparisonInputs = { hailoFile: string; parseLogFile?: string; compileLogFile?: string; stage?: 'parse' | 'optimize' | 'compile' };

/** Files picked with Browse… outside the workspace in this window: a reload may compare with them again. */
const browsedFiles = new Set<string>();

/** What a comparison was made with, as the webview keeps it: `run:<run folder>` or `file:<HAR or HN>`. */
function comparisonChoice(kind: 'run' | 'file', p: string): string {
  return `${kind}:${p}`;
}

/**
 * The inputs of a comparison named by the webview state, or why it cannot be made again. The
 * name comes from the webview, so it is checked like any outside input: a run folder
 * (`.hailo/runs/<id>`) in a workspace folder, or a `.har`/`.hn` file in a workspace folder or
 * picked with Browse… in this window; nothing else is read.
 */
async function restoredComparison(onnxFile: string, choice: string): Promise<ComparisonInputs | string> {
  const m = /^(run|file):(.+)$/s.exec(choice);
  if (!m) return 'not a run or a file';
  const p = m[2]!;
  if (!path.isAbsolute(p) || path.normalize(p) !== p) return `${p} is not an absolute path`;
  const inWorkspace = !!vscode.workspace.getWorkspaceFolder(vscode.Uri.file(p));
  const exists = async (kind: vscode.FileType) => {
    try {
      return ((await vscode.workspace.fs.stat(vscode.Uri.file(p))).type & kind) !== 0;
    } catch {
      return false;
    }
  };
  if (m[1] === 'run') {
    if (!inWorkspace || path.basename(path.dirname(p)) !== 'runs' || path.basename(path.dirname(path.dirname(p))) !== '.hailo')
      return `${p} is not a run folder of this workspace`;
    if (!(await exists(vscode.FileType.Directory))) return `the run folder ${p} is gone`;
    const { ledgerInputsFromRun } = (await loadCore()).ledgerRun;
    const found = await ledgerInputsFromRun(p, 'compile', onnxFile);
    return 'inputs' in found ? found.inputs : `run ${path.basename(p)} has no HAR to compare with`;
  }
  if (!/\.(har|hn)$/i.test(p)) return `${path.basename(p)} is not a HAR or HN file`;
  if (!inWorkspace && !browsedFiles.has(p)) return `${p} is outside the workspace (pick it again with Compare with HAR…)`;
  if (!(await exists(vscode.FileType.File))) return `${p} is gone`;
  return { hailoFile: p };
}

async function pickComparison(onnxFile: string): Promise<{ inputs: ComparisonInputs; choice: string } | undefined> {
  type Pick = vscode.QuickPickItem & { inputs?: ComparisonInputs; choice?: string; browse?: boolean };
  const items: Pick[] = [];
  const { ledgerInputsFromRun } = (await loadCore()).ledgerRun;
  const runJsons = await vscode.workspace.findFiles('**/.hailo/runs/*/run.json', '**/node_modules/**', 200);
  for (const rj of runJsons) {
    const dir = path.dirname(rj.fsPath);
    try {
      const found = await ledgerInputsFromRun(dir, 'compile', onnxFile);
      if ('inputs' in found)
        items.push({
          label: `$(history) Run ${path.basename(dir)}`,
          description: `${found.model} · ${found.inputs.stage ?? ''}`,
          detail: vscode.workspace.asRelativePath(found.inputs.hailoFile),
          inputs: found.inputs,
          choice: comparisonChoice('run', dir),
        });
    } catch {
      // a run folder that cannot be read is not offered
    }
  }
  const files = await vscode.workspace.findFiles('**/*.{har,hn}', '**/node_modules/**', 500);
  for (const f of files)
    items.push({
      label: `$(file-binary) ${path.basename(f.fsPath)}`,
      description: vscode.workspace.asRelativePath(path.dirname(f.fsPath)),
      inputs: { hailoFile: f.fsPath },
      choice: comparisonChoice('file', f.fsPath),
    });
  items.push({ label: '$(folder-opened) Browse…', browse: true });
  const pick = await vscode.window.showQuickPick(items, {
    title: `Compare ${path.basename(onnxFile)} with`,
    placeHolder: 'A HAR (parsed, optimized or compiled) or an HN file',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!pick) return undefined;
  if (pick.browse) {
    const uris = await vscode.window.showOpenDialog({
      canSelectMany: false,
      filters: { 'Hailo archive or HN': ['har', 'hn'] },
      title: 'HAR or HN to compare with',
    });
    const f = uris?.[0]?.fsPath;
    if (!f) return undefined;
    browsedFiles.add(f);
    return { inputs: { hailoFile: f }, choice: comparisonChoice('file', f) };
  }
  return pick.inputs && pick.choice ? { inputs: pick.inputs, choice: pick.choice } : undefined;
}

/** Show a node in a model's Graph tab: opens the model editor and selects it there. */
async function showInGraph(model: vscode.Uri | string | undefined, node: string | undefined): Promise<void> {
  const uri = typeof model === 'string' ? vscode.Uri.file(model) : model;
  if (!uri || !node) {
    void vscode.window.showInformationMessage('Hailo: Show in Graph needs a model and a node name; use it from a lint or rewrite problem.');
    return;
  }
  // bring forward the editor already showing the model, else open one
  const open = vscode.window.tabGroups.all
    .flatMap((g) => g.tabs.map((t) => ({ g, t })))
    .find(({ t }) => t.input instanceof vscode.TabInputCustom && t.input.viewType === MODEL_EDITOR_VIEW_TYPE && t.input.uri.toString() === uri.toString());
  await vscode.commands.executeCommand('vscode.openWith', uri, MODEL_EDITOR_VIEW_TYPE, open ? { viewColumn: open.g.viewColumn } : undefined);
  const doc = [...openDocuments].find((d) => d.uri.toString() === uri.toString());
  if (!doc) return;
  if (doc.posts.size) for (const p of doc.posts) p({ type: 'reveal', node });
  else doc.pendingReveal = node;
}

/** The nodes a lint, rewrite or DFC-log diagnostic refers to (its related "ONNX node" / "HN layer" entries), with their model or HAR. */
export function graphTargets(d: vscode.Diagnostic): { model: vscode.Uri; node: string }[] {
  const out: { model: vscode.Uri; node: string }[] = [];
  for (const r of d.relatedInformation ?? []) {
    const file = r.location.uri.fsPath.toLowerCase();
    if (!file.endsWith('.onnx') && !file.endsWith('.har') && !file.endsWith('.hn')) continue;
    const one = /^(?:ONNX node|HN layer) (\S+) in /.exec(r.message);
    const many = /^ONNX node\(s\): (.+)$/.exec(r.message);
    const names = one ? [one[1]!] : many ? many[1]!.split(', ').filter((n) => n && !n.startsWith('…')) : [];
    for (const node of names) out.push({ model: r.location.uri, node });
  }
  return out;
}

export function registerModelEditor(services: Services, lint: LintService): void {
  const provider = new ModelEditorProvider(services, lint);
  services.modelEditorMessage = (uri) => provider.documents.get(uri.toString())?.message();
  services.context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(MODEL_EDITOR_VIEW_TYPE, provider, {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false },
    }),
    vscode.commands.registerCommand('hailo.showInGraph', (model?: vscode.Uri | string, node?: string) => showInGraph(model, node)),
    // "Show in Graph" on the lint, rewrite and DFC-log problems naming an ONNX node (Problems panel and light bulb)
    vscode.languages.registerCodeActionsProvider(
      { scheme: 'file' },
      {
        provideCodeActions: (_doc, _range, ctx) => {
          const out: vscode.CodeAction[] = [];
          const seen = new Set<string>();
          for (const d of ctx.diagnostics) {
            if (d.source !== 'Hailo lint' && d.source !== 'Hailo rewrites' && d.source !== 'Hailo DFC') continue;
            for (const t of graphTargets(d).slice(0, 3)) {
              const key = `${t.model.toString()}#${t.node}`;
              if (seen.has(key)) continue;
              seen.add(key);
              const a = new vscode.CodeAction(`Show ${t.node} in Graph`, vscode.CodeActionKind.QuickFix);
              a.command = { command: 'hailo.showInGraph', title: 'Show in Graph', arguments: [t.model, t.node] };
              a.diagnostics = [d];
              out.push(a);
            }
          }
          return out;
        },
      },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
  );
}
