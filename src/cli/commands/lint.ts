import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError } from '../../core/errors';
import { HW_ARCHS, PROJECT_FILE_NAME } from '../../core/project/schema';
import { lintOnnxFile } from '../../core/analysis/lintFile';
import { formatText, toJson, toSarif } from '../../core/analysis/lintFormat';
import type { CliCommand } from '../args';

declare const __VERSION__: string;

export const lintCommand: CliCommand = {
  name: 'lint',
  help: `Usage: hailo-workbench lint MODEL.onnx [--hw-arch hailo8l] [--config hailo.json] [--model NAME] [--format text|json|sarif]

Reports what the Hailo toolchain will reject or rewrite in an ONNX model, with a fix for each
finding (rule catalogue: README, "Lint rule catalogue").

  --hw-arch   target architecture (default: the model's hwArch in hailo.json, else hailo8l)
  --config    project file with the expected input/output shapes (default: ./hailo.json when it
              lists this model)
  --model     model name in the project file (default: the model whose "onnx" is MODEL.onnx)
  --format    text (default), json, or sarif (SARIF 2.1.0 for code-scanning tools)

Findings carry the PyTorch file and line when MODEL.onnx.sourcemap.json exists.
Exit code 0 when there is no error finding, 1 when there are errors, 2 when the model or the
project file cannot be read.`,
  options: [
    { name: 'hw-arch', value: true, choices: HW_ARCHS },
    { name: 'config', value: true },
    { name: 'model', value: true },
    { name: 'format', value: true, choices: ['text', 'json', 'sarif'] },
  ],
  async run(args, io) {
    if (args.positionals.length !== 1) throw new HailoError('INVALID_ARGUMENT', 'expected one MODEL.onnx argument (see --help)');
    const file = path.resolve(io.cwd, args.positionals[0]!);
    let projectFile = args.values.config !== undefined ? path.resolve(io.cwd, args.values.config) : undefined;
    const projectOptional = projectFile === undefined;
    if (projectFile === undefined) {
      const implicit = path.join(io.cwd, PROJECT_FILE_NAME);
      if (fs.existsSync(implicit)) projectFile = implicit;
    }
    const r = await lintOnnxFile(file, {
      ...(args.values['hw-arch'] ? { hwArch: args.values['hw-arch'] } : {}),
      ...(projectFile ? { projectFile, projectOptional } : {}),
      ...(args.values.model !== undefined ? { modelName: args.values.model } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    for (const note of r.notes) io.err(`hailo-workbench lint: ${note}`);
    const version = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';
    const format = args.values.format ?? 'text';
    if (format === 'json') {
      io.out(
        JSON.stringify(toJson(r.file, r.findings, { hwArch: r.hwArch, model: r.projectModel?.name ?? null, sourceMap: r.sourceMap?.file ?? null }), null, 2),
      );
    } else if (format === 'sarif') {
      io.out(JSON.stringify(toSarif(r.file, r.findings, { version, cwd: io.cwd }), null, 2));
    } else {
      io.out(formatText(r.file, r.findings, { cwd: io.cwd }));
    }
    return r.findings.some((f) => f.severity === 'error') ? 1 : 0;
  },
};
