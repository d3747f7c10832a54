import { stripAnsi } from '../format';

/**
 * The Dataflow Compiler's own performance estimate. The DFC prints it as the "Performance Summary"
 * table of its profiler (`hailo profiler <har>`, `hailomz profile <model>`), a tabulate "simple"
 * table on the console (real output, DFC 3.x under the Model Zoo):
 *
 *     Performance Summary
 *     -------------------------------  --------------
 *     Number of Devices                1
 *     Number of Contexts               1
 *     Throughput                       433.38 FPS
 *     Latency                          6.34 ms
 *     Total NN Core Power Consumption  1.64 W
 *     ...
 *     -------------------------------  --------------
 *
 * preceded by a "Profiler Input Settings" table whose `Profiler Mode` says what the estimate rests
 * on (`Pre Placement` before the compiler placed the model). When the profiler cannot estimate
 * (a failed layer-latency calculation), the figures are `N/A`. `hailo compiler` itself prints no
 * estimate; its log has only the per-context utilisation tables.
 */

export interface CompilerEstimate {
  /** Estimated throughput (the table's `Throughput`, FPS). */
  fps?: number;
  /** Estimated latency in ms. */
  latencyMs?: number;
  /** Where it came from: `hailo profiler (Pre Placement)`. */
  source: string;
  contexts?: number;
  powerW?: number;
}

export interface EstimateScan {
  estimate?: CompilerEstimate;
  /** Why there is no estimate: no table, or a table of N/A. */
  missing?: string;
}

const num = (s: string): number | undefined => (/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s) ? Number(s) : undefined);

/** A table of `Label  value` rows between dashed rules, starting at `title`; undefined when absent. */
function table(lines: string[], title: string): Map<string, string> | undefined {
  let at = -1;
  for (let i = 0; i < lines.length; i++) if (lines[i] === title) at = i;
  if (at < 0) return undefined;
  const rows = new Map<string, string>();
  let rules = 0;
  for (let i = at + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^-{3,}( +-{3,})*$/.test(l)) {
      if (++rules === 2) break;
      continue;
    }
    if (rules !== 1) break;
    const m = /^(.+?) {2,}(\S.*)$/.exec(l);
    // a repeated label (`Operations per Second` in GOP/s, then GMAC/s) keeps the first
    if (m && !rows.has(m[1]!)) rows.set(m[1]!, m[2]!.trim());
  }
  return rows;
}

/** Scan a console log for the profiler's estimate; the last "Performance Summary" counts. */
export function scanCompilerEstimate(text: string): EstimateScan {
  const lines = stripAnsi(text)
    .split('\n')
    .map((raw) => {
      const parts = raw.split('\r').filter((p) => p.trim() !== '');
      return (parts.length ? parts[parts.length - 1]! : '').replace(/^\[info\] ?/, '').replace(/\s+$/, '');
    });
  const perf = table(lines, 'Performance Summary');
  if (!perf) return { missing: 'no "Performance Summary" of the Dataflow Compiler profiler in this log' };
  const settings = table(lines, 'Profiler Input Settings');
  const mode = settings?.get('Profiler Mode');
  const est: CompilerEstimate = { source: `hailo profiler${mode ? ` (${mode})` : ''}` };
  const t = /^(\S+) FPS$/.exec(perf.get('Throughput') ?? '');
  const fps = t ? num(t[1]!) : undefined;
  if (fps !== undefined && fps > 0) est.fps = fps;
  const l = /^(\S+) (ms|us|s)$/.exec(perf.get('Latency') ?? '');
  const lat = l ? num(l[1]!) : undefined;
  if (lat !== undefined && lat > 0) est.latencyMs = l![2] === 'ms' ? lat : l![2] === 'us' ? lat / 1000 : lat * 1000;
  const c = num(perf.get('Number of Contexts') ?? '');
  if (c !== undefined) est.contexts = c;
  const p = /^(\S+) W$/.exec(perf.get('Total NN Core Power Consumption') ?? '');
  if (p && num(p[1]!) !== undefined) est.powerW = num(p[1]!)!;
  if (est.fps === undefined && est.latencyMs === undefined)
    return {
      missing: `the profiler's Performance Summary gives no throughput or latency (Throughput ${perf.get('Throughput') ?? 'absent'}, Latency ${perf.get('Latency') ?? 'absent'})`,
    };
  return { estimate: est };
}

/**
 * The compiler's performance estimate in a log (`hailo profiler` / `hailomz profile` console
 * output, or a compile log that contains it), or undefined when the log gives none.
 */
export function parseCompilerEstimate(text: string): CompilerEstimate | undefined {
  return scanCompilerEstimate(text).estimate;
}

/** Measured over estimated (FPS: below 1 is slower than estimated; latency: above 1 is slower). */
export function estimateRatio(measured: number | undefined, estimated: number | undefined): number | undefined {
  return measured !== undefined && estimated !== undefined && estimated > 0 ? measured / estimated : undefined;
}
