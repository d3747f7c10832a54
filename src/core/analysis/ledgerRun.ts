import * as fs from 'node:fs/promises';
import { HailoError, throwIfAborted } from '../errors';
import type { HarContents } from '../hailo/har';
import type { HnModel } from '../hailo/hn';
import type { GraphModel } from '../graph/model';
import { loadSourceMap } from '../graph/sourceMap';
import type { Finding } from '../finding';
import { parseDfcLog } from '../hailo/dfcLog';
import { computeLedger, type Ledger, type LedgerStage } from './ledger';
import { contextsFromModelScript } from './ledgerLogFacts';
import { ledgerFindings, type LedgerFiles } from './ledgerFindings';
import * as path from 'node:path';
import { openOnnx } from '../onnx';
import { openHnOrHar } from '../hailo/hn';
import { readRun, isDfcStep } from '../remote/run';

/**
 * Everything needed to compare a model with a HAR from files: open the ONNX (shapes inferred),
 * the HAR or HN, the logs and the source map, then compute the ledger and its findings. Used by
 * the `diff` command line and the editor alike.
 */

export interface LedgerInputs {
  onnxFile: string;
  /** A `.har` or `.hn` file. */
  hailoFile: string;
  parseLogFile?: string;
  compileLogFile?: string;
  /** Defaults to what the HAR's members say, else `compile` with a compile log, else `parse`. */
  stage?: LedgerStage;
  signal?: AbortSignal;
}

export interface LedgerRunResult {
  ledger: Ledger;
  findings: Finding[];
  files: LedgerFiles;
  hn: HnModel;
  har?: Pick<HarContents, 'state' | 'stateEvidence' | 'gzip' | 'members' | 'paramsBytes' | 'sdkVersion'>;
  /** Milliseconds: reading the ONNX, reading the HAR/HN, computing the ledger. */
  timings: { readOnnx: number; readHailo: number; ledger: number };
  warnings: string[];
}

const MAX_LOG_BYTES = 256 * 1024 * 1024;

async function readLog(file: string): Promise<string> {
  try {
    const st = await fs.stat(file);
    if (st.size > MAX_LOG_BYTES) throw new HailoError('INVALID_ARGUMENT', `${file}: ${st.size} bytes, too large for a DFC log`, { file });
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof HailoError) throw e;
    throw new HailoError('MODEL_READ_FAILED', `${file}: cannot read the log (${(e as Error).message})`, { file, cause: e });
  }
}

const STAGE_OF_STATE: Record<string, LedgerStage | undefined> = { parsed: 'parse', optimized: 'optimize', compiled: 'compile' };

export async function runLedger(
  inputs: LedgerInputs,
  deps: { openOnnxGraph?: (file: string, signal?: AbortSignal) => Promise<GraphModel> } = {},
): Promise<LedgerRunResult> {
  const warnings: string[] = [];
  const t0 = performance.now();
  const openOnnxGraph =
    deps.openOnnxGraph ??
    (async (file: string, signal?: AbortSignal) => {
      const m = await openOnnx(file, signal ? { signal } : {});
      for (const w of m.warnings) warnings.push(`${file}: ${w}`);
      return m.graph;
    });
  const onnx = await openOnnxGraph(inputs.onnxFile, inputs.signal);
  const t1 = performance.now();
  throwIfAborted(inputs.signal);
  const opened = await openHnOrHar(inputs.hailoFile, inputs.signal ? { signal: inputs.signal } : {});
  const t2 = performance.now();
  throwIfAborted(inputs.signal);
  for (const w of opened.hn.warnings) warnings.push(`${opened.hn.file}: ${w}`);
  for (const w of opened.har?.warnings ?? []) warnings.push(`${inputs.hailoFile}: ${w}`);

  const parseLog = inputs.parseLogFile ? await readLog(inputs.parseLogFile) : undefined;
  const compileLog = inputs.compileLogFile ? await readLog(inputs.compileLogFile) : undefined;
  let sourceMap: Awaited<ReturnType<typeof loadSourceMap>>;
  try {
    sourceMap = await loadSourceMap(inputs.onnxFile);
  } catch (e) {
    warnings.push(`source map ignored: ${(e as Error).message}`);
  }
  const stage = inputs.stage ?? STAGE_OF_STATE[opened.har?.state ?? ''] ?? (compileLog ? 'compile' : 'parse');
  // a compiled HAR can hold the user's script beside the compiler's auto script: the one that assigns contexts wins
  const scripts = Object.values(opened.har?.modelScripts ?? {});
  const modelScript = scripts.find((t) => contextsFromModelScript(t).size) ?? scripts[0];
  const dfcVersion = opened.har?.sdkVersion?.value ?? opened.hn.sdkVersion;
  const parseSummary = parseLog !== undefined ? parseDfcLog(parseLog) : undefined;
  const compileSummary = compileLog !== undefined ? parseDfcLog(compileLog) : undefined;
  const ledger = computeLedger(onnx, opened.hn.graph, {
    stage,
    ...(parseSummary ? { parseLog: parseSummary } : {}),
    ...(compileSummary ? { compileLog: compileSummary } : {}),
    ...(modelScript !== undefined ? { modelScript } : {}),
    ...(sourceMap ? { sourceMap } : {}),
  });
  // the logs name the DFC that ran; the archive's metadata is the fallback
  if (!ledger.dfcVersion && dfcVersion) ledger.dfcVersion = dfcVersion;
  const t3 = performance.now();
  const files: LedgerFiles = {
    onnx: inputs.onnxFile,
    hn: inputs.hailoFile,
    ...(inputs.parseLogFile ? { parseLog: inputs.parseLogFile } : {}),
    ...(inputs.compileLogFile ? { compileLog: inputs.compileLogFile } : {}),
  };
  return {
    ledger,
    findings: ledgerFindings(ledger, files),
    files,
    hn: opened.hn,
    ...(opened.har
      ? {
          har: {
            state: opened.har.state,
            stateEvidence: opened.har.stateEvidence,
            gzip: opened.har.gzip,
            members: opened.har.members,
            paramsBytes: opened.har.paramsBytes,
            ...(opened.har.sdkVersion ? { sdkVersion: opened.har.sdkVersion } : {}),
          },
        }
      : {}),
    timings: { readOnnx: t1 - t0, readHailo: t2 - t1, ledger: t3 - t2 },
    warnings: [...warnings, ...ledger.warnings],
  };
}

/**
 * The ledger inputs of a pipeline run folder (`.hailo/runs/<id>/`, with `run.json`) after `step`:
 * the newest HAR the run brought back up to that step, the parse and compile logs, and the ONNX
 * the run started from (or `onnxFallback`, the model's ONNX in the project). Undefined, with the
 * reason, when the run has nothing to compare.
 */
export async function ledgerInputsFromRun(
  runDirPath: string,
  step: LedgerStage,
  onnxFallback?: string,
): Promise<{ inputs: LedgerInputs; model: string } | { reason: string }> {
  const run = readRun(path.join(runDirPath, 'run.json'));
  const order: LedgerStage[] = ['parse', 'optimize', 'compile'];
  const upTo = order.indexOf(step);
  const exists = async (f: string) =>
    fs.stat(f).then(
      (s) => s.isFile(),
      () => false,
    );
  let har: string | undefined;
  // the stage is that of the step whose HAR is compared (an earlier one when a download failed)
  let harStage: LedgerStage = step;
  for (const s of run.steps) {
    if (!isDfcStep(s.step) || order.indexOf(s.step) > upTo) continue;
    for (const a of s.artifacts) {
      if ((a.kind === 'har' || a.kind === 'quantized-har' || a.kind === 'compiled-har') && a.local) {
        const f = path.join(runDirPath, a.local);
        if (await exists(f)) {
          har = f;
          harStage = s.step;
        }
      }
    }
  }
  if (!har) return { reason: `run ${run.id} has no HAR on disk up to the ${step} step` };
  const logOf = async (name: LedgerStage) => {
    const s = run.steps.find((x) => x.step === name);
    const f = s?.log ? path.join(runDirPath, s.log) : undefined;
    return f && (await exists(f)) ? f : undefined;
  };
  const onnxInput = run.inputs.find((i) => i.role === 'onnx')?.local;
  const onnx = onnxInput && (await exists(onnxInput)) ? onnxInput : onnxFallback && (await exists(onnxFallback)) ? onnxFallback : undefined;
  if (!onnx) return { reason: `run ${run.id}: the ONNX model it was made from is not on disk` };
  const parseLogFile = await logOf('parse');
  const compileLogFile = upTo >= 2 ? await logOf('compile') : undefined;
  return {
    model: run.model,
    inputs: { onnxFile: onnx, hailoFile: har, stage: harStage, ...(parseLogFile ? { parseLogFile } : {}), ...(compileLogFile ? { compileLogFile } : {}) },
  };
}
