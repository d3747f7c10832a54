import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ParsedProject } from '../core/project/load';
import type { ProjectFile } from '../core/project/schema';
import { loadCore, PROJECT_FILE_NAME } from './core';
import type { ChannelLogger } from './logger';

/** What a command that needs the project says when the workspace has no hailo.json. */
export const NO_PROJECT_MESSAGE = 'No hailo.json in this workspace; create one with "Hailo: Create Project File"';

/**
 * Owns the workspace's hailo.json: finds it, re-reads it on change, publishes its problems as
 * diagnostics on the exact JSON path, and tells listeners when the project changes.
 */
export class ProjectService implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('hailo-project');
  private readonly emitter = new vscode.EventEmitter<ProjectService>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.diagnostics, this.emitter];
  private parsed: ParsedProject | undefined;

  constructor(private readonly log: ChannelLogger) {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${PROJECT_FILE_NAME}`);
    const reload = (uri: vscode.Uri) => {
      if (this.isProjectUri(uri)) void this.reload();
    };
    watcher.onDidCreate(reload, undefined, this.disposables);
    watcher.onDidChange(reload, undefined, this.disposables);
    watcher.onDidDelete(reload, undefined, this.disposables);
    this.disposables.push(watcher);
    // validate as the user types, not only on save
    vscode.workspace.onDidChangeTextDocument(
      (e) => {
        if (!this.isProjectUri(e.document.uri)) return;
        const text = e.document.getText();
        void loadParser().then((parse) => this.apply(parse(text, e.document.uri.fsPath), e.document));
      },
      undefined,
      this.disposables,
    );
    vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reload(), undefined, this.disposables);
  }

  /** hailo.json at the root of the first workspace folder. */
  get uri(): vscode.Uri | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? vscode.Uri.joinPath(folder.uri, PROJECT_FILE_NAME) : undefined;
  }
  get root(): string | undefined {
    return this.uri ? path.dirname(this.uri.fsPath) : undefined;
  }
  /** The valid project, or undefined when there is none or it has errors. */
  get project(): ProjectFile | undefined {
    return this.parsed?.project;
  }
  get exists(): boolean {
    return this.parsed !== undefined;
  }
  /** The valid project and its folder; throws, saying what is wrong, when there is none. */
  require(): { project: ProjectFile; root: string } {
    const project = this.project;
    const root = this.root;
    if (!project || !root) throw new Error(this.exists ? 'hailo.json has problems; fix them first (see the Problems view)' : NO_PROJECT_MESSAGE);
    return { project, root };
  }
  get problems() {
    return this.parsed?.problems ?? [];
  }

  private isProjectUri(uri: vscode.Uri): boolean {
    return this.uri !== undefined && uri.toString() === this.uri.toString();
  }

  async reload(): Promise<void> {
    const uri = this.uri;
    if (!uri) return this.apply(undefined);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    try {
      // an open document's text is what the user sees, but only while it has unsaved changes: a
      // closed editor's document can linger after the file was deleted or changed on disk
      const text = open?.isDirty ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      this.apply((await loadParser())(text, uri.fsPath));
    } catch (e) {
      if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') return this.apply(undefined);
      this.log.error(`Cannot read ${uri.fsPath}: ${String(e)}`);
      this.apply(undefined);
    }
  }

  private apply(parsed: ParsedProject | undefined, doc?: vscode.TextDocument): void {
    this.parsed = parsed;
    void vscode.commands.executeCommand('setContext', 'hailo.hasProject', parsed !== undefined);
    void vscode.commands.executeCommand('setContext', 'hailo.hasModels', (parsed?.project?.models.length ?? 0) > 0);
    this.diagnostics.clear();
    if (parsed && this.uri) {
      const at = (offset: number) => (doc ? doc.positionAt(offset) : positionAt(parsed.text, offset));
      const diags = parsed.problems.map((p) => {
        const d = new vscode.Diagnostic(
          new vscode.Range(at(p.offset), at(p.offset + p.length)),
          p.message,
          p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
        );
        d.source = 'hailo';
        d.code = 'project';
        return d;
      });
      this.diagnostics.set(this.uri, diags);
      if (diags.length) this.log.warn(`${parsed.file}: ${diags.length} problem(s)`);
    }
    this.emitter.fire(this);
  }

  /** Write a starter hailo.json (never overwrites) and open it. */
  async create(): Promise<vscode.Uri | undefined> {
    const uri = this.uri;
    if (!uri) {
      void vscode.window.showErrorMessage('Open a folder first: the project file lives at the root of the workspace folder.');
      return undefined;
    }
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode((await loadCore()).projectTemplate.projectTemplate()));
      this.log.info(`Created ${uri.fsPath}`);
      await vscode.window.showTextDocument(uri);
      await this.reload();
      // an offer, not a step: the command is done once the file is written
      void this.offerModuleFromWorkspace().catch((e) => this.log.warn(`Looking for PyTorch modules failed: ${e instanceof Error ? e.message : String(e)}`));
      return uri;
    }
    await vscode.window.showTextDocument(uri);
    await this.reload();
    return uri;
  }

  /** After creating the file: offer the PyTorch modules of the workspace that can be added as they are. */
  private async offerModuleFromWorkspace(): Promise<void> {
    const root = this.root;
    if (!root) return;
    const { outlinePython, exportLenses, moduleNameOf } = (await loadCore()).pythonSource;
    const files = await vscode.workspace.findFiles('**/*.py', '{**/node_modules/**,**/.venv/**,**/venv/**,**/site-packages/**,**/.git/**}', 500);
    const found: (vscode.QuickPickItem & { uri?: vscode.Uri; className?: string; entry?: string })[] = [];
    for (const f of files) {
      const mod = moduleNameOf(path.relative(root, f.fsPath));
      if (!mod) continue;
      let text: string;
      try {
        const bytes = await vscode.workspace.fs.readFile(f);
        if (bytes.byteLength > 512 * 1024) continue;
        text = new TextDecoder().decode(bytes);
      } catch {
        continue;
      }
      if (!/\bModule\b/.test(text)) continue;
      for (const l of exportLenses(outlinePython(text), mod, [])) {
        if (l.kind === 'add' && l.entry)
          found.push({
            label: l.className ?? l.entry,
            description: l.entry,
            detail: path.relative(root, f.fsPath),
            uri: f,
            className: l.className,
            entry: l.entry,
          });
      }
    }
    if (!found.length) return;
    found.push({ label: 'No model for now', description: 'add one later with "Add to hailo.json" in the Python file' });
    const pick = await vscode.window.showQuickPick(found, {
      title: 'Start hailo.json from a module of this workspace',
      placeHolder: 'The module to export (it runs once to record its outputs)',
    });
    if (pick?.uri && pick.className && pick.entry) await vscode.commands.executeCommand('hailo.addModelToProject', pick.uri, pick.className, pick.entry);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The parser and its zod schema load on first use, not at activation: zod is most of the code
 * the extension host would otherwise evaluate before activate() runs.
 */
let parser: Promise<typeof import('../core/project/load').parseProjectText> | undefined;
function loadParser() {
  return (parser ??= loadCore().then((c) => c.projectLoad.parseProjectText));
}

function positionAt(text: string, offset: number): vscode.Position {
  let line = 0;
  let last = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i + 1;
    }
  }
  return new vscode.Position(line, Math.max(0, Math.min(offset, text.length) - last));
}
