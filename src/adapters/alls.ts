import * as vscode from 'vscode';
import { ruleLink } from './codeActions';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AllsFinding } from '../core/hailo/alls/validate';
import type { CompletionEntry, DefinitionTarget } from '../core/hailo/alls/language';
import type { LayerCatalog, LayerIndex } from '../core/hailo/alls/layers';
import type { Script } from '../core/hailo/alls/parser';
import { queueGraphReveal } from './modelEditor';
import { command, type Services } from './services';
import { loadCore, loadedCore } from './core';
import { toDiagnostic } from './diagnostics';

/**
 * `.alls` model scripts: diagnostics as you type (`hailo-alls`), completion, hover and
 * go-to-definition. The logic lives in src/core/hailo/alls; this file maps it onto VS Code.
 *
 * Layer names are checked against the HN of the script's model: the HAR the user picked for the
 * script, else the HAR of the model in hailo.json whose `modelScript` is this file, else the only
 * `.har` beside the script. Without one, everything but layer names is still checked.
 */

const LANGUAGE = 'alls';
const PICKED_KEY = 'hailo.alls.pickedHar';
const MAX_CHECKED_CHARS = 8 * 1024 * 1024;

type Core = typeof import('../core/hailo/alls/validate') &
  typeof import('../core/hailo/alls/language') &
  typeof import('../core/hailo/alls/parser') &
  typeof import('../core/hailo/alls/layers') &
  typeof import('../core/hailo/alls/catalog');

let corePromise: Promise<Core> | undefined;
function core(): Promise<Core> {
  corePromise ??= loadCore().then((c) => Object.assign({}, c.allsValidate, c.allsLanguage, c.allsParser, c.allsLayers, c.allsCatalog) as Core);
  return corePromise;
}

interface CatalogEntry {
  key: string;
  catalog?: LayerCatalog;
  index?: LayerIndex;
  error?: string;
}

/** Where the layer names of one script come from. */
interface CatalogSource {
  har: string;
  onnx?: string;
  netName?: string;
  why: string;
}

export class AllsService implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('hailo-alls');
  private readonly disposables: vscode.Disposable[] = [this.diagnostics];
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Catalogs by HAR path, keyed again by mtime and size so an edited HAR is re-read. */
  private readonly catalogs = new Map<string, Promise<CatalogEntry>>();
  /** The findings behind the published diagnostics, for quick fixes. */
  private readonly findings = new Map<string, { version: number; findings: AllsFinding[] }>();
  /** Parsed scripts by document version, shared by the providers. */
  private readonly parsed = new Map<string, { version: number; script: Script }>();

  constructor(private readonly services: Services) {
    const sel: vscode.DocumentSelector = { language: LANGUAGE };
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.diagnostics.delete(d.uri);
        this.parsed.delete(d.uri.toString());
        this.findings.delete(d.uri.toString());
      }),
      services.project.onDidChange(() => this.revalidateAll()),
      vscode.languages.registerCompletionItemProvider(sel, { provideCompletionItems: (d, p) => this.complete(d, p) }, '(', ',', '=', '[', '{', '/', ' '),
      vscode.languages.registerHoverProvider(sel, { provideHover: (d, p) => this.hover(d, p) }),
      vscode.languages.registerDefinitionProvider(sel, { provideDefinition: (d, p) => this.definition(d, p) }),
      vscode.languages.registerDocumentSymbolProvider(sel, { provideDocumentSymbols: (d) => this.outline(d) }, { label: 'Model script' }),
      vscode.languages.registerCodeActionsProvider(
        sel,
        { provideCodeActions: (d, r, c) => this.codeActions(d, r, c) },
        { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
      ),
      vscode.commands.registerCommand(
        'hailo.selectAllsHar',
        command(services.log, (uri?: vscode.Uri) => this.pickHar(uri)),
      ),
    );
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{har,hn,sourcemap.json}');
    const changed = () => {
      this.catalogs.clear();
      this.revalidateAll();
    };
    watcher.onDidChange(changed, undefined, this.disposables);
    watcher.onDidCreate(changed, undefined, this.disposables);
    watcher.onDidDelete(changed, undefined, this.disposables);
    this.disposables.push(watcher);
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private revalidateAll(): void {
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private schedule(doc: vscode.TextDocument, delayMs = 150): void {
    if (doc.languageId !== LANGUAGE) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.validate(doc).catch((e) => this.services.log.warn(`Checking ${doc.uri.fsPath} failed: ${e instanceof Error ? e.message : String(e)}`));
      }, delayMs),
    );
  }

  private async script(doc: vscode.TextDocument): Promise<Script> {
    const key = doc.uri.toString();
    const hit = this.parsed.get(key);
    if (hit && hit.version === doc.version) return hit.script;
    const c = await core();
    const script = c.parseScript(doc.getText());
    this.parsed.set(key, { version: doc.version, script });
    return script;
  }

  async validate(doc: vscode.TextDocument): Promise<void> {
    if (doc.isClosed) return;
    const size = doc.getText().length;
    if (size > MAX_CHECKED_CHARS) {
      // generated scripts are a few hundred kB; beyond this, checking on every key stroke would stall the host
      const d = new vscode.Diagnostic(
        new vscode.Range(0, 0, 0, 0),
        `This model script has ${size} characters; it is checked only below ${MAX_CHECKED_CHARS} (use hailo-workbench check-alls for it).`,
        vscode.DiagnosticSeverity.Information,
      );
      d.source = 'hailo-alls';
      d.code = 'ALLS000';
      this.diagnostics.set(doc.uri, [d]);
      return;
    }
    const c = await core();
    const version = doc.version;
    const script = await this.script(doc);
    const src = await this.catalogSource(doc);
    const entry = src ? await this.catalog(src) : undefined;
    if (doc.isClosed || doc.version !== version) return; // a newer edit will validate again
    const findings = c.validateScript(script, {
      ...(entry?.catalog ? { catalog: entry.catalog } : {}),
      ...(entry?.index ? { index: entry.index } : {}),
      ...(src?.netName ? { netName: src.netName } : {}),
    });
    this.findings.set(doc.uri.toString(), { version, findings });
    const diags = loadedCore()
      .placement.placeAllsFindings(findings, doc.uri.fsPath, doc.getText())
      .map((p) => toDiagnostic(p, 'hailo-alls', { value: p.code, target: ruleLink(this.services.context, p.code) }));
    if (src && entry?.error) {
      const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 0), `Layer names are not checked: ${entry.error}`, vscode.DiagnosticSeverity.Information);
      d.source = 'hailo-alls';
      d.code = 'ALLS000';
      diags.unshift(d);
    }
    this.diagnostics.set(doc.uri, diags);
  }

  /** The HAR whose layers this script names, with why it was chosen. */
  async catalogSource(doc: vscode.TextDocument): Promise<CatalogSource | undefined> {
    if (doc.uri.scheme !== 'file') return undefined;
    const file = doc.uri.fsPath;
    const picked = this.services.context.workspaceState.get<Record<string, string>>(PICKED_KEY, {})[file];
    const project = this.services.project.project;
    const root = this.services.project.root;
    const c = await core();
    const sm = project && root ? c.modelForScript(project, root, file) : undefined;
    if (picked) return { har: picked, ...(sm ? { onnx: sm.onnx, netName: sm.netName } : {}), why: 'picked with "Select HAR for Model Script"' };
    if (sm) return { har: sm.har, onnx: sm.onnx, netName: sm.netName, why: `model "${sm.model.name}" in hailo.json` };
    // a lone HAR beside the script
    try {
      const dir = path.dirname(file);
      const hars = (await fs.readdir(dir)).filter((n) => n.toLowerCase().endsWith('.har'));
      if (hars.length === 1) return { har: path.join(dir, hars[0]!), why: 'the only .har beside the script' };
    } catch {}
    return undefined;
  }

  private async catalog(src: CatalogSource): Promise<CatalogEntry> {
    let stat: { mtimeMs: number; size: number };
    try {
      stat = await fs.stat(src.har);
    } catch {
      // no HAR yet (the model was not parsed): not a problem worth a diagnostic
      return { key: src.har };
    }
    const key = `${src.har}|${stat.mtimeMs}|${stat.size}|${src.onnx ?? ''}`;
    let p = this.catalogs.get(key);
    if (!p) {
      p = (async () => {
        const c = await core();
        try {
          const t0 = performance.now();
          const catalog = await c.loadLayerCatalog(src.har, { ...(src.onnx ? { onnxFile: src.onnx } : {}), warn: (m) => this.services.log.warn(m) });
          this.services.log.info(
            `Model script layer names: ${catalog.layers.length} layers from ${src.har} (${src.why}) in ${(performance.now() - t0).toFixed(0)} ms`,
          );
          return { key, catalog, index: new c.LayerIndex(catalog) };
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          this.services.log.warn(`Cannot read layer names from ${src.har}: ${message}`);
          return { key, error: message };
        }
      })();
      for (const k of this.catalogs.keys()) if (k.startsWith(`${src.har}|`)) this.catalogs.delete(k);
      this.catalogs.set(key, p);
    }
    return p;
  }

  private async context(doc: vscode.TextDocument): Promise<{ catalog?: LayerCatalog; index?: LayerIndex }> {
    const src = await this.catalogSource(doc);
    const e = src ? await this.catalog(src) : undefined;
    return { ...(e?.catalog ? { catalog: e.catalog } : {}), ...(e?.index ? { index: e.index } : {}) };
  }

  private async complete(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.CompletionItem[] | undefined> {
    const c = await core();
    const script = await this.script(doc);
    const r = c.complete(script, doc.offsetAt(pos), await this.context(doc));
    if (!r) return undefined;
    const range = new vscode.Range(doc.positionAt(r.replace.start), doc.positionAt(r.replace.end));
    return r.items.map((i) => toCompletionItem(i, range));
  }

  private async hover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const c = await core();
    const script = await this.script(doc);
    const h = c.hover(script, doc.offsetAt(pos), await this.context(doc));
    if (!h) return undefined;
    const md = new vscode.MarkdownString(h.markdown);
    return new vscode.Hover(md, new vscode.Range(doc.positionAt(h.span.start), doc.positionAt(h.span.end)));
  }

  private async definition(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Location[] | undefined> {
    const c = await core();
    const script = await this.script(doc);
    const targets = c.definition(script, doc.offsetAt(pos), await this.context(doc));
    const out: vscode.Location[] = [];
    for (const t of targets) {
      const loc = await toLocation(doc, t);
      if (loc) out.push(loc);
    }
    return out.length ? out : undefined;
  }

  private async outline(doc: vscode.TextDocument): Promise<vscode.DocumentSymbol[]> {
    const c = await core();
    const script = await this.script(doc);
    const range = (s: { start: number; end: number }) => new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end));
    return c
      .symbols(script)
      .map(
        (x) =>
          new vscode.DocumentSymbol(
            x.name,
            x.detail,
            x.kind === 'layer' ? vscode.SymbolKind.Variable : vscode.SymbolKind.Function,
            range(x.span),
            range(x.selection),
          ),
      );
  }

  /** Quick fixes: the "did you mean" replacements and the missing "name = ". */
  private codeActions(doc: vscode.TextDocument, range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const cached = this.findings.get(doc.uri.toString());
    if (!cached || cached.version !== doc.version) return [];
    const out: vscode.CodeAction[] = [];
    for (const f of cached.findings) {
      if (!f.edits?.length) continue;
      const fr = new vscode.Range(doc.positionAt(f.span.start), doc.positionAt(Math.max(f.span.end, f.span.start + 1)));
      if (!fr.intersection(range)) continue;
      const diag = ctx.diagnostics.find(
        (d) => d.source === 'hailo-alls' && String(typeof d.code === 'object' ? d.code.value : d.code) === f.code && d.range.isEqual(fr),
      );
      f.edits.forEach((e, i) => {
        const a = new vscode.CodeAction(e.title, vscode.CodeActionKind.QuickFix);
        a.edit = new vscode.WorkspaceEdit();
        a.edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.span.start), doc.positionAt(e.span.end)), e.text);
        if (diag) a.diagnostics = [diag];
        a.isPreferred = i === 0 && f.edits!.length === 1;
        out.push(a);
      });
    }
    return out;
  }

  /** Choose the HAR (or .hn) whose layers this script names. */
  private async pickHar(uri?: vscode.Uri): Promise<void> {
    const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== LANGUAGE) {
      void vscode.window.showInformationMessage('Open a .alls model script first.');
      return;
    }
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      defaultUri: vscode.Uri.file(path.dirname(doc.uri.fsPath)),
      filters: { 'Hailo archive': ['har', 'hn'] },
      openLabel: 'Use for layer names',
    });
    if (!picked?.[0]) return;
    const map = { ...this.services.context.workspaceState.get<Record<string, string>>(PICKED_KEY, {}) };
    map[doc.uri.fsPath] = picked[0].fsPath;
    await this.services.context.workspaceState.update(PICKED_KEY, map);
    this.services.log.info(`${doc.uri.fsPath}: layer names from ${picked[0].fsPath}`);
    this.schedule(doc, 0);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

const KINDS: Record<CompletionEntry['kind'], vscode.CompletionItemKind> = {
  command: vscode.CompletionItemKind.Function,
  keyword: vscode.CompletionItemKind.Property,
  value: vscode.CompletionItemKind.EnumMember,
  section: vscode.CompletionItemKind.Module,
  layer: vscode.CompletionItemKind.Variable,
  pattern: vscode.CompletionItemKind.Constant,
};

function toCompletionItem(i: CompletionEntry, range: vscode.Range): vscode.CompletionItem {
  const item = new vscode.CompletionItem(i.label, KINDS[i.kind]);
  if (i.detail) item.detail = i.detail;
  if (i.documentation) item.documentation = new vscode.MarkdownString(i.documentation);
  if (i.insertText !== undefined) item.insertText = i.snippet ? new vscode.SnippetString(i.insertText) : i.insertText;
  if (i.sortText) item.sortText = i.sortText;
  item.range = range;
  if (i.retrigger) item.command = { command: 'editor.action.triggerSuggest', title: 'Suggest' };
  return item;
}

async function toLocation(doc: vscode.TextDocument, t: DefinitionTarget): Promise<vscode.Location | undefined> {
  switch (t.kind) {
    case 'script':
      return new vscode.Location(doc.uri, new vscode.Range(doc.positionAt(t.span.start), doc.positionAt(t.span.end)));
    case 'source': {
      const line = Math.max(0, t.location.line - 1);
      return new vscode.Location(vscode.Uri.file(t.location.file), new vscode.Range(line, 0, line, 0));
    }
    case 'onnx': {
      if (!t.file) return undefined;
      try {
        await fs.stat(t.file);
      } catch {
        return undefined;
      }
      // the model editor selects the node in its graph when this definition is followed
      queueGraphReveal(vscode.Uri.file(t.file), t.node);
      return new vscode.Location(vscode.Uri.file(t.file), new vscode.Position(0, 0));
    }
  }
}

export function registerAlls(services: Services): AllsService {
  const s = new AllsService(services);
  services.context.subscriptions.push(s);
  return s;
}
