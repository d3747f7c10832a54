import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  isMeasured,
  mergeCsv,
  notMeasured,
  parseBenchmark,
  parseFiguresCsv,
  parseParseHef,
  parseRun,
  parseRun2,
  type HailortFigures,
  type HefInfo,
} from '../hailo/hailort';
import { hefCompatibility, type Compatibility } from './device';
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
        case 'benchmark':
        case 'run':
        case 'run2': {
          const parse = step.step === 'benchmark' ? parseBenchmark : step.step === 'run' ? parseRun : parseRun2;
          const figures = explain(parse(text, exit), hefOf(run));
          const reason = exit !== 0 ? failureOf(figures) : undefined;
          return { summary: figures, ...(reason ? { reason } : {}) };
        }
        default:
          return {};
      }
    },
    afterStep(_ctx, _run, step: RunStep, localDir) {
      // benchmark --csv: full-precision figures over the text ones
      const csv = step.artifacts.find((a) => a.local?.endsWith('.csv'));
      if (!csv?.local || !step.summary) return;
      const file = path.join(localDir, csv.local);
      if (fs.existsSync(file)) step.summary = mergeCsv(step.summary as HailortFigures, parseFiguresCsv(fs.readFileSync(file, 'utf8')));
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
