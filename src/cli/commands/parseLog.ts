import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatDfcLogSummary, parseDfcLogFile } from '../../core/hailo/dfcLogReport';
import { scanCompilerEstimate } from '../../core/hailo/estimate';
import { detectHailortOutput, formatHailortOutput, hailortFailed, parseHailortSession } from '../../core/hailo/hailort';
import { HailoError } from '../../core/errors';
import type { CliCommand } from '../args';

export const parseLogCommand: CliCommand = {
  name: 'parse-log',
  help: `Usage: hailo-workbench parse-log FILE [--format text|json]

Reads a console log of \`hailo parser|optimize|compiler\`, the Python ClientRunner API or
\`hailomz\` (colours, progress bars and TensorFlow noise are fine) and prints what it found:
tool versions, steps and their durations, errors with their class and ONNX node, the parser's
recommended end nodes, node mappings, optimization algorithms and SNR, single or multi-context
compilation with per-context utilisation, and the compiler's layer list. The profiler's
performance estimate (the "Performance Summary" of \`hailo profiler\` / \`hailomz profile\`:
throughput, latency, contexts) is printed when the log has one ("estimate" in the JSON).

The output of \`hailortcli\` (scan, fw-control identify, parse-hef, run, run2, benchmark; HailoRT
4.x and 5.x) is recognised too and read into its figures: FPS (HW-only and streaming), HW and
overall latency, power, contexts; a figure that was not measured is printed as "not measured"
with the reason. A capture with several commands (shell prompt lines) is read command by command.

--format json prints the full summary (the same object stored in a run's run.json).
Exit code 0 when the log shows no failure, 1 when it shows errors or a failed step,
2 when the file cannot be read.`,
  options: [{ name: 'format', value: true, choices: ['text', 'json'] }],
  async run(args, io) {
    const arg = args.positionals[0];
    if (!arg) throw new HailoError('INVALID_ARGUMENT', 'missing FILE (a DFC console log)');
    if (args.positionals.length > 1) throw new HailoError('INVALID_ARGUMENT', `one FILE only (got ${args.positionals.length})`);
    const file = path.resolve(io.cwd, arg);
    const head = await readHead(file);
    if (head !== undefined && detectHailortOutput(head)) {
      const st = fs.statSync(file);
      if (st.size > HAILORT_MAX)
        throw new HailoError('INVALID_ARGUMENT', `${file}: ${st.size} bytes is more than a hailortcli capture can be (${HAILORT_MAX} bytes)`, { file });
      const parts = parseHailortSession(fs.readFileSync(file, 'utf8'));
      if (args.values.format === 'json') io.out(JSON.stringify({ tool: 'hailortcli', file, outputs: parts }, null, 2));
      else
        io.out(
          [`${file}: hailortcli output`, ...parts.map((p) => `${p.command ? `$ ${p.command}  (line ${p.line})\n` : ''}${formatHailortOutput(p.output)}`)].join(
            '\n',
          ),
        );
      return parts.some((p) => hailortFailed(p.output)) ? 1 : 0;
    }
    const summary = await parseDfcLogFile(file, io.signal);
    // the profiler's estimate: a table near the end of the log; logs larger than a capture can be are not searched
    const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? Infinity;
    const est = size <= HAILORT_MAX ? scanCompilerEstimate(fs.readFileSync(file, 'utf8')) : undefined;
    if (args.values.format === 'json') io.out(JSON.stringify(est?.estimate ? { ...summary, estimate: est.estimate } : summary, null, 2));
    else {
      const e = est?.estimate;
      const line = e
        ? `compiler estimate (${e.source}): ${[e.fps !== undefined ? `${e.fps} FPS` : undefined, e.latencyMs !== undefined ? `${e.latencyMs} ms` : undefined, e.contexts !== undefined ? `${e.contexts} context(s)` : undefined].filter(Boolean).join(', ')}`
        : est?.missing && !est.missing.startsWith('no "Performance Summary"')
          ? `compiler estimate: none (${est.missing})`
          : undefined;
      io.out(formatDfcLogSummary(summary, { file }) + (line ? `\n${line}` : ''));
    }
    return summary.outcome === 'failed' ? 1 : 0;
  },
};

/** hailortcli output is small; a file larger than this is not one. */
const HAILORT_MAX = 64 * 1024 * 1024;

/** The first 256 KiB, to tell hailortcli output from a DFC log; undefined when unreadable (the DFC reader reports it). */
async function readHead(file: string): Promise<string | undefined> {
  try {
    const fh = await fs.promises.open(file, 'r');
    try {
      const buf = Buffer.alloc(256 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}
