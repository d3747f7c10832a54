import * as path from 'node:path';
import { formatDfcLogSummary, parseDfcLogFile } from '../../core/hailo/dfcLogReport';
import { HailoError } from '../../core/errors';
import type { CliCommand } from '../args';

export const parseLogCommand: CliCommand = {
  name: 'parse-log',
  help: `Usage: hailo-workbench parse-log FILE [--format text|json]

Reads a console log of \`hailo parser|optimize|compiler\`, the Python ClientRunner API or
\`hailomz\` (colours, progress bars and TensorFlow noise are fine) and prints what it found:
tool versions, steps and their durations, errors with their class and ONNX node, the parser's
recommended end nodes, node mappings, optimization algorithms and SNR, single or multi-context
compilation with per-context utilisation, and the compiler's layer list.

--format json prints the full summary (the same object stored in a run's run.json).
Exit code 0 when the log shows no failure, 1 when it shows errors or a failed step,
2 when the file cannot be read.`,
  options: [{ name: 'format', value: true, choices: ['text', 'json'] }],
  async run(args, io) {
    const arg = args.positionals[0];
    if (!arg) throw new HailoError('INVALID_ARGUMENT', 'missing FILE (a DFC console log)');
    if (args.positionals.length > 1) throw new HailoError('INVALID_ARGUMENT', `one FILE only (got ${args.positionals.length})`);
    const file = path.resolve(io.cwd, arg);
    const summary = await parseDfcLogFile(file, io.signal);
    if (args.values.format === 'json') io.out(JSON.stringify(summary, null, 2));
    else io.out(formatDfcLogSummary(summary, { file }));
    return summary.outcome === 'failed' ? 1 : 0;
  },
};
