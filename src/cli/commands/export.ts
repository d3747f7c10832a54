import * as path from 'node:path';
import { HailoError, isCancelled, isHailoError } from '../../core/errors';
import { findModel, requireProject } from '../../core/project/load';
import { PROJECT_FILE_NAME } from '../../core/project/schema';
import { howToChooseInterpreter, resolveCliInterpreter } from '../../core/export/interpreter';
import { ExportFailedError, findDriver, runExport } from '../../core/export/run';
import { checkEntry, parseInputSpec, specFromModel, type ExportSpec } from '../../core/export/spec';
import type { CliCommand } from '../args';

export const exportCommand: CliCommand = {
  name: 'export',
  help: `Usage:
  hailo-workbench export [--config hailo.json] [--model NAME] [--python PATH]
  hailo-workbench export --entry pkg.module:factory --input NAME:1x80x3000 [--input ...]
                         --out FILE [--opset 17] [--output-name NAME ...] [--python PATH]

Runs the user's PyTorch code to export a model to ONNX (static shapes, batch 1, constant folding)
and writes <FILE>.sourcemap.json, which ties every ONNX node to the Python line that produced it.
With a project file, the model's entry, inputs, outputs, opset and ONNX path come from it.
Without one, run it from the folder that holds the package.

Inputs are NAME:SHAPE[:DTYPE] (dtype float32 by default; float16, int64, int32).
Interpreter: --python, else the HAILO_PYTHON environment variable, else python3; it needs torch and
onnx installed.

Exit code 0 when exported, 1 when the export failed, 2 on bad arguments or a missing project.`,
  options: [
    { name: 'config', value: true },
    { name: 'model', value: true },
    { name: 'entry', value: true },
    { name: 'input', value: true, multiple: true },
    { name: 'output-name', value: true, multiple: true },
    { name: 'opset', value: true },
    { name: 'out', value: true },
    { name: 'python', value: true },
    { name: 'format', value: true, choices: ['text', 'json'] },
  ],
  async run(args, io) {
    if (args.positionals.length) throw new HailoError('INVALID_ARGUMENT', `unexpected argument "${args.positionals[0]}"`);
    const v = args.values;
    let spec: ExportSpec;
    if (v.entry !== undefined) {
      if (v.config !== undefined || v.model !== undefined) throw new HailoError('INVALID_ARGUMENT', '--entry cannot be combined with --config or --model');
      const inputs = (args.lists.input ?? []).map(parseInputSpec);
      if (!inputs.length) throw new HailoError('INVALID_ARGUMENT', '--entry needs at least one --input NAME:SHAPE (e.g. mel:1x80x3000)');
      if (!v.out) throw new HailoError('INVALID_ARGUMENT', '--entry needs --out FILE');
      const opset = v.opset === undefined ? 17 : Number(v.opset);
      if (!Number.isInteger(opset) || opset < 7 || opset > 21)
        throw new HailoError('INVALID_ARGUMENT', `--opset must be an integer from 7 to 21 (got "${v.opset}")`);
      spec = { entry: checkEntry(v.entry), inputs, outputNames: args.lists['output-name'] ?? [], opset, out: path.resolve(io.cwd, v.out), root: io.cwd };
    } else {
      for (const k of ['input', 'output-name'] as const)
        if (args.lists[k]?.length) throw new HailoError('INVALID_ARGUMENT', `--${k} needs --entry (with a project file, the model entry defines it)`);
      if (v.opset !== undefined || v.out !== undefined)
        throw new HailoError('INVALID_ARGUMENT', '--opset and --out need --entry (with a project file, the model entry defines them)');
      const file = path.resolve(io.cwd, v.config ?? PROJECT_FILE_NAME);
      const { project, root } = await requireProject(file);
      spec = specFromModel(findModel(project, v.model), root);
    }
    const interpreter = resolveCliInterpreter(v.python, io.env);
    const driverPath = findDriver([__dirname]);
    const json = v.format === 'json';
    try {
      const r = await runExport({
        interpreter,
        driverPath,
        spec,
        chooseHint: howToChooseInterpreter('cli'),
        signal: io.signal,
        env: io.env,
        onProgress: (p) => !json && io.err(`[export] ${p.message}`),
        onOutput: (line) => io.err(line),
      });
      if (json) {
        io.out(
          JSON.stringify(
            {
              ok: true,
              onnx: r.onnx,
              sourceMap: r.sourceMap,
              nodes: r.nodes,
              mapped: r.mapped,
              outputs: r.outputs,
              warnings: r.warnings,
              python: interpreter.path,
            },
            null,
            2,
          ),
        );
      } else {
        for (const w of r.warnings) io.err(`warning: ${w}`);
        io.out(`${r.onnx}: ${r.nodes} nodes, ${r.mapped} mapped to source lines`);
        if (r.sourceMap) io.out(`source map: ${r.sourceMap}`);
      }
      return 0;
    } catch (e) {
      if (isCancelled(e)) {
        io.err('export cancelled');
        return 1;
      }
      if (e instanceof ExportFailedError) {
        const loc = e.location ? `${e.location.file}:${e.location.line}: ` : '';
        if (json)
          io.out(
            JSON.stringify({ ok: false, code: e.code, message: e.message, location: e.location ?? null, errorClass: e.detail?.errorClass ?? null }, null, 2),
          );
        else io.err(`${loc}error: ${e.message}`);
        return 1;
      }
      if (isHailoError(e, 'PROCESS_FAILED') || isHailoError(e, 'EXPORT_FAILED')) {
        io.err(`error: ${e.message}`);
        return 1;
      }
      throw e;
    }
  },
};
