import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Model } from '../core/project/schema';
import type { FidelityFinding } from '../core/fidelity/findings';
import type { FidelityRecord } from '../core/fidelity/record';
import type { RunRecord } from '../core/remote/run';
import { setting } from './config';
import { pythonFromExtension } from './export';
import { command, requireTrust, signalFor, type Services } from './services';
import type { PipelineService } from './pipeline';
import { isCancelled, loadCore } from './core';

type ModelArg = { type: 'model'; model: Model } | Model | string | undefined;

const SEVERITY = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
} as const;

/** The results panel (webview/fidelityResults): strict CSP with a nonce, zod-checked messages both ways. */
class FidelityPanel {
  private panel: vscode.WebviewPanel | undefined;
  private message: unknown;
  private file: string | undefined;
  private model: string | undefined;

  constructor(private readonly extensionUri: vscode.Uri) {}

  async show(message: unknown, file: string, model: string): Promise<void> {
    this.message = message;
    this.file = file;
    this.model = model;
    const title = `Fidelity: ${model}`;
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(undefined, true);
      await this.panel.webview.postMessage(message);
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const panel = vscode.window.createWebviewPanel(
      'hailo.fidelityResults',
      title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: true },
      {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(dist, 'webview'), media],
      },
    );
    this.panel = panel;
    panel.onDidDispose(() => (this.panel = undefined));
    panel.webview.onDidReceiveMessage(async (data: unknown) => {
      const core = await loadCore();
      const msg = core.envelope.parseMessage(core.fidelityResultsProtocol.WebviewMessage, data);
      if (!msg) return;
      if (msg.type === 'ready') await panel.webview.postMessage(this.message);
      else if (msg.type === 'openRecord' && this.file) await vscode.window.showTextDocument(vscode.Uri.file(this.file), { preview: true });
      else if (msg.type === 'recheck' && this.model) await vscode.commands.executeCommand('hailo.checkFidelity', this.model);
    });
    const nonce = randomBytes(16).toString('base64');
    const w = panel.webview;
    const csp = [
      "default-src 'none'",
      `img-src ${w.cspSource} data:`,
      `style-src ${w.cspSource} 'nonce-${nonce}'`,
      `font-src ${w.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    w.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${w.asWebviewUri(vscode.Uri.joinPath(media, 'deviceResults.css')).toString()}" nonce="${nonce}">
<title>Fidelity</title>
</head>
<body>
<main id="root" aria-live="polite"></main>
<script nonce="${nonce}" src="${w.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'fidelityResults.js')).toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

/**
 * Hailo: Check Fidelity: the stages on this machine (PyTorch and ONNX), then the HAR in the DFC
 * emulator on the model's compile target and the HEF on its device (runs of the run engine, in the
 * Runs view): progress with cancel, one line per stage and the findings in the output channel,
 * findings as diagnostics on the model's fidelity section in hailo.json, results with the run in
 * .hailo/runs/<id>/ (fidelity.json). A remote run reattached after a reload or a dropped connection
 * completes its check when it ends: compared, stored, shown and diagnosed the same way.
 */
export function registerFidelity(services: Services, pipeline?: PipelineService): void {
  const { context, log, project } = services;
  const diagnostics = vscode.languages.createDiagnosticCollection('hailo-fidelity');
  context.subscriptions.push(diagnostics);
  const running = new Set<string>();
  const resultsPanel = new FidelityPanel(context.extensionUri);
  context.subscriptions.push(resultsPanel);

  async function pickModel(arg: ModelArg): Promise<Model | undefined> {
    const p = project.require().project;
    const name = typeof arg === 'string' ? arg : arg && 'type' in arg && arg.type === 'model' ? arg.model.name : arg && 'name' in arg ? arg.name : undefined;
    if (name !== undefined) {
      const m = p.models.find((x) => x.name === name);
      if (!m) throw new Error(`No model named "${name}" in hailo.json`);
      return m;
    }
    const candidates = p.models.filter((m) => m.fidelity);
    if (!candidates.length) throw new Error('No model in hailo.json has a "fidelity" section with inputs to compare on (see the README, "Numeric fidelity")');
    if (candidates.length === 1) return candidates[0];
    const pick = await vscode.window.showQuickPick(
      candidates.map((m) => ({ label: m.name, description: m.entry, detail: `PyTorch vs ${m.onnx}`, model: m })),
      { title: 'Check Fidelity', placeHolder: 'Model to check' },
    );
    return pick?.model;
  }

  /** Tell the user: log lines, diagnostics on hailo.json (with links to rewrites), the results panel, a notification. */
  async function present(
    model: Model,
    done: { record: FidelityRecord; findings: FidelityFinding[]; file: string },
    baseline: FidelityRecord | undefined,
  ): Promise<void> {
    const core = await loadCore();
    const root = project.root!;
    const { compareRecords, hasErrors, stageSummaries } = core.fidelityFindings;
    const { fidelityLocation } = core.fidelityLocation;
    const files = core.projectLoad.modelPaths(model, root);
    const quantizedHar = core.remotePipeline.optimizedHarPath(files.har);
    if (project.uri) diagnostics.delete(project.uri);
    const findings = [...done.findings, ...(baseline ? compareRecords(baseline, done.record, { maxDropDb: model.fidelity?.maxDropDb }) : [])];
    const linked = await core.fidelityRewrites.linkRewrites(findings, { onnx: files.onnx, har: files.har, quantizedHar });
    if (linked.stage)
      log.info(
        `Fidelity of ${model.name}: first diverging stage ${linked.stage}; ${linked.links ? `${linked.links} rewrite(s) linked to their PyTorch lines` : `no rewrite linked (${linked.reason})`}`,
      );
    log.info(`Fidelity of ${model.name}: ${done.record.samples.length} sample(s), results in ${path.relative(root, done.file)}`);
    for (const s of stageSummaries(done.record)) log.info(`  ${s.text}`);
    for (const f of findings) log.info(`  ${f.severity} ${f.code}: ${f.message}`);
    if (project.uri && findings.length) {
      const doc = await vscode.workspace.openTextDocument(project.uri);
      const text = doc.getText();
      diagnostics.set(
        project.uri,
        findings.map((f) => {
          const at = fidelityLocation(text, model.name, { stage: f.stage, limit: ['FID001', 'FID002', 'FID003'].includes(f.code) });
          const range = at ? new vscode.Range(doc.positionAt(at.offset), doc.positionAt(at.offset + at.length)) : new vscode.Range(0, 0, 0, 0);
          const d = new vscode.Diagnostic(range, f.fix ? `${f.message}. ${f.fix}` : f.message, SEVERITY[f.severity]);
          d.source = 'hailo-fidelity';
          d.code = f.code;
          d.relatedInformation = [
            new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(done.file), new vscode.Position(0, 0)), 'fidelity results'),
            ...(f.related ?? [])
              .filter((x) => x.file)
              .map(
                (x) =>
                  new vscode.DiagnosticRelatedInformation(
                    new vscode.Location(vscode.Uri.file(x.file!), new vscode.Position(Math.max(0, (x.line ?? 1) - 1), 0)),
                    `compiler rewrite at the first diverging stage (${f.stage}): ${x.message}`,
                  ),
              ),
          ];
          return d;
        }),
      );
    }
    await resultsPanel.show(core.fidelityResultsView.fidelityResultsMessage(done.record, findings, baseline), done.file, model.name);
    const headline = stageSummaries(done.record)
      .map((s) => s.text)
      .join(' · ');
    const show = (c: string | undefined) => {
      if (c === 'Open Results') void vscode.window.showTextDocument(vscode.Uri.file(done.file));
      else if (c) log.show();
    };
    if (hasErrors(findings))
      void vscode.window
        .showErrorMessage(`Fidelity of ${model.name} fails: ${findings.find((f) => f.severity === 'error')!.message}`, 'Show Log', 'Open Results')
        .then(show);
    else void vscode.window.showInformationMessage(`Fidelity of ${model.name}: ${headline}`, 'Show Log', 'Open Results').then(show);
  }

  async function checkFidelity(arg: ModelArg): Promise<void> {
    if (!(await requireTrust('Checking fidelity'))) return;
    const model = await pickModel(arg);
    if (!model) return;
    const root = project.root!;
    if (running.has(model.name)) {
      void vscode.window.showInformationMessage(`A fidelity check of ${model.name} is already running.`);
      return;
    }
    const core = await loadCore();
    const { resolveEditorInterpreter, howToChooseInterpreter } = core.exportInterpreter;
    const { resolveEntryFile } = core.artifacts;
    const { runHostCheck, HOST_STAGES } = core.fidelityCheck;
    const { findFidelityDriver } = core.fidelityDriver;
    const { findOrtWasmDir, findOnnxWorker } = core.fidelityOnnx;
    const { listFidelityRecords, fidelityResultDirs } = core.fidelityRecord;

    const entryFile = model.entry ? await resolveEntryFile(model.entry, root) : undefined;
    const resource = entryFile ? vscode.Uri.file(entryFile) : project.uri;
    const interpreter = await resolveEditorInterpreter({ pythonExtension: () => pythonFromExtension(resource, log), setting: setting('pythonPath', resource) });
    const dist = path.join(context.extensionPath, 'dist');
    const dirs = fidelityResultDirs(root);
    const runsDir = pipeline?.runsDir ?? dirs.runs;
    const outDir = core.remoteRun.runDir(runsDir, core.remoteRun.newRunId(model.name));
    const baseline = listFidelityRecords([runsDir, dirs.legacy], model.name)[0]?.record;
    const { remoteStages, REMOTE_STAGES } = core.fidelityRemote;
    const files = core.projectLoad.modelPaths(model, root);
    const quantizedHar = core.remotePipeline.optimizedHarPath(files.har);
    const stages = HOST_STAGES.filter((s) => !model.fidelity?.stages || model.fidelity.stages.includes(s));
    // default: the remote stages whose file exists; listed in fidelity.stages, a missing file is a skipped stage with the reason
    const remoteList = REMOTE_STAGES.filter((s) =>
      model.fidelity?.stages
        ? model.fidelity.stages.includes(s)
        : s === 'device'
          ? fs.existsSync(files.hef)
          : fs.existsSync(files.har) || fs.existsSync(quantizedHar),
    );
    const ended: (() => void)[] = [];
    if (project.uri) diagnostics.delete(project.uri);
    running.add(model.name);
    try {
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Checking fidelity of ${model.name}`, cancellable: true },
        async (progress, token) => {
          const ac = new AbortController();
          const sub = signalFor(token, ac);
          try {
            const checked = await runHostCheck({
              model,
              root,
              outDir,
              stages: [...stages],
              interpreter,
              chooseHint: howToChooseInterpreter('editor'),
              driverPath: findFidelityDriver([dist, __dirname]),
              wasmDir: findOrtWasmDir([dist, __dirname]),
              onnxWorker: findOnnxWorker([dist, __dirname]),
              signal: ac.signal,
              log,
              onProgress: (m) => progress.report({ message: m }),
              onOutput: (line) => log.debug(`[python] ${line}`),
              ...(remoteList.length && pipeline
                ? {
                    remote: remoteStages({
                      model,
                      root,
                      outDir,
                      stages: remoteList,
                      targets: project.project?.targets ?? [],
                      devices: project.project?.devices ?? [],
                      files: { har: files.har, quantizedHar, hef: files.hef },
                      driverPath: findFidelityDriver([dist, __dirname]),
                      contextFor: async (where) => {
                        const { ctx, done } = await pipeline.runnerContext(where.host, { onMessage: (m) => progress.report({ message: m }) }, ac.signal);
                        ended.push(done);
                        return ctx;
                      },
                    }),
                  }
                : {}),
            });
            return checked;
          } finally {
            sub.dispose();
            for (const d of ended) d();
          }
        },
      );
      await present(model, r, baseline);
    } catch (e) {
      if (isCancelled(e)) {
        log.info(`Fidelity check of ${model.name} cancelled`);
        return;
      }
      throw e;
    } finally {
      running.delete(model.name);
    }
  }

  /** A reattached fidelity run ended: complete its check (compare, store, annotate the runs) and present it as a check would. */
  async function completeReattached(run: RunRecord): Promise<void> {
    const root = project.root;
    const runsDir = pipeline?.runsDir;
    if (!root || !runsDir) return;
    const core = await loadCore();
    const dir = core.fidelityStore.findCheckOfRun(runsDir, run.id);
    if (!dir) {
      log.warn(`Fidelity run ${run.id} ended, but no fidelity check in ${runsDir} names it: nothing to compare`);
      return;
    }
    const plan = core.fidelityStore.readCheckPlan(dir);
    const model = project.project?.models.find((m) => m.name === plan.model);
    const done = await core.fidelityCheck.completeCheck(dir, { plan, runsDir });
    log.info(`Fidelity run ${run.id} ended (${run.status}): the check in ${path.relative(root, dir)} is compared again`);
    if (!model) {
      log.warn(`Fidelity of ${plan.model}: the model is no longer in hailo.json; results in ${path.relative(root, done.file)}`);
      return;
    }
    const dirs = core.fidelityRecord.fidelityResultDirs(root);
    const baseline = core.fidelityRecord
      .listFidelityRecords([runsDir, dirs.legacy], model.name)
      .find((r) => path.resolve(r.dir) !== path.resolve(dir) && Date.parse(r.record.createdAt) <= Date.parse(plan.createdAt))?.record;
    await present(model, done, baseline);
  }

  if (pipeline)
    context.subscriptions.push(pipeline.onDidEndFidelityRun((run) => void completeReattached(run).catch((e) => log.error(e instanceof Error ? e : String(e)))));
  context.subscriptions.push(vscode.commands.registerCommand('hailo.checkFidelity', command(log, checkFidelity)));
}
