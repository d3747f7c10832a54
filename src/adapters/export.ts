import * as vscode from 'vscode';
import { openPythonPathSetting, selectInterpreter } from './interpreterSetting';
import * as path from 'node:path';
import type { Model } from '../core/project/schema';
import type { ExportLens } from '../core/export/pythonSource';
import { setting } from './config';
import { command, requireTrust, withSignal, type Services } from './services';
import { isCancelled, loadCore } from './core';
import { NO_PROJECT_MESSAGE } from './project';

/** Minimal shape of the Python extension's public API (`ms-python.python` exports), as used here. */
interface PythonExtensionApi {
  ready?: Promise<void>;
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string } | undefined;
    resolveEnvironment(env: { id: string; path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } };
}

/**
 * The interpreter selected in the Python extension, when it is installed; undefined otherwise.
 * Uses its public `environments` API (no extensionDependencies: the extension is optional).
 */
export async function pythonFromExtension(resource: vscode.Uri | undefined, log: Services['log']): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  const api = ext.isActive ? ext.exports : await ext.activate();
  await api?.ready;
  const envs = api?.environments;
  if (envs?.getActiveEnvironmentPath) {
    const envPath = envs.getActiveEnvironmentPath(resource);
    if (!envPath) return undefined;
    const resolved = await envs.resolveEnvironment(envPath);
    const exe = resolved?.executable?.uri?.fsPath;
    log.debug(`Python extension environment: ${envPath.path}${exe ? ` -> ${exe}` : ' (unresolved)'}`);
    return exe ?? envPath.path;
  }
  // older releases
  return api?.settings?.getExecutionDetails?.(resource).execCommand?.[0];
}

type ModelArg = { type: 'model'; model: Model } | Model | string | undefined;

/** Export: the command, progress with cancel, diagnostics on failing Python lines, CodeLenses. */
export function registerExport(services: Services): void {
  const { context, log, project } = services;
  const diagnostics = vscode.languages.createDiagnosticCollection('hailo-export');
  const lensChanged = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    diagnostics,
    lensChanged,
    project.onDidChange(() => lensChanged.fire()),
  );
  const running = new Set<string>();

  async function pickModel(arg: ModelArg): Promise<Model | undefined> {
    const p = project.require().project;
    const name = typeof arg === 'string' ? arg : arg && 'type' in arg && arg.type === 'model' ? arg.model.name : arg && 'name' in arg ? arg.name : undefined;
    if (name !== undefined) {
      const m = p.models.find((x) => x.name === name);
      if (!m) throw new Error(`No model named "${name}" in hailo.json`);
      return m;
    }
    const exportable = p.models.filter((m) => m.entry);
    if (!exportable.length) throw new Error('No model in hailo.json has an "entry" (package.module:factory) to export');
    if (exportable.length === 1) return exportable[0];
    const pick = await vscode.window.showQuickPick(
      exportable.map((m) => ({
        label: m.name,
        description: m.entry,
        detail: `→ ${m.onnx} · opset ${m.opset ?? 17} · ${m.inputs.map((i) => `${i.name} ${i.shape.join('x')}`).join(', ')}`,
        model: m,
      })),
      { title: 'Export Model to ONNX', placeHolder: 'Model to export' },
    );
    return pick?.model;
  }

  async function exportModel(arg: ModelArg): Promise<void> {
    if (!(await requireTrust('Exporting a model'))) return;
    const model = await pickModel(arg);
    if (!model) return;
    const root = project.root!;
    if (running.has(model.name)) {
      void vscode.window.showInformationMessage(`An export of ${model.name} is already running.`);
      return;
    }
    const { specFromModel } = (await loadCore()).exportSpec;
    const { resolveEditorInterpreter, howToChooseInterpreter } = (await loadCore()).exportInterpreter;
    const { runExport, findDriver, ExportFailedError, diagnosticMessage } = (await loadCore()).exportRun;
    const { resolveEntryFile } = (await loadCore()).artifacts;

    const spec = specFromModel(model, root);
    const entryFile = await resolveEntryFile(spec.entry, root);
    const resource = entryFile ? vscode.Uri.file(entryFile) : project.uri;
    const interpreter = await resolveEditorInterpreter({
      pythonExtension: () => pythonFromExtension(resource, log),
      setting: setting('pythonPath', resource),
    });
    const driverPath = findDriver([path.join(context.extensionPath, 'dist'), __dirname]);
    diagnostics.clear();
    running.add(model.name);
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Exporting ${model.name} to ONNX`, cancellable: true },
        async (progress, token) => {
          let done = 0;
          return withSignal(token, (signal) =>
            runExport({
              interpreter,
              driverPath,
              spec,
              chooseHint: howToChooseInterpreter('editor'),
              signal,
              log,
              onProgress: (p) => {
                const pct = Math.round(p.fraction * 100);
                progress.report({ message: p.message, increment: Math.max(0, pct - done) });
                done = Math.max(done, pct);
              },
              onOutput: (line) => log.info(`[python] ${line}`),
            }),
          );
        },
      );
      for (const w of result.warnings) log.warn(w);
      const rel = path.relative(root, result.onnx);
      const msg = `Exported ${model.name} to ${rel}: ${result.nodes} nodes, ${result.mapped} mapped to source lines.`;
      log.info(msg);
      await vscode.commands.executeCommand('hailo.refreshModels');
      const commands = await vscode.commands.getCommands(true);
      if (commands.includes('hailo.lintModel')) await vscode.commands.executeCommand('hailo.lintModel', vscode.Uri.file(result.onnx));
      if (result.warnings.length) {
        void vscode.window.showWarningMessage(`${msg} ${result.warnings[0]}`, 'Show Log').then((c) => c && log.show());
      } else {
        void vscode.window.showInformationMessage(msg);
      }
    } catch (e) {
      if (isCancelled(e)) {
        log.info(`Export of ${model.name} cancelled`);
        return;
      }
      if (e instanceof ExportFailedError) {
        log.error(e.message);
        if (e.stderrTail) log.debug(e.stderrTail);
        if (e.code === 'PYTHON_MISSING_PACKAGE' || e.code === 'PYTHON_NOT_FOUND') {
          // not awaited: the command is done, the buttons are offers
          void vscode.window.showErrorMessage(e.message, 'Select Interpreter', 'Open Settings', 'Show Log').then(async (c) => {
            if (c === 'Select Interpreter') await selectInterpreter(resource);
            else if (c === 'Open Settings') await openPythonPathSetting();
            else if (c) log.show();
          });
          return;
        }
        if (e.location) {
          const uri = vscode.Uri.file(e.location.file);
          const line = Math.max(0, e.location.line - 1);
          let range = new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER);
          try {
            const doc = await vscode.workspace.openTextDocument(uri);
            if (line < doc.lineCount) {
              const t = doc.lineAt(line);
              range = new vscode.Range(line, t.firstNonWhitespaceCharacterIndex, line, t.range.end.character);
            }
          } catch {
            // the file may be gone; the whole line is fine
          }
          const d = new vscode.Diagnostic(range, diagnosticMessage(e), vscode.DiagnosticSeverity.Error);
          d.source = 'hailo-export';
          if (e.detail?.errorClass) d.code = e.detail.errorClass;
          if (project.uri)
            d.relatedInformation = [
              new vscode.DiagnosticRelatedInformation(
                new vscode.Location(project.uri, new vscode.Position(0, 0)),
                `while exporting model "${model.name}" (${spec.entry})`,
              ),
            ];
          diagnostics.set(uri, [d]);
          void vscode.window.showErrorMessage(e.message, 'Go to Line', 'Show Log').then((c) => {
            if (c === 'Go to Line') void vscode.window.showTextDocument(uri, { selection: range });
            else if (c) log.show();
          });
          return;
        }
      }
      throw e;
    } finally {
      running.delete(model.name);
    }
  }

  /**
   * Run the module once on zero inputs of the given shapes (in a trusted workspace) and ask for the
   * outputs with what it returned proposed: their names become the ONNX output names, their shapes
   * the contract the lint checks (HW021). Undefined: no outputs recorded; null: cancelled.
   */
  async function proposeOutputs(
    uri: vscode.Uri,
    className: string,
    entry: string,
    inputs: { name: string; shape: number[] }[],
  ): Promise<{ name: string; shape: number[] }[] | undefined | null> {
    const { parseInputSpec } = (await loadCore()).exportSpec;
    let proposed = '';
    let note = 'Outputs with their shapes: NAME:SHAPE, several separated by spaces (empty: do not record outputs)';
    if (vscode.workspace.isTrusted && project.root) {
      const { resolveEditorInterpreter, howToChooseInterpreter } = (await loadCore()).exportInterpreter;
      const { runExport, findDriver } = (await loadCore()).exportRun;
      const root = project.root;
      const interpreter = await resolveEditorInterpreter({ pythonExtension: () => pythonFromExtension(uri, log), setting: setting('pythonPath', uri) });
      try {
        const r = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Running ${className} once to see its outputs`, cancellable: true },
          (_p, token) =>
            withSignal(token, (signal) =>
              runExport({
                interpreter,
                driverPath: findDriver([path.join(context.extensionPath, 'dist'), __dirname]),
                spec: { entry, inputs, outputNames: [], opset: 17, out: path.join(root, 'build', '.probe.onnx'), root, probe: true },
                chooseHint: howToChooseInterpreter('editor'),
                signal,
                log,
                onOutput: (line) => log.info(`[python] ${line}`),
              }),
            ),
        );
        const outs = r.outputs.filter((o): o is { name: string; shape: number[] } => Array.isArray(o.shape) && o.shape.every((d) => typeof d === 'number'));
        // a single unnamed output gets a name worth keeping: the ONNX output is otherwise named by a number ("272")
        proposed = outs.map((o, i) => `${outs.length === 1 && o.name === 'output' ? 'features' : o.name || `output${i}`}:${o.shape.join('x')}`).join(' ');
        note = `${className} returned ${outs.map((o) => `[${o.shape.join(', ')}]`).join(', ')} for ${inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ')}. Name the outputs (the export uses these names; the lint checks these shapes)`;
      } catch (e) {
        if (isCancelled(e)) return null;
        const message = e instanceof Error ? e.message : String(e);
        log.warn(`Running ${entry} once failed: ${message}`);
        note = `Running ${className} once failed (${message.split('\n')[0]!.slice(0, 160)}). Enter the outputs yourself, or leave empty`;
      }
    } else {
      note = 'The module is not run in Restricted Mode: enter the outputs yourself (NAME:SHAPE), or leave empty';
    }
    const text = await vscode.window.showInputBox({
      title: `Add ${className} to hailo.json (3/3)`,
      prompt: note,
      value: proposed,
      placeHolder: 'features:1x1500x768',
      validateInput: (v) => {
        try {
          v.trim()
            .split(/\s+/)
            .filter(Boolean)
            .forEach((i) => parseInputSpec(i));
          return undefined;
        } catch (e) {
          return e instanceof Error ? e.message : String(e);
        }
      },
    });
    if (text === undefined) return null;
    const items = text.trim().split(/\s+/).filter(Boolean);
    return items.length ? items.map((i) => parseInputSpec(i)).map((o) => ({ name: o.name, shape: o.shape })) : undefined;
  }

  async function addModel(uri: vscode.Uri, className: string, entry: string | undefined): Promise<void> {
    const { addModelEdits, modelNameFromClass } = (await loadCore()).pythonSource;
    const { parseInputSpec, parseShape } = (await loadCore()).exportSpec;
    if (!project.uri) throw new Error('Open a folder first: hailo.json lives at the workspace root');
    if (!entry) {
      throw new Error(
        `${className} needs constructor arguments: add a factory function without arguments that returns it (def build(): return ${className}(...)), then use "Add to hailo.json" again`,
      );
    }
    const taken = new Set(project.project?.models.map((m) => m.name) ?? []);
    const name = await vscode.window.showInputBox({
      title: `Add ${className} to hailo.json (1/3)`,
      prompt: 'Model name',
      value: modelNameFromClass(className),
      validateInput: (v) => (!/^[A-Za-z0-9_.-]+$/.test(v) ? 'Use letters, digits, "_", "." and "-"' : taken.has(v) ? `A model named "${v}" exists` : undefined),
    });
    if (!name) return;
    const inputsText = await vscode.window.showInputBox({
      title: `Add ${className} to hailo.json (2/3)`,
      prompt: 'Inputs with static shapes, batch first: NAME:SHAPE, several separated by spaces (e.g. mel:1x80x3000)',
      placeHolder: 'mel:1x80x3000',
      validateInput: (v) => {
        try {
          const items = v.trim().split(/\s+/).filter(Boolean);
          if (!items.length) return 'At least one input';
          items.forEach((i) => (i.includes(':') ? parseInputSpec(i) : parseShape(i)));
          return undefined;
        } catch (e) {
          return e instanceof Error ? e.message : String(e);
        }
      },
    });
    if (!inputsText) return;
    const inputs = inputsText
      .trim()
      .split(/\s+/)
      .map((i, k) => (i.includes(':') ? parseInputSpec(i) : { name: k ? `input${k}` : 'input', shape: parseShape(i) }))
      .map((i) => ({ name: i.name, shape: i.shape }));
    const outputs = await proposeOutputs(uri, className, entry, inputs);
    if (outputs === null) return;
    let doc: vscode.TextDocument;
    try {
      doc = await vscode.workspace.openTextDocument(project.uri);
    } catch {
      throw new Error(NO_PROJECT_MESSAGE);
    }
    const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const edits = addModelEdits(doc.getText(), { name, entry, inputs, ...(outputs?.length ? { outputs } : {}), onnx: `build/${name}.onnx` }, eol);
    const we = new vscode.WorkspaceEdit();
    for (const e of edits) we.replace(project.uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
    if (!(await vscode.workspace.applyEdit(we))) throw new Error('hailo.json could not be edited');
    await doc.save();
    log.info(`Added model ${name} (${entry}) to hailo.json`);
    void vscode.window.showInformationMessage(`Added ${name} to hailo.json.`, 'Export Now', 'Open hailo.json').then((c) => {
      if (c === 'Export Now') void vscode.commands.executeCommand('hailo.exportModel', name);
      else if (c) void vscode.window.showTextDocument(doc);
    });
  }

  const lenses: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: lensChanged.event,
    async provideCodeLenses(doc) {
      const root = project.root;
      if (!root || doc.uri.scheme !== 'file') return [];
      const { outlinePython, exportLenses, moduleNameOf } = (await loadCore()).pythonSource;
      const mod = moduleNameOf(path.relative(root, doc.uri.fsPath));
      if (!mod) return [];
      const text = doc.getText();
      if (!/\bModule\b/.test(text)) return [];
      const found: ExportLens[] = exportLenses(outlinePython(text), mod, project.project?.models ?? []);
      return found.map((l) => {
        const range = new vscode.Range(l.line, 0, l.line, 0);
        return l.kind === 'export'
          ? new vscode.CodeLens(range, { title: `$(export) Export to ONNX (${l.model})`, command: 'hailo.exportModel', arguments: [l.model] })
          : new vscode.CodeLens(range, {
              title: '$(add) Add to hailo.json',
              tooltip: l.entry ? `Add a model with entry ${l.entry}` : `${l.className} needs constructor arguments: add a no-argument factory that returns it`,
              command: 'hailo.addModelToProject',
              arguments: [doc.uri, l.className, l.entry],
            });
      });
    },
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('hailo.exportModel', command(log, exportModel)),
    vscode.commands.registerCommand('hailo.addModelToProject', command(log, addModel)),
    vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, lenses),
    // a fixed line makes the old diagnostic wrong: drop it when the file is edited
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length && diagnostics.has(e.document.uri)) diagnostics.delete(e.document.uri);
    }),
  );
}
