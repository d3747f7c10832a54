import * as path from 'node:path';
import { loadProjectFile, lineOf } from '../../core/project/load';
import { PROJECT_FILE_NAME } from '../../core/project/schema';
import { nodeNameProblems } from '../../core/project/nodeNameCheck';
import type { CliCommand } from '../args';

export const validateCommand: CliCommand = {
  name: 'validate',
  help: `Usage: hailo-workbench validate [FILE] [--format text|json]

Checks a project file (default: ./hailo.json) against the project schema, and each model's
startNodes/endNodes against its ONNX when the ONNX exists.
Exit code 0 when valid (notes allowed), 1 when it has errors or warnings, 2 when it cannot be read.`,
  options: [{ name: 'format', value: true, choices: ['text', 'json'] }],
  async run(args, io) {
    const file = path.resolve(io.cwd, args.positionals[0] ?? PROJECT_FILE_NAME);
    const parsed = await loadProjectFile(file);
    const all: { message: string; path: (string | number)[]; offset: number; severity: 'error' | 'warning' | 'info' }[] = [...parsed.problems];
    if (parsed.project) all.push(...(await nodeNameProblems(parsed.project, file, parsed.text)));
    const problems = all.map((p) => {
      const [line, column] = lineOf(parsed.text, p.offset).split(':').map(Number);
      return { message: p.message, path: p.path, line, column, severity: p.severity };
    });
    const valid = problems.every((p) => p.severity === 'info');
    if (args.values.format === 'json') {
      io.out(JSON.stringify({ file, valid, models: parsed.project?.models.map((m) => m.name) ?? [], problems }, null, 2));
    } else {
      for (const p of problems) io.out(`${file}:${p.line}:${p.column}: ${p.severity}: ${p.message}`);
      io.out(valid ? `${file}: valid (${parsed.project?.models.length ?? 0} model(s))` : `${problems.length} problem(s)`);
    }
    return valid ? 0 : 1;
  },
};
