import * as vscode from 'vscode';
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { LedgerEntry, LedgerKind, LedgerStage } from '../core/analysis/ledger';
import type { LedgerInputs, LedgerRunResult } from '../core/analysis/ledgerRun';
import { command, withSignal, type Services } from './services';
import { isCancelled, loadCore, loadedCore } from './core';
import { DiagnosticsPublisher, toDiagnostic } from './diagnostics';

/**
 * The rewrite ledger in the editor: the "Rewrites" tree (grouped by kind, then module scope), the
 * `hailo-ledger` diagnostics on the user's PyTorch lines and on the ONNX file, the "Compare Model
 * with HAR" command, and a fresh ledger after every pipeline step.
 */

const KIND_ORDER: LedgerKind[] = ['decomposed', 'fused', 'removed', 'added', 'layout', 'host', 'unmatched', 'kept'];
const KIND_LABEL: Record<LedgerKind, string> = {
  decomposed: 'Decomposed (1 → N)',
  fused: 'Fused (N → 1)',
  removed: 'Removed by the compiler',
  added: 'Added by the compiler',
  layout: 'Shape or layout changed',
  host: 'Moved to the host',
  unmatched: 'Unmatched',
  kept: 'Kept 1:1',
};
const KIND_ICON: Record<LedgerKind, string> = {
  decomposed: 'split-horizontal',
  fused: 'merge',
  removed: 'trash',
  added: 'add',
  layout: 'symbol-array',
  host: 'vm',
  unmatched: 'question',
  kept: 'pass',
};

type Item =
  | { type: 'kind'; kind: LedgerKind; entries: LedgerEntry[] }
  | { type: 'scope'; kind: LedgerKind; scope: string; entries: LedgerEntry[] }
  | { type: 'entry'; entry: LedgerEntry; group?: string }
  | { type: 'failure'; failure: LedgerFailure }
  | { type: 'failedFile'; file: string }
  | { type: 'retry'; failure: LedgerFailure };

/** A comparison that could not be made: shown in the view with the file and a retry. */
interface LedgerFailure {
  message: string;
  /** The file the error is about (a truncated HAR), when it names one. */
  file: string | undefined;
  inputs: LedgerInputs;
  why: string;
}

class RewritesView implements vscode.TreeDataProvider<Item>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  result: LedgerRunResult | undefined;
  failure: LedgerFailure | undefined;

  set(result: LedgerRunResult | undefined): void {
    this.result = result;
    this.failure = undefined;
    this.emitter.fire(undefined);
  }

  fail(failure: LedgerFailure): void {
    this.result = undefined;
    this.failure = failure;
    this.emitter.fire(undefined);
  }

  getTreeItem(item: Item): vscode.TreeItem {
    if (item.type === 'failure') {
      // the file has its own row below: the label keeps the reason
      const first = item.failure.message.split('\n')[0]!;
      const f = item.failure.file;
      const t = new vscode.TreeItem(`Failed: ${f && first.startsWith(`${f}: `) ? first.slice(f.length + 2) : first}`, vscode.TreeItemCollapsibleState.None);
      t.id = 'failure';
      t.tooltip = item.failure.message;
      t.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
      return t;
    }
    if (item.type === 'failedFile') {
      const t = new vscode.TreeItem(path.basename(item.file), vscode.TreeItemCollapsibleState.None);
      t.id = 'failedFile';
      t.description = path.dirname(item.file);
      t.resourceUri = vscode.Uri.file(item.file);
      t.tooltip = `${item.file}: reveal in the explorer`;
      t.iconPath = new vscode.ThemeIcon('file');
      t.command = { command: 'revealInExplorer', title: 'Reveal in Explorer', arguments: [vscode.Uri.file(item.file)] };
      return t;
    }
    if (item.type === 'retry') {
      const t = new vscode.TreeItem('Retry the comparison', vscode.TreeItemCollapsibleState.None);
      t.id = 'retry';
      t.description = `${path.basename(item.failure.inputs.onnxFile)} vs ${path.basename(item.failure.inputs.hailoFile)}`;
      t.iconPath = new vscode.ThemeIcon('refresh');
      t.command = { command: 'hailo.retryRewriteLedger', title: 'Retry' };
      return t;
    }
    if (item.type === 'kind') {
      const t = new vscode.TreeItem(
        KIND_LABEL[item.kind],
        item.kind === 'kept' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded,
      );
      t.id = `kind:${item.kind}`;
      t.description = String(item.entries.length);
      t.iconPath = new vscode.ThemeIcon(KIND_ICON[item.kind]);
      t.contextValue = 'hailoRewriteKind';
      return t;
    }
    if (item.type === 'scope') {
      const t = new vscode.TreeItem(item.scope || '(top level)', vscode.TreeItemCollapsibleState.Collapsed);
      t.id = `scope:${item.kind}:${item.scope}`;
      t.description = String(item.entries.length);
      t.iconPath = new vscode.ThemeIcon('symbol-namespace');
      return t;
    }
    const e = item.entry;
    const r = this.result!;
    const t = new vscode.TreeItem(entryLabel(e, item.group), vscode.TreeItemCollapsibleState.None);
    t.id = `entry:${e.id}`;
    t.description = entryDescription(e);
    const md = new vscode.MarkdownString();
    md.appendText(e.note);
    md.appendMarkdown(`\n\n**Evidence:** ${e.evidence.join(', ') || 'none'}${e.structural ? ' (graph structure only: an interpretation)' : ''}`);
    if (e.contexts.length) md.appendMarkdown(`\n\n**Context:** ${e.contexts.join(', ')}`);
    if (e.source) md.appendMarkdown(`\n\n**Source:** ${path.basename(e.source.file)}:${e.source.line}${e.source.module ? ` (${e.source.module})` : ''}`);
    t.tooltip = md;
    t.iconPath = new vscode.ThemeIcon(e.structural ? 'question' : KIND_ICON[e.kind]);
    t.contextValue = `hailoRewrite.${e.kind}`;
    if (e.source) {
      const line = Math.max(0, e.source.line - 1);
      t.command = {
        command: 'vscode.open',
        title: 'Reveal Python line',
        arguments: [vscode.Uri.file(e.source.file), { selection: new vscode.Range(line, 0, line, 0) } satisfies vscode.TextDocumentShowOptions],
      };
    } else if (r.files.onnx) {
      // no Python line: the model editor at the entry's node, in the Graph tab
      const node = e.onnxNodes[0] ?? e.onnxTensors[0];
      t.command = node
        ? { command: 'hailo.showInGraph', title: 'Show in Graph', arguments: [vscode.Uri.file(r.files.onnx), node] }
        : { command: 'vscode.openWith', title: 'Open the ONNX model', arguments: [vscode.Uri.file(r.files.onnx), 'hailo.modelEditor'] };
    }
    return t;
  }

  getChildren(item?: Item): Item[] {
    const f = this.failure;
    if (f) {
      if (item) return [];
      return [{ type: 'failure', failure: f }, ...(f.file ? [{ type: 'failedFile' as const, file: f.file }] : []), { type: 'retry', failure: f }];
    }
    const r = this.result;
    if (!r) return [];
    if (!item) {
      return KIND_ORDER.map((kind) => ({ type: 'kind' as const, kind, entries: r.ledger.entries.filter((e) => e.kind === kind) })).filter(
        (k) => k.entries.length,
      );
    }
    if (item.type === 'kind') {
      const groups = new Map<string, LedgerEntry[]>();
      for (const e of item.entries) {
        const g = loadedCore().ledger.scopeGroup(e.scope);
        groups.set(g, [...(groups.get(g) ?? []), e]);
      }
      if (groups.size <= 1) return item.entries.map((entry) => ({ type: 'entry', entry }));
      return [...groups].map(([scope, entries]) => ({ type: 'scope', kind: item.kind, scope, entries }));
    }
    if (item.type === 'scope') return item.entries.map((entry) => ({ type: 'entry', entry, group: item.scope }));
    return [];
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

function short(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** Under a scope row ("blocks.0") the node is named from inside that scope: the full path repeats the scope and gets cut off. */
function entryLabel(e: LedgerEntry, group?: string): string {
  if (e.onnxTensors.length) return e.onnxTensors.join(', ');
  if (e.onnxNodes.length === 1) {
    const node = e.onnxNodes[0]!;
    const prefix = group ? `/${group}/` : '';
    return `${e.onnxOps[0]} ${prefix && node.startsWith(prefix) && node.length > prefix.length ? node.slice(prefix.length) : node}`;
  }
  if (e.onnxNodes.length) return `${e.onnxNodes.length} nodes: ${[...new Set(e.onnxOps)].slice(0, 3).join(', ')}`;
  return short(e.hnLayers[0] ?? e.id);
}

function entryDescription(e: LedgerEntry): string {
  const layers = e.hnLayers.map(short);
  const ctx = e.contexts.length ? ` · ctx ${e.contexts.join(',')}` : '';
  switch (e.kind) {
    case 'removed':
    case 'host':
    case 'unmatched':
      return (layers.length ? `→ ${layers.join(', ')}` : 'no HN layer') + ctx;
    case 'added':
      return `${e.hnTypes[0]}${ctx}`;
    default:
      return `→ ${layers.slice(0, 4).join(', ')}${layers.length > 4 ? ` +${layers.length - 4}` : ''}${e.compilerLayers.length ? ` (${e.compilerLayers.length} compiler pieces)` : ''}${ctx}`;
  }
}

/** Programmatic arguments of hailo.compareModelWithHar (tests and other commands). */
export interface CompareArgs {
  onnx: string;
  har: string;
  parseLog?: string;
  compileLog?: string;
  stage?: LedgerStage;
}

function isCompareArgs(a: unknown): a is CompareArgs {
  return typeof a === 'object' && a !== null && typeof (a as CompareArgs).onnx === 'string' && typeof (a as CompareArgs).har === 'string';
}

/** A DFC log's step, from its content. */
function logKind(file: string): 'parse' | 'compile' | undefined {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(1024 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      text = buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (/Validating layers feasibility|allocation and compilation flow|Successful Compilation/.test(text)) return 'compile';
  if (/Start nodes mapped from original model|Translation started on ONNX model/.test(text)) return 'parse';
  return undefined;
}

const LEDGER_KEY = 'comparison';

export function registerRewrites(services: Services): void {
  const { context, log } = services;
  const view = new RewritesView();
  // one comparison at a time: each replaces the previous one's diagnostics
  const diagnostics = new DiagnosticsPublisher('hailo-ledger');
  const tree = vscode.window.createTreeView('hailo.rewrites', { treeDataProvider: view, showCollapseAll: true });
  context.subscriptions.push(view, diagnostics, tree);
  let running: AbortController | undefined;
  // a comparison goes stale when either file changes (a new export, a new parse): say so and drop its diagnostics
  let watchers: vscode.Disposable[] = [];
  const watch = (files: string[]) => {
    for (const w of watchers) w.dispose();
    watchers = files.map((f) => {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(f)), path.basename(f)), true, false, false);
      const stale = () => {
        diagnostics.clear(LEDGER_KEY);
        tree.message = `${path.basename(f)} changed since this comparison; compare again for current results.`;
      };
      w.onDidChange(stale);
      w.onDidDelete(stale);
      return w;
    });
  };
  context.subscriptions.push({ dispose: () => watchers.forEach((w) => w.dispose()) });

  const compare = async (inputs: LedgerInputs, why: string, signal?: AbortSignal): Promise<LedgerRunResult> => {
    const { runLedger } = (await loadCore()).ledgerRun;
    let r: LedgerRunResult;
    try {
      r = await runLedger({ ...inputs, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (!isCancelled(e)) {
        const message = e instanceof Error ? e.message : String(e);
        const file =
          (e as { file?: string }).file ?? [inputs.hailoFile, inputs.onnxFile].find((f) => message.includes(f) || message.includes(path.basename(f)));
        view.fail({ message, file, inputs, why });
        diagnostics.clear(LEDGER_KEY);
        tree.description = `${path.basename(inputs.onnxFile)} vs ${path.basename(inputs.hailoFile)}`;
        tree.message = why === 'compared' ? 'The comparison could not be made:' : `The rewrite ledger ${why} could not be made:`;
      }
      throw e;
    }
    const l = r.ledger;
    view.set(r);
    tree.description = `${path.basename(inputs.onnxFile)} vs ${path.basename(inputs.hailoFile)} · ${l.stage}${l.dfcVersion ? ` · DFC ${l.dfcVersion}` : ''}`;
    tree.message = `${why}: ${l.stats.onnxNodes} ONNX nodes, ${l.stats.hnLayers} HN layers. ${KIND_ORDER.filter((k) => l.counts[k])
      .map((k) => `${l.counts[k]} ${k}`)
      .join(', ')}.${l.contexts?.count ? ` ${l.contexts.count} context(s).` : ''}`;
    const { placeLedgerFinding } = loadedCore().placement;
    diagnostics.publish(
      LEDGER_KEY,
      r.findings.flatMap((f) =>
        placeLedgerFinding(f, r.files.onnx).map((p) => ({ uri: vscode.Uri.file(p.file), diagnostic: toDiagnostic(p, 'Hailo rewrites'), placement: p })),
      ),
    );
    watch([inputs.onnxFile, inputs.hailoFile]);
    log.info(
      `Rewrite ledger (${why}): ${inputs.onnxFile} vs ${inputs.hailoFile}: ${JSON.stringify(l.counts)} in ${r.timings.ledger.toFixed(0)} ms (read ONNX ${r.timings.readOnnx.toFixed(0)} ms, HAR ${r.timings.readHailo.toFixed(0)} ms)`,
    );
    for (const w of r.warnings) log.warn(`Rewrite ledger: ${w}`);
    return r;
  };

  const pickInputs = async (arg: unknown): Promise<LedgerInputs | undefined> => {
    if (isCompareArgs(arg)) {
      return {
        onnxFile: arg.onnx,
        hailoFile: arg.har,
        ...(arg.parseLog ? { parseLogFile: arg.parseLog } : {}),
        ...(arg.compileLog ? { compileLogFile: arg.compileLog } : {}),
        ...(arg.stage ? { stage: arg.stage } : {}),
      };
    }
    const root = services.project.root;
    const argUri = arg instanceof vscode.Uri ? arg : undefined;
    let onnx = argUri && /\.onnx$/i.test(argUri.fsPath) ? argUri : undefined;
    let har = argUri && /\.(har|hn)$/i.test(argUri.fsPath) ? argUri : undefined;
    const defaultDir = root ? vscode.Uri.file(root) : undefined;
    if (!onnx) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Compare Model with HAR: the ONNX model',
        filters: { 'ONNX model': ['onnx'] },
        canSelectMany: false,
        ...(defaultDir ? { defaultUri: defaultDir } : {}),
      });
      onnx = picked?.[0];
      if (!onnx) return undefined;
    }
    if (!har) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Compare Model with HAR: the HAR (or HN) to compare with',
        filters: { 'Hailo archive or HN': ['har', 'hn'] },
        canSelectMany: false,
        defaultUri: vscode.Uri.file(path.dirname(onnx.fsPath)),
      });
      har = picked?.[0];
      if (!har) return undefined;
    }
    // logs beside the HAR: offer them, pre-selecting the ones that look like parse/compile logs
    const dir = path.dirname(har.fsPath);
    let logs: string[] = [];
    try {
      logs = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.log'))
        .map((f) => path.join(dir, f));
    } catch {}
    const inputs: LedgerInputs = { onnxFile: onnx.fsPath, hailoFile: har.fsPath };
    if (logs.length) {
      const items = logs.map((f) => ({
        label: path.basename(f),
        description: logKind(f) ?? 'not a parse or compile log',
        picked: logKind(f) !== undefined,
        file: f,
      }));
      const chosen = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'DFC logs to use (start/end nodes, compiler layers, contexts)' });
      if (!chosen) return undefined;
      for (const c of chosen) {
        const k = logKind(c.file);
        if (k === 'parse') inputs.parseLogFile = c.file;
        else if (k === 'compile') inputs.compileLogFile = c.file;
      }
    }
    return inputs;
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(
      'hailo.retryRewriteLedger',
      command(log, async () => {
        const f = view.failure;
        if (!f) return;
        running?.abort();
        const ac = (running = new AbortController());
        await vscode.window.withProgress({ location: { viewId: 'hailo.rewrites' } }, () => compare(f.inputs, f.why, ac.signal));
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.compareModelWithHar',
      command(log, async (arg?: unknown) => {
        const inputs = await pickInputs(arg);
        if (!inputs) return;
        running?.abort();
        const ac = (running = new AbortController());
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Comparing model with HAR', cancellable: true },
          (_p, token) => withSignal(token, (signal) => compare(inputs, 'compared', signal), ac),
        );
        await vscode.commands.executeCommand('hailo.rewrites.focus');
      }),
    ),
  );

  // a fresh ledger after every pipeline step that succeeded
  const runs = services.runs;
  if (runs) {
    context.subscriptions.push(
      runs.onDidFinishStep(async (ev) => {
        if (!ev.ok) return;
        try {
          const { ledgerInputsFromRun } = (await loadCore()).ledgerRun;
          let fallback: string | undefined;
          const project = services.project.project;
          const root = services.project.root;
          if (project && root) {
            const { findModel, modelPaths } = (await loadCore()).projectLoad;
            try {
              fallback = modelPaths(findModel(project, ev.model), root).onnx;
            } catch {
              // the model left hailo.json since the run started: the run's own ONNX input is used
            }
          }
          const found = await ledgerInputsFromRun(ev.runDir, ev.step, fallback);
          if ('reason' in found) {
            log.info(`Rewrite ledger skipped after ${ev.step}: ${found.reason}`);
            return;
          }
          running?.abort();
          const ac = (running = new AbortController());
          const r = await vscode.window.withProgress({ location: { viewId: 'hailo.rewrites' } }, () =>
            compare(found.inputs, `after ${ev.step} of ${found.model}`, ac.signal),
          );
          // the run keeps its rewrites by kind: the Runs view and Compare Runs show them
          try {
            (await loadCore()).runCompare.writeRunRewrites(ev.runDir, r.ledger);
          } catch (e) {
            log.warn(`${path.join(ev.runDir, 'rewrites.json')}: not written (${e instanceof Error ? e.message : String(e)})`);
          }
        } catch (e) {
          if (isCancelled(e)) return;
          log.warn(`Rewrite ledger after ${ev.step} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
    );
  }
}
