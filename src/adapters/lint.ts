import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Finding } from '../core/finding';
import { ruleLink } from './codeActions';
import { setting } from './config';
import { withSignal, type Services } from './services';
import { isCancelled, loadCore, loadedCore } from './core';
import { DiagnosticsPublisher, toDiagnostic } from './diagnostics';

/**
 * Lint findings as Problems-panel diagnostics (`hailo-lint`): on the .onnx file, on the PyTorch
 * lines of the export's source map (with the ONNX node as related information), and on the
 * hailo.json line of a broken shape contract. Each diagnostic's code links to the rule in the
 * documentation shipped with the extension (media/docs/rules.md).
 */
export class LintService implements vscode.Disposable {
  /** One publication per linted model (several models may share a .py file). */
  private readonly published = new DiagnosticsPublisher('hailo-lint');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Models open in the model editor: their document re-reads and publishes on change itself. */
  readonly openInEditor = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [this.published];

  constructor(private readonly services: Services) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.onnx');
    const changed = (uri: vscode.Uri) => {
      if (!setting('lintOnSave', uri) || this.openInEditor.has(uri.toString())) return;
      if (this.published.has(uri.toString()) || this.isProjectModel(uri)) this.schedule(uri);
    };
    watcher.onDidChange(changed, undefined, this.disposables);
    watcher.onDidCreate(changed, undefined, this.disposables);
    watcher.onDidDelete((uri) => this.clear(uri), undefined, this.disposables);
    this.disposables.push(watcher);
    // the contract lives in hailo.json: lint the models seen so far again when it changes
    services.project.onDidChange(
      () => {
        for (const key of this.published.keys()) if (!this.openInEditor.has(key)) this.schedule(vscode.Uri.parse(key));
      },
      undefined,
      this.disposables,
    );
  }

  private isProjectModel(uri: vscode.Uri): boolean {
    const root = this.services.project.root;
    const project = this.services.project.project;
    if (!root || !project) return false;
    return project.models.some((m) => path.resolve(root, m.onnx) === uri.fsPath);
  }

  /** Lint again shortly (an export writes the file in several steps). */
  schedule(uri: vscode.Uri, delayMs = 400): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.lintFile(uri).catch((e) => this.services.log.warn(`Lint of ${uri.fsPath} failed: ${e instanceof Error ? e.message : String(e)}`));
      }, delayMs),
    );
  }

  /** The project file to take expected shapes from, when the workspace has a valid one. */
  projectFile(): string | undefined {
    return this.services.project.project && this.services.project.uri ? this.services.project.uri.fsPath : undefined;
  }

  /**
   * Read and lint one model, publish its diagnostics, return the findings. Typed read errors are
   * thrown (the caller shows them); the model's old diagnostics are cleared then.
   */
  async lintFile(uri: vscode.Uri, signal?: AbortSignal): Promise<Finding[]> {
    const { lintOnnxFile } = (await loadCore()).lintFile;
    const t0 = performance.now();
    try {
      const projectFile = this.projectFile();
      const r = await lintOnnxFile(uri.fsPath, { ...(projectFile ? { projectFile } : {}), ...(signal ? { signal } : {}) });
      for (const n of r.notes) this.services.log.warn(n);
      this.publish(uri, r.findings);
      this.services.log.info(`Linted ${uri.fsPath} for ${r.hwArch}: ${r.findings.length} finding(s) in ${(performance.now() - t0).toFixed(0)} ms`);
      return r.findings;
    } catch (e) {
      if (!isCancelled(e)) this.clear(uri);
      throw e;
    }
  }

  clear(modelUri: vscode.Uri): void {
    this.published.clear(modelUri.toString());
  }

  /** Replace a model's diagnostics with those of `findings`: placed by the core, each code linking to its rule. */
  publish(modelUri: vscode.Uri, findings: Finding[]): void {
    const core = loadedCore();
    const items = findings.flatMap((f) => {
      const code = { value: f.code, target: ruleLink(this.services.context, f.code) };
      return core.placement
        .placeLintFinding(f, modelUri.fsPath)
        .map((p) => ({ uri: p.target === 'onnx' ? modelUri : vscode.Uri.file(p.file), diagnostic: toDiagnostic(p, 'Hailo lint', code), placement: p }));
    });
    this.published.publish(modelUri.toString(), items);
  }

  /**
   * What the Problems panel shows for one model: its diagnostics on every file (the .onnx, each
   * Python line of the source map, hailo.json), by severity. A finding on three Python lines
   * counts three times there, so the status bar counts the same way.
   */
  problemCounts(modelUri: vscode.Uri): { errors: number; warnings: number; infos: number; entries: number; files: number; findings: number } {
    const byFile = this.published.files(modelUri.toString());
    const c = { errors: 0, warnings: 0, infos: 0, entries: 0, files: 0, findings: 0 };
    for (const list of byFile?.values() ?? []) {
      if (list.length) c.files++;
      for (const { diagnostic: d } of list) {
        c.entries++;
        if (d.severity === vscode.DiagnosticSeverity.Error) c.errors++;
        else if (d.severity === vscode.DiagnosticSeverity.Warning) c.warnings++;
        else c.infos++;
      }
    }
    // each finding has exactly one entry on the model file
    c.findings = byFile?.get(modelUri.toString())?.length ?? 0;
    return c;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

/** The status bar text after a lint: the counts the Problems panel shows, and how many findings they come from. */
export function statusText(file: string, c: { errors: number; warnings: number; infos: number; files: number; findings: number }): string {
  const n = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
  return `Hailo lint: ${file}: ${n(c.errors, 'error')}, ${n(c.warnings, 'warning')}, ${n(c.infos, 'note')} in Problems (${n(c.findings, 'finding')} on ${n(c.files, 'file')})`;
}

/** The .onnx of the active editor: the model editor's tab or a text editor. */
function activeModelUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && /\.onnx$/i.test(input.uri.fsPath)) return input.uri;
  const doc = vscode.window.activeTextEditor?.document.uri;
  return doc && /\.onnx$/i.test(doc.fsPath) ? doc : undefined;
}

async function pickModel(services: Services): Promise<vscode.Uri | undefined> {
  // right after activation the project file may not be read yet: its models belong in the list
  if (!services.project.project) await services.project.reload();
  const root = services.project.root;
  const items: (vscode.QuickPickItem & { uri?: vscode.Uri })[] = [];
  if (root && services.project.project) {
    for (const m of services.project.project.models) {
      const uri = vscode.Uri.file(path.resolve(root, m.onnx));
      items.push({ label: m.name, description: m.onnx, uri });
    }
  }
  items.push({ label: '$(file) Choose an ONNX file…' });
  const pick = await vscode.window.showQuickPick(items, { placeHolder: 'Model to lint for Hailo', matchOnDescription: true });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX models': ['onnx'] }, openLabel: 'Lint for Hailo' });
  return files?.[0];
}

/**
 * `hailo.lintModel [uri]`: lints the given model, else the active one, else a picked one; shows
 * progress with cancel and returns the findings (for callers such as the export).
 */
export function registerLint(services: Services): LintService {
  const lint = new LintService(services);
  services.context.subscriptions.push(
    lint,
    vscode.commands.registerCommand('hailo.lintModel', async (arg?: vscode.Uri | string): Promise<Finding[] | undefined> => {
      const uri = typeof arg === 'string' ? vscode.Uri.file(arg) : arg instanceof vscode.Uri ? arg : (activeModelUri() ?? (await pickModel(services)));
      if (!uri) return undefined;
      try {
        const findings = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Hailo: linting ${path.basename(uri.fsPath)}`, cancellable: true },
          (_p, token) => withSignal(token, (signal) => lint.lintFile(uri, signal)),
        );
        void vscode.window.setStatusBarMessage(statusText(path.basename(uri.fsPath), lint.problemCounts(uri)), 8000);
        return findings;
      } catch (e) {
        if (isCancelled(e)) return undefined;
        const message = e instanceof Error ? e.message : String(e);
        services.log.error(`Lint failed: ${message}`);
        void vscode.window.showErrorMessage(`Cannot lint ${path.basename(uri.fsPath)}: ${message}`, 'Show Log').then((choice) => {
          if (choice) services.log.show();
        });
        return undefined;
      }
    }),
  );
  return lint;
}
