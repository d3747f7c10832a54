import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../errors';
import { parseDfcLog, type DfcLogSummary } from '../hailo/dfcLog';
import { nullLogger, type Logger } from '../logger';
import { modelPaths } from '../project/load';
import type { Model, Target } from '../project/schema';
import { dfcEnvironment, versionsFromLog } from './dfc';
import { optimizedHarPath } from './pipelinePaths';
import { rjoin } from './quote';
import { isRunFileName, type RunRecord, type RunStep } from './run';
import type { RunnerContext, StepDriver } from './runner';

/**
 * The step driver of the Dataflow Compiler on a compile target: steps start inside the target's
 * DFC environment (PATH, venv or Docker), their logs go through the DFC log parser, and a
 * successful step's HAR/HEF is copied to the model's paths from hailo.json.
 */
export function dfcDriver(opts: { projectRoot?: string; model?: Model; target?: Target } = {}): StepDriver {
  return {
    kind: 'compile',
    environment: (run) => dfcEnvironment(run.target.dfc ?? opts.target?.dfc, run.target.workDir),
    finish(_run, _step, text) {
      const summary = parseDfcLog(text);
      const reason = lastError(summary);
      return { summary, versions: versionsFromLog(text), ...(reason ? { reason } : {}) };
    },
    memoryMessage: (run, step, peakKB) =>
      `${step.step} used more than ${run.target.memoryLimitGB} GB on ${run.target.host} (peak ${(peakKB / 1048576).toFixed(2)} GB) and was stopped. Try a smaller calibration set, a lower optimization level (model_optimization_flavor(optimization_level=0) in the .alls), or no fine-tuning (post_quantization_optimization(finetune, policy=disabled)); or raise memoryLimitGB for this target.`,
    async afterStep(ctx, run, step, localDir) {
      if (opts.model && opts.projectRoot) copyToModelPaths(run, step, localDir, opts.model, opts.projectRoot, ctx.log ?? nullLogger);
      await collectExtras(ctx, run, step, localDir);
    },
  };
}

/** The error worth showing for a failed step: the last one the log parser found. */
export function lastError(summary: DfcLogSummary): string | undefined {
  const e = summary.errors[summary.errors.length - 1];
  if (!e) return summary.compile.failureReason;
  return e.errorClass && !e.message.startsWith(e.errorClass) ? `${e.errorClass}: ${e.message}` : e.message;
}

/** Profiler output and other files the step left beside the run (HTML reports, hailo_sdk.client.log). */
export async function collectExtras(ctx: RunnerContext, run: RunRecord, step: RunStep, localDir: string): Promise<void> {
  const known = new Set(run.steps.flatMap((s) => s.artifacts.map((a) => path.posix.basename(a.remote))));
  const r = await ctx.host.execScript(
    'cd -- "$1" 2>/dev/null && for f in *.html *.svg hailo_sdk.client.log; do [ -f "$f" ] && printf "%s\\n" "$f"; done; exit 0',
    [run.remoteDir],
    { check: false },
  );
  for (const name of r.stdout.toString().split('\n').filter(Boolean)) {
    // only what the listing asked for: a name the remote made up (run.json, ../x) is never written
    if (known.has(name) || !isRunFileName(name) || !/\.(html|svg)$|^hailo_sdk\.client\.log$/.test(name)) continue;
    const remote = rjoin(run.remoteDir, name);
    try {
      const size = await ctx.host.download(remote, path.join(localDir, name));
      step.artifacts.push({ kind: name.endsWith('.log') ? 'log' : 'profile', remote, local: name, size });
    } catch {}
  }
}

function copyToModelPaths(run: RunRecord, step: RunStep, localDir: string, model: Model, root: string, log: Logger): void {
  const p = modelPaths(model, root);
  const dest: Partial<Record<string, string>> = { har: p.har, 'quantized-har': optimizedHarPath(p.har), hef: p.hef };
  for (const a of step.artifacts) {
    const to = dest[a.kind];
    if (!to || !a.local) continue;
    try {
      // a file changed after the run started (edited, or written by a later run) is newer than
      // this result: keep it; the result stays in the run folder
      const mtime = fs.statSync(to, { throwIfNoEntry: false })?.mtimeMs;
      if (mtime !== undefined && mtime > Date.parse(run.createdAt)) {
        log.warn(`Run ${run.id}: ${to} changed after the run started; not replaced. The run's ${a.local} is in ${localDir}`);
        continue;
      }
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(localDir, a.local), `${to}.part`);
      fs.renameSync(`${to}.part`, to);
      log.info(`Run ${run.id}: ${a.local} → ${to}`);
    } catch (e) {
      log.warn(`Run ${run.id}: could not copy ${a.local} to ${to}: ${errorMessage(e)}`);
    }
  }
}
