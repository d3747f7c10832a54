import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  HailortJsonError,
  isMeasured,
  mergeCsv,
  mergeRun2Json,
  parseRun2Json,
  type Figure,
  type FigureName,
  notMeasured,
  parseBenchmark,
  parseFiguresCsv,
  parseParseHef,
  parseRun,
  parseRun2,
  type HailortFigures,
  type HefInfo,
} from '../hailo/hailort';
import { REPEAT_MARK, hefCompatibility, type Compatibility } from './device';
import { RESULTS_FILE, deviceResultOf } from './results';
import type { RunRecord, RunStep } from './run';
import type { StepDriver, StepVerdict } from './runner';

/** What the parse-hef step stores as its summary. */
export interface ParseHefSummary {
  hef: HefInfo;
  compatibility: Compatibility;
}

export const hefOf = (run: RunRecord): HefInfo | undefined => (run.steps.find((s) => s.step === 'parse-hef')?.summary as ParseHefSummary | undefined)?.hef;

/** A missing HW latency explained by the HEF when HailoRT's own warning was not in the log. */
function explain(f: HailortFigures, hef: HefInfo | undefined): HailortFigures {
  if (!hef || isMeasured(f.hwLatencyMs) || !/summary has no HW latency|not printed/.test(f.hwLatencyMs.notMeasured)) return f;
  if (hef.nms) return { ...f, hwLatencyMs: notMeasured('HailoRT does not measure HW latency on networks with on-chip NMS') };
  if (hef.inputs > 1)
    return { ...f, hwLatencyMs: notMeasured(`HailoRT measures HW latency only on networks with a single input (this one has ${hef.inputs})`) };
  return f;
}

/** A benchmark step's figures: the median of its repetitions, and each repetition's own figures. */
export type RepeatedFigures = HailortFigures & { repetitions?: HailortFigures[] };

const FIGURE_NAMES: FigureName[] = ['fpsHwOnly', 'fpsStreaming', 'hwLatencyMs', 'overallLatencyMs', 'powerAvgW', 'powerMaxW'];

/** The benchmark output of each repetition (`HWB-REPEAT i/n` lines between them); the whole text when there are none. */
export function splitRepetitions(text: string): string[] {
  const lines = text.split('\n');
  const parts: string[][] = [];
  let cur: string[] | undefined;
  for (const l of lines) {
    if (REPEAT_MARK.test(l.replace(/\r$/, '').trim())) {
      cur = [];
      parts.push(cur);
    } else if (cur) cur.push(l);
  }
  return parts.length ? parts.map((p) => p.join('\n')) : [text];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * One set of figures for repeated benchmarks: per figure the median of the repetitions that
 * measured it (a figure no repetition measured keeps the last one's reason); failure state from
 * the last repetition, complete only when every repetition printed its summary.
 */
export function aggregateRepetitions(reps: HailortFigures[]): RepeatedFigures {
  if (reps.length === 1) return reps[0]!;
  const last = reps[reps.length - 1]!;
  const out: RepeatedFigures = { ...last, repetitions: reps, complete: reps.every((r) => r.complete) };
  const seen = new Set<string>();
  out.warnings = reps.flatMap((r) => r.warnings).filter((w) => !seen.has(w.text) && !!seen.add(w.text));
  out.errors = reps.flatMap((r) => r.errors);
  for (const k of FIGURE_NAMES) {
    const measured = reps.map((r) => r[k]).filter(isMeasured);
    out[k] = measured.length ? { value: median(measured.map((m) => m.value)), unit: measured[0]!.unit, source: measured[0]!.source } : (last[k] as Figure);
  }
  return out;
}

function failureOf(f: HailortFigures): string | undefined {
  const e = f.errors[f.errors.length - 1];
  const first = f.errors.find((x) => !/^Failed to execute on device/.test(x.text));
  return (first ?? e)?.text ?? f.status;
}

/**
 * The step driver of HailoRT on a device: steps run on the device's own shell; parse-hef is checked
 * against the device (a refused HEF stops the run before anything runs on the NPU); benchmark,
 * run and run2 logs become figures (kept when the tool failed after printing some); the results
 * are written beside run.json as results.json.
 */
export function deviceDriver(): StepDriver {
  return {
    kind: 'device',
    environment: () => ({ jobEnv: { prefix: [] }, launch: (argv) => [...argv], mapPath: (p) => p, describe: 'HailoRT on the device' }),
    finish(run, step, text, result): StepVerdict {
      const exit = result.exitCode;
      switch (step.step) {
        case 'parse-hef': {
          const hef = parseParseHef(text);
          const compatibility = hefCompatibility(
            hef,
            { ...(run.device?.architecture ? { architecture: run.device.architecture } : {}), ...(run.device?.hailort ? { hailort: run.device.hailort } : {}) },
            run.toolVersions.dfc,
          );
          const summary: ParseHefSummary = { hef, compatibility };
          if (exit !== 0) return { summary, reason: hef.errors[0]?.text ?? 'parse-hef could not read the HEF' };
          if (compatibility.refuse) return { summary, failed: true, code: 'HEF_INCOMPATIBLE', reason: `not run: ${compatibility.refuse}` };
          return { summary };
        }
        case 'benchmark': {
          const parts = splitRepetitions(text);
          const reps = parts.map((p, i) => explain(parseBenchmark(p, i === parts.length - 1 ? exit : 0), hefOf(run)));
          const figures = aggregateRepetitions(reps);
          const reason = exit !== 0 ? failureOf(reps[reps.length - 1]!) : undefined;
          return { summary: figures, ...(reason ? { reason: parts.length > 1 ? `repetition ${parts.length}: ${reason}` : reason } : {}) };
        }
        case 'run':
        case 'run2': {
          const parse = step.step === 'run' ? parseRun : parseRun2;
          const figures = explain(parse(text, exit), hefOf(run));
          const reason = exit !== 0 ? failureOf(figures) : undefined;
          return { summary: figures, ...(reason ? { reason } : {}) };
        }
        default:
          return {};
      }
    },
    afterStep(_ctx, _run, step: RunStep, localDir) {
      if (!step.summary) return;
      if (step.step === 'benchmark') {
        // benchmark --csv: full-precision figures over the text ones, per repetition
        const sum = step.summary as RepeatedFigures;
        const reps = sum.repetitions ? [...sum.repetitions] : [sum];
        let merged = false;
        for (const a of step.artifacts) {
          if (!a.local?.endsWith('.csv')) continue;
          const file = path.join(localDir, a.local);
          const m = /-(\d+)\.csv$/.exec(a.local);
          const i = sum.repetitions && m ? Number(m[1]) - 1 : 0;
          if (!fs.existsSync(file) || !reps[i]) continue;
          reps[i] = mergeCsv(reps[i]!, parseFiguresCsv(fs.readFileSync(file, 'utf8')));
          merged = true;
        }
        if (merged) step.summary = aggregateRepetitions(reps);
      } else if (step.step === 'run2') {
        // run2 -j: the statistics file over the console line
        const json = step.artifacts.find((a) => a.local?.endsWith('.json'));
        if (!json?.local) return;
        const file = path.join(localDir, json.local);
        if (!fs.existsSync(file)) return;
        const text = step.summary as HailortFigures;
        try {
          step.summary = mergeRun2Json(text, parseRun2Json(fs.readFileSync(file, 'utf8'), text.network));
        } catch (e) {
          if (!(e instanceof HailortJsonError)) throw e;
          step.summary = {
            ...text,
            warnings: [...text.warnings, { level: 'warning', text: `${json.local}: ${e.message}; the console figures are used`, line: 0 }],
          };
        }
      }
    },
    afterRun(_ctx, run, localDir) {
      const result = deviceResultOf(run);
      if (!result) return;
      const file = path.join(localDir, RESULTS_FILE);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
      fs.renameSync(`${file}.tmp`, file);
    },
  };
}
