import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DfcLogSummary } from '../core/hailo/dfcLog';
import type { SourceMap } from '../core/graph/sourceMap';
import type { PlannedDiagnostic } from '../core/hailo/dfcLogDiagnostics';
import { command, type Services } from './services';
import { loadCore } from './core';

/**
 * DFC logs in the editor: errors of a parsed log become diagnostics (parser errors on the ONNX
 * model and its PyTorch line, model-script errors on the `.alls` line, the rest on the log), the
 * parser's end-node recommendation gets a quick fix that writes `endNodes` into hailo.json, and
 * "Hailo: Parse DFC Log…" shows what a log says.
 */

const SOURCE = 'Hailo DFC';
const END_NODES_CODE = 'DFC_END_NODES';
const SUMMARY_SCHEME = 'hailo-log-summary';

let collection: vscode.DiagnosticCollection | undefined;
/** Recommended end nodes per diagnostic, keyed by `<uri>#<line>`; read by the quick fix. */
const recommendations = new Map<string, { nodes: string[]; model?: string }>();
/** Files each log (by its uri) put diagnostics on, so parsing it again replaces them all. */
const published = new Map<string, vscode.Uri[]>();

function diagnostics(): vscode.DiagnosticCollection {
  return (collection ??= vscode.languages.createDiagnosticCollection('hailo-dfc'));
}

export interface DfcDiagnosticsContext {
  onnxFile?: vscode.Uri;
  allsFile?: vscode.Uri;
  /** The log (or run.json) the summary came from. */
  runFile?: vscode.Uri;
  sourceMap?: SourceMap;
  /** The hailo.json model the log belongs to (for the end-node quick fix). */
  modelName?: string;
}

const SEVERITY: Record<PlannedDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/**
 * Publish a parsed log's findings. Replaces what an earlier log published on the same files.
 * Returns the number of diagnostics published.
 */
export async function publishDfcLogDiagnostics(summary: DfcLogSummary, ctx: DfcDiagnosticsContext): Promise<number> {
  const { planDfcLogDiagnostics } = (await loadCore()).dfcLogDiagnostics;
  let allsText: string | undefined;
  if (ctx.allsFile) {
    try {
      allsText = new TextDecoder().decode(await vscode.workspace.fs.readFile(ctx.allsFile));
    } catch {
      // the script may live only on the compile box; place by pyparsing's line number then
    }
  }
  const plan = planDfcLogDiagnostics(summary, {
    onnxFile: ctx.onnxFile?.fsPath,
    allsFile: ctx.allsFile?.fsPath,
    allsText,
    logFile: ctx.runFile?.fsPath,
    sourceOf: ctx.sourceMap ? (n) => ctx.sourceMap!.lookup(n) : undefined,
  });
  const byFile = new Map<string, vscode.Diagnostic[]>();
  // recommendations of this publication replace earlier ones on the same files
  for (const u of [ctx.onnxFile, ctx.runFile]) {
    if (!u) continue;
    const prefix = `${u.toString()}#`;
    for (const k of [...recommendations.keys()]) if (k.startsWith(prefix)) recommendations.delete(k);
  }
  const uriOf = (p: PlannedDiagnostic): vscode.Uri => {
    if (p.target === 'onnx' && ctx.onnxFile) return ctx.onnxFile;
    if (p.target === 'alls' && ctx.allsFile) return ctx.allsFile;
    if (p.target === 'log' && ctx.runFile) return ctx.runFile;
    return vscode.Uri.file(p.file);
  };
  const files = new Map<string, vscode.Uri>();
  for (const p of plan) {
    const uri = uriOf(p);
    const range = p.column !== undefined ? new vscode.Range(p.line, p.column, p.line, p.endColumn ?? p.column + 1) : new vscode.Range(p.line, 0, p.line, Number.MAX_SAFE_INTEGER);
    const d = new vscode.Diagnostic(range, p.message, SEVERITY[p.severity]);
    d.source = SOURCE;
    d.code = p.code;
    if (p.endNodes) recommendations.set(`${uri.toString()}#${p.line}`, { nodes: p.endNodes, ...(ctx.modelName ? { model: ctx.modelName } : {}) });
    const key = uri.toString();
    files.set(key, uri);
    let list = byFile.get(key);
    if (!list) byFile.set(key, (list = []));
    list.push(d);
  }
  const coll = diagnostics();
  // a new log replaces the previous one's findings on the files it speaks about, and what the
  // same log (or run) put elsewhere before (PyTorch lines)
  const runKey = (ctx.runFile ?? ctx.onnxFile)?.toString();
  const stale = [ctx.onnxFile, ctx.allsFile, ctx.runFile, ...(runKey ? published.get(runKey) ?? [] : [])].filter((u): u is vscode.Uri => !!u);
  for (const uri of stale) {
    coll.delete(uri);
    const prefix = `${uri.toString()}#`;
    for (const k of [...recommendations.keys()]) if (k.startsWith(prefix) && !byFile.has(uri.toString())) recommendations.delete(k);
  }
  for (const [key, list] of byFile) coll.set(files.get(key)!, list);
  if (runKey) published.set(runKey, [...files.values()]);
  return plan.length;
}

/** Remove what publishDfcLogDiagnostics put on these files. */
export function clearDfcLogDiagnostics(...uris: vscode.Uri[]): void {
  for (const u of uris) {
    for (const f of published.get(u.toString()) ?? []) diagnostics().delete(f);
    published.delete(u.toString());
    diagnostics().delete(u);
  }
}

class EndNodesQuickFix implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  constructor(private readonly services: Services) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      const code = typeof d.code === 'object' ? d.code.value : d.code;
      if (d.source !== SOURCE || code !== END_NODES_CODE) continue;
      const rec = recommendations.get(`${doc.uri.toString()}#${d.range.start.line}`);
      if (!rec) continue;
      const action = new vscode.CodeAction("Use the parser's recommended end nodes", vscode.CodeActionKind.QuickFix);
      action.diagnostics = [d];
      action.isPreferred = true;
      action.command = { title: action.title, command: 'hailo.useRecommendedEndNodes', arguments: [{ nodes: rec.nodes, model: rec.model, onnx: doc.uri.scheme === 'file' && /\.onnx$/i.test(doc.uri.fsPath) ? doc.uri.fsPath : undefined, truncated: /the list is cut/.test(d.message) }] };
      out.push(action);
    }
    return out;
  }

  /** Write `endNodes` into the model's entry of hailo.json, keeping its comments; returns the model name. */
  async apply(arg: { nodes: string[]; model?: string; onnx?: string; truncated?: boolean }): Promise<string | undefined> {
    const { endNodesEdits, modelForLog } = (await loadCore()).dfcLogDiagnostics;
    const uri = this.services.project.uri;
    const project = this.services.project.project;
    if (!uri || !project) throw new Error('No valid hailo.json in this workspace: create or fix it, then apply the recommendation again.');
    const model = modelForLog(project, path.dirname(uri.fsPath), { modelName: arg.model, onnxFile: arg.onnx });
    if (!model) {
      const pick = await vscode.window.showQuickPick(project.models.map((m) => m.name), { placeHolder: 'Which model do the recommended end nodes belong to?' });
      if (!pick) return undefined;
      arg = { ...arg, model: pick };
    }
    const name = model ?? arg.model!;
    // the parser's names must be node names of the ONNX: map what can be mapped, refuse the rest
    const entry = project.models.find((m) => m.name === name);
    const onnx = entry ? path.resolve(path.dirname(uri.fsPath), entry.onnx) : undefined;
    if (onnx && fs.existsSync(onnx)) {
      const core = await loadCore();
      const { checkNodeNames, missingNamesText } = core.nodeNames;
      const { openOnnx } = core.onnx;
      const checks = checkNodeNames(arg.nodes, (await openOnnx(onnx)).graph, { truncated: arg.truncated === true });
      const missing = missingNamesText(checks, "parser's recommended end nodes", entry!.onnx);
      if (missing) throw new Error(`${missing} Nothing was written to hailo.json: the parser names nodes of the model it parsed, so re-export or parse ${entry!.onnx} again and use the new recommendation.`);
      for (const c of checks) if (c.status === 'mapped') this.services.log.info(`End node "${c.name}" is "${c.node}" in ${entry!.onnx} (${c.how})`);
      arg = { ...arg, nodes: checks.map((c) => (c.status === 'missing' ? c.name : c.node)) };
    } else {
      this.services.log.warn(`End nodes of "${name}" not checked: ${onnx ?? 'its ONNX'} does not exist yet`);
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const edits = endNodesEdits(doc.getText(), name, arg.nodes);
    if (!edits) throw new Error(`${uri.fsPath}: no model named "${name}" in "models"`);
    const we = new vscode.WorkspaceEdit();
    for (const e of edits) we.replace(uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
    if (!(await vscode.workspace.applyEdit(we))) throw new Error(`${uri.fsPath}: the edit could not be applied`);
    await doc.save();
    this.services.log.info(`Set endNodes of model "${name}" in ${uri.fsPath}: ${arg.nodes.join(', ')}`);
    return name;
  }
}

class SummaryDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  set(uri: vscode.Uri, text: string): void {
    this.texts.set(uri.toString(), text);
    this.emitter.fire(uri);
  }
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

function looksLikeLog(doc: vscode.TextDocument | undefined): boolean {
  if (!doc || doc.uri.scheme === SUMMARY_SCHEME) return false;
  return /\.(log|txt|out)$/i.test(doc.uri.path) || doc.languageId === 'log';
}

export function registerDfcDiagnostics(services: Services): void {
  const { context, log, project } = services;
  const fix = new EndNodesQuickFix(services);
  const summaries = new SummaryDocuments();
  context.subscriptions.push(
    diagnostics(),
    summaries,
    vscode.workspace.registerTextDocumentContentProvider(SUMMARY_SCHEME, summaries),
    vscode.languages.registerCodeActionsProvider([{ scheme: 'file' }], fix, { providedCodeActionKinds: EndNodesQuickFix.kinds }),
    vscode.commands.registerCommand('hailo.useRecommendedEndNodes', command(log, async (arg?: { nodes: string[]; model?: string; onnx?: string; truncated?: boolean }) => {
      if (!arg?.nodes?.length) throw new Error('No recommended end nodes given.');
      const model = await fix.apply(arg);
      if (model) void vscode.window.showInformationMessage(`End nodes of "${model}" set in hailo.json. Parse again to use them.`);
    })),
    vscode.commands.registerCommand('hailo.parseLog', command(log, async (arg?: vscode.Uri) => {
      let uri = arg instanceof vscode.Uri ? arg : undefined;
      const active = vscode.window.activeTextEditor?.document;
      if (!uri && looksLikeLog(active)) uri = active!.uri;
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Parse DFC Log',
          filters: { 'Logs': ['log', 'txt', 'out'], 'All files': ['*'] },
          defaultUri: project.root ? vscode.Uri.file(project.root) : undefined,
        });
        uri = picked?.[0];
      }
      if (!uri) return;
      const core = await loadCore();
      const { parseDfcLogFile, formatDfcLogSummary } = core.dfcLogReport;
      const { loadSourceMap } = core.sourceMap;
      const { modelPaths } = core.projectLoad;
      const { modelForLog } = core.dfcLogDiagnostics;
      const summary = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Parsing ${path.basename(uri.fsPath)}` }, () => parseDfcLogFile(uri!.fsPath));
      const ctx: DfcDiagnosticsContext = { runFile: uri };
      const proj = project.project;
      const root = project.root;
      const modelName = proj && root ? modelForLog(proj, root, { netName: summary.netName }) : undefined;
      if (proj && root && modelName) {
        const m = proj.models.find((x) => x.name === modelName)!;
        const paths = modelPaths(m, root);
        ctx.modelName = modelName;
        ctx.onnxFile = vscode.Uri.file(paths.onnx);
        if (paths.modelScript) ctx.allsFile = vscode.Uri.file(paths.modelScript);
        try {
          ctx.sourceMap = await loadSourceMap(paths.onnx);
        } catch (e) {
          log.warn(`Source map of ${paths.onnx} not used: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (!ctx.allsFile && summary.optimize.modelScript) {
        // the script named in the log, if it exists beside the log or in the project
        for (const base of [path.dirname(uri.fsPath), root].filter((x): x is string => !!x)) {
          const candidate = vscode.Uri.file(path.resolve(base, summary.optimize.modelScript));
          try {
            await vscode.workspace.fs.stat(candidate);
            ctx.allsFile = candidate;
            break;
          } catch {}
        }
      }
      const n = await publishDfcLogDiagnostics(summary, ctx);
      log.info(`Parsed ${uri.fsPath}: ${summary.outcome}, ${summary.errors.length} error(s), ${summary.warnings.length} warning(s); ${n} diagnostic(s)${modelName ? ` for model "${modelName}"` : ''}`);
      const doc = vscode.Uri.from({ scheme: SUMMARY_SCHEME, path: `/${path.basename(uri.fsPath)}.md` });
      summaries.set(doc, formatDfcLogSummary(summary, { file: uri.fsPath, markdown: true }));
      try {
        await vscode.commands.executeCommand('markdown.showPreview', doc);
      } catch {
        await vscode.window.showTextDocument(doc, { preview: true });
      }
    })),
  );
}
