import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DfcLogSummary } from '../core/hailo/dfcLog';
import type { SourceMap } from '../core/graph/sourceMap';
import type { Placement } from '../core/placement';
import { command, type Services } from './services';
import { loadCore } from './core';
import { DiagnosticsPublisher, toDiagnostic } from './diagnostics';

/**
 * DFC logs in the editor: errors of a parsed log become diagnostics (parser errors on the ONNX
 * model and its PyTorch line, model-script errors on the `.alls` line, the rest on the log), the
 * parser's end-node recommendation gets a quick fix that writes `endNodes` into hailo.json, and
 * "Hailo: Parse DFC Log…" shows what a log says.
 */

const SOURCE = 'Hailo DFC';
const SUMMARY_SCHEME = 'hailo-log-summary';

export interface DfcDiagnosticsContext {
  onnxFile?: vscode.Uri;
  allsFile?: vscode.Uri;
  /** The log (or run.json) the summary came from. */
  runFile?: vscode.Uri;
  sourceMap?: SourceMap;
  /** The hailo.json model the log belongs to (for the end-node quick fix). */
  modelName?: string;
  /** The HAR of the logged step (an error naming an HN layer points at it there). */
  harFile?: vscode.Uri;
}

/**
 * The DFC logs' diagnostics (`hailo-dfc`): one publication per log (or run step). A new log of a
 * model replaces what earlier logs put on its ONNX, its script and the log itself.
 */
export class DfcDiagnostics implements vscode.Disposable {
  private readonly published = new DiagnosticsPublisher('hailo-dfc');

  /** Publish a parsed log's findings, placed by the core. Returns the number of diagnostics. */
  async publish(summary: DfcLogSummary, ctx: DfcDiagnosticsContext): Promise<number> {
    const { placeDfcLog } = (await loadCore()).placement;
    let allsText: string | undefined;
    if (ctx.allsFile) {
      try {
        allsText = new TextDecoder().decode(await vscode.workspace.fs.readFile(ctx.allsFile));
      } catch {
        // the script may live only on the compile box; place by pyparsing's line number then
      }
    }
    const plan = placeDfcLog(summary, {
      onnxFile: ctx.onnxFile?.fsPath,
      allsFile: ctx.allsFile?.fsPath,
      allsText,
      logFile: ctx.runFile?.fsPath,
      sourceOf: ctx.sourceMap ? (n) => ctx.sourceMap!.lookup(n) : undefined,
      harFile: ctx.harFile?.fsPath,
    });
    const uriOf = (p: Placement): vscode.Uri => {
      if (p.target === 'onnx' && ctx.onnxFile) return ctx.onnxFile;
      if (p.target === 'alls' && ctx.allsFile) return ctx.allsFile;
      if (p.target === 'log' && ctx.runFile) return ctx.runFile;
      return vscode.Uri.file(p.file);
    };
    const key = (ctx.runFile ?? ctx.onnxFile)?.toString() ?? 'log';
    const items = plan.map((p) => ({ uri: uriOf(p), diagnostic: toDiagnostic(p, SOURCE), placement: p, ...(ctx.modelName ? { tag: ctx.modelName } : {}) }));
    this.published.publish(
      key,
      items,
      [ctx.onnxFile, ctx.allsFile, ctx.runFile].filter((u): u is vscode.Uri => !!u),
    );
    return plan.length;
  }

  /** The parser's recommended end nodes published at this line of this file, with the model they are for. */
  recommendation(uri: vscode.Uri, line: number): { code: string; nodes: string[]; model?: string } | undefined {
    const it = this.published.on(uri).find((x) => x.placement?.endNodes && x.diagnostic.range.start.line === line);
    return it ? { code: it.placement!.code, nodes: it.placement!.endNodes!, ...(it.tag ? { model: it.tag } : {}) } : undefined;
  }

  /** Remove what was published for these logs, and everything on these files. */
  clear(...uris: vscode.Uri[]): void {
    for (const u of uris) this.published.clear(u.toString());
    this.published.clearFiles(uris);
  }

  dispose(): void {
    this.published.dispose();
  }
}

class EndNodesQuickFix implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  constructor(
    private readonly services: Services,
    private readonly published: DfcDiagnostics,
  ) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      const code = typeof d.code === 'object' ? d.code.value : d.code;
      if (d.source !== SOURCE) continue;
      // only the parser's recommendation (code DFC_END_NODES) carries end nodes
      const rec = this.published.recommendation(doc.uri, d.range.start.line);
      if (!rec || code !== rec.code) continue;
      const action = new vscode.CodeAction("Use the parser's recommended end nodes", vscode.CodeActionKind.QuickFix);
      action.diagnostics = [d];
      action.isPreferred = true;
      action.command = {
        title: action.title,
        command: 'hailo.useRecommendedEndNodes',
        arguments: [
          {
            nodes: rec.nodes,
            model: rec.model,
            onnx: doc.uri.scheme === 'file' && /\.onnx$/i.test(doc.uri.fsPath) ? doc.uri.fsPath : undefined,
            truncated: /the list is cut/.test(d.message),
          },
        ],
      };
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
      const pick = await vscode.window.showQuickPick(
        project.models.map((m) => m.name),
        { placeHolder: 'Which model do the recommended end nodes belong to?' },
      );
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
      if (missing)
        throw new Error(
          `${missing} Nothing was written to hailo.json: the parser names nodes of the model it parsed, so re-export or parse ${entry!.onnx} again and use the new recommendation.`,
        );
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
  const dfc = new DfcDiagnostics();
  services.dfcDiagnostics = dfc;
  const fix = new EndNodesQuickFix(services, dfc);
  const summaries = new SummaryDocuments();
  context.subscriptions.push(
    dfc,
    summaries,
    vscode.workspace.registerTextDocumentContentProvider(SUMMARY_SCHEME, summaries),
    vscode.languages.registerCodeActionsProvider([{ scheme: 'file' }], fix, { providedCodeActionKinds: EndNodesQuickFix.kinds }),
    vscode.commands.registerCommand(
      'hailo.useRecommendedEndNodes',
      command(log, async (arg?: { nodes: string[]; model?: string; onnx?: string; truncated?: boolean }) => {
        if (!arg?.nodes?.length) throw new Error('No recommended end nodes given.');
        const model = await fix.apply(arg);
        if (model) void vscode.window.showInformationMessage(`End nodes of "${model}" set in hailo.json. Parse again to use them.`);
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.parseLog',
      command(log, async (arg?: vscode.Uri) => {
        let uri = arg instanceof vscode.Uri ? arg : undefined;
        const active = vscode.window.activeTextEditor?.document;
        if (!uri && looksLikeLog(active)) uri = active!.uri;
        if (!uri) {
          const picked = await vscode.window.showOpenDialog({
            canSelectMany: false,
            openLabel: 'Parse DFC Log',
            filters: { Logs: ['log', 'txt', 'out'], 'All files': ['*'] },
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
        const summary = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Parsing ${path.basename(uri.fsPath)}` }, () =>
          parseDfcLogFile(uri!.fsPath),
        );
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
        const har = await harBeside(uri, summary.netName);
        if (har) ctx.harFile = har;
        const n = await dfc.publish(summary, ctx);
        log.info(
          `Parsed ${uri.fsPath}: ${summary.outcome}, ${summary.errors.length} error(s), ${summary.warnings.length} warning(s); ${n} diagnostic(s)${modelName ? ` for model "${modelName}"` : ''}`,
        );
        const doc = vscode.Uri.from({ scheme: SUMMARY_SCHEME, path: `/${path.basename(uri.fsPath)}.md` });
        summaries.set(doc, formatDfcLogSummary(summary, { file: uri.fsPath, markdown: true }));
        try {
          await vscode.commands.executeCommand('markdown.showPreview', doc);
        } catch {
          await vscode.window.showTextDocument(doc, { preview: true });
        }
      }),
    ),
  );
}

/**
 * The HAR a log is about, beside it (a run folder, or where the user keeps the log): the net's
 * `<net>.har`, else the only `.har` there. Undefined when there is none or several.
 */
export async function harBeside(log: vscode.Uri, netName: string | undefined): Promise<vscode.Uri | undefined> {
  const dir = vscode.Uri.file(path.dirname(log.fsPath));
  let entries: [string, vscode.FileType][];
  try {
    entries = await vscode.workspace.fs.readDirectory(dir);
  } catch {
    return undefined;
  }
  const hars = entries.filter(([n, t]) => t === vscode.FileType.File && n.toLowerCase().endsWith('.har')).map(([n]) => n);
  const pick = (netName && hars.find((n) => n === `${netName}.har`)) || (hars.length === 1 ? hars[0] : undefined);
  return pick ? vscode.Uri.joinPath(dir, pick) : undefined;
}
