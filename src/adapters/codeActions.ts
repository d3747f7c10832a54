import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCore, loadedCore } from './core';
import { command, type Services } from './services';

/**
 * Ctrl+. on a lint (HWxxx) or `.alls` (ALLSxxx) finding: *Explain* opens the rule's documentation
 * shipped with the extension (media/docs/rules.md) in the markdown preview at the rule, and the
 * mechanical fixes apply directly (opset 17 or no `dynamicAxes` in hailo.json, the recipe line a
 * rule recommends added to the model's `.alls`).
 */

const CODE = /^(HW|ALLS)\d{3}$/;
const SOURCES = new Set(['Hailo lint', 'hailo-alls']);

let docs: { uri: vscode.Uri; text: string } | undefined;

function ruleDocs(context: vscode.ExtensionContext): { uri: vscode.Uri; text: string } {
  if (docs) return docs;
  const uri = vscode.Uri.joinPath(context.extensionUri, 'media', 'docs', 'rules.md');
  let text = '';
  try {
    text = fs.readFileSync(uri.fsPath, 'utf8');
  } catch {
    // a broken install: links fall back to the top of the (missing) file, Explain says so
  }
  return (docs = { uri, text });
}

/** The Problems-panel link of a rule: the shipped docs at the rule's heading line. */
export function ruleLink(context: vscode.ExtensionContext, code: string): vscode.Uri {
  const d = ruleDocs(context);
  // a finding exists, so the core that made it has loaded
  const h = loadedCore().ruleDocs.ruleDocHeading(d.text, code);
  return h ? d.uri.with({ fragment: `L${h.line}` }) : d.uri;
}

function diagCode(d: vscode.Diagnostic): string | undefined {
  const c = typeof d.code === 'object' ? d.code.value : d.code;
  return c !== undefined && CODE.test(String(c)) ? String(c) : undefined;
}

class LintCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  constructor(private readonly services: Services) {}

  async provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const out: vscode.CodeAction[] = [];
    const explained = new Set<string>();
    for (const d of ctx.diagnostics) {
      const code = diagCode(d);
      if (!code || !d.source || !SOURCES.has(d.source)) continue;
      if (d.source === 'Hailo lint') out.push(...(await this.fixes(doc, d, code)));
      if (explained.has(code)) continue;
      explained.add(code);
      const a = new vscode.CodeAction(`Explain ${code}`, vscode.CodeActionKind.QuickFix);
      a.diagnostics = [d];
      a.command = { title: a.title, command: 'hailo.explainRule', arguments: [code] };
      out.push(a);
    }
    return out;
  }

  /** The project model a lint diagnostic belongs to: the .onnx of its related information, or the only model. */
  private model(doc: vscode.TextDocument, d: vscode.Diagnostic) {
    const root = this.services.project.root;
    const project = this.services.project.project;
    if (!root || !project) return undefined;
    const onnx = [doc.uri, ...(d.relatedInformation ?? []).map((r) => r.location.uri)].find((u) => /\.onnx$/i.test(u.fsPath));
    const m = onnx ? project.models.find((x) => path.resolve(root, x.onnx) === onnx.fsPath) : undefined;
    return m ?? (project.models.length === 1 ? project.models[0] : undefined);
  }

  private async fixes(doc: vscode.TextDocument, d: vscode.Diagnostic, code: string): Promise<vscode.CodeAction[]> {
    const { fixesFor, projectEdits, allsAppend, defaultModelScript, pythonLineFix } = (await loadCore()).quickFixes;
    const out: vscode.CodeAction[] = [];
    // a one-line rewrite of the Python line the finding is on (no project needed)
    if (doc.languageId === 'python' || /\.py$/i.test(doc.uri.fsPath)) {
      const line = doc.lineAt(d.range.start.line);
      const fix = pythonLineFix(code, d.message, line.text, doc.getText());
      if (fix) {
        const a = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        a.diagnostics = [d];
        a.isPreferred = true;
        a.edit = new vscode.WorkspaceEdit();
        a.edit.replace(doc.uri, line.range, fix.text);
        out.push(a);
      }
    }
    const model = this.model(doc, d);
    const projectUri = this.services.project.uri;
    const root = this.services.project.root;
    if (!model || !projectUri || !root) return out;
    const projectDoc = await vscode.workspace.openTextDocument(projectUri);
    const applyEdits = (we: vscode.WorkspaceEdit, target: vscode.TextDocument, edits: { offset: number; length: number; content: string }[]) => {
      for (const e of edits) we.replace(target.uri, new vscode.Range(target.positionAt(e.offset), target.positionAt(e.offset + e.length)), e.content);
    };
    for (const plan of fixesFor(code, d.message, model)) {
      const a = new vscode.CodeAction(plan.title, vscode.CodeActionKind.QuickFix);
      a.diagnostics = [d];
      const we = new vscode.WorkspaceEdit();
      if (plan.kind === 'project') {
        const edits = projectEdits(projectDoc.getText(), model.name, plan.change);
        if (!edits?.length) continue;
        applyEdits(we, projectDoc, edits);
        a.isPreferred = true;
      } else {
        const rel = model.modelScript ?? defaultModelScript(model);
        const allsUri = vscode.Uri.file(path.resolve(root, rel));
        if (fs.existsSync(allsUri.fsPath)) {
          const allsDoc = await vscode.workspace.openTextDocument(allsUri);
          const edit = allsAppend(allsDoc.getText(), plan.lines);
          if (!edit) continue; // the recipe is already there
          applyEdits(we, allsDoc, [edit]);
        } else {
          we.createFile(allsUri, { ignoreIfExists: true });
          we.insert(allsUri, new vscode.Position(0, 0), allsAppend('', plan.lines)!.content);
        }
        if (!model.modelScript) {
          const edits = projectEdits(projectDoc.getText(), model.name, { kind: 'modelScript', path: rel });
          if (edits?.length) applyEdits(we, projectDoc, edits);
        }
      }
      a.edit = we;
      out.push(a);
    }
    return out;
  }
}

/** Open the shipped rule docs in the markdown preview, scrolled to the rule. */
async function explainRule(context: vscode.ExtensionContext, code: string): Promise<void> {
  if (!CODE.test(code)) throw new Error(`"${code}" is not a Hailo rule code (HWxxx or ALLSxxx).`);
  const d = ruleDocs(context);
  if (!d.text) throw new Error(`The rule documentation is missing from the extension (${d.uri.fsPath}); reinstall it.`);
  const h = (await loadCore()).ruleDocs.ruleDocHeading(d.text, code);
  if (!h) throw new Error(`${code} is not documented in ${d.uri.fsPath}.`);
  // the preview opens at the line the source editor shows at its top
  const line = h.line - 1;
  const editor = await vscode.window.showTextDocument(d.uri, { preview: true, selection: new vscode.Range(line, 0, line, 0) });
  editor.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.AtTop);
  await vscode.commands.executeCommand('markdown.showPreview', d.uri);
}

export function registerCodeActions(services: Services): void {
  const { context, log } = services;
  ruleDocs(context);
  context.subscriptions.push(
    vscode.languages.registerCodeActionsProvider([{ scheme: 'file' }], new LintCodeActions(services), { providedCodeActionKinds: LintCodeActions.kinds }),
    vscode.commands.registerCommand(
      'hailo.explainRule',
      command(log, async (code?: string) => {
        const c =
          code ??
          (
            await vscode.window.showInputBox({
              prompt: 'Rule code',
              placeHolder: 'HW014 or ALLS003',
              validateInput: (v) => (CODE.test(v.trim()) ? undefined : 'A code like HW014 or ALLS003'),
            })
          )?.trim();
        if (c) await explainRule(context, c);
      }),
    ),
  );
}
