import * as path from 'node:path';
import { loadProjectFile, lineOf } from '../../core/project/load';
import { PROJECT_FILE_NAME } from '../../core/project/schema';
import type { CliCommand } from '../args';

export const validateCommand: CliCommand = {
  name: 'validate',
  help: `Usage: hailo-workbench validate [FILE] [--format text|json]

Checks a project file (default: ./hailo.json) against the project schema.
Exit code 0 when valid, 1 when it has problems, 2 when it cannot be read.`,
  options: [{ name: 'format', value: true, choices: ['text', 'json'] }],
  async run(args, io) {
    const file = path.resolve(io.cwd, args.positionals[0] ?? PROJECT_FILE_NAME);
    const parsed = await loadProjectFile(file);
    const problems = parsed.problems.map((p) => {
      const [line, column] = lineOf(parsed.text, p.offset).split(':').map(Number);
      return { message: p.message, path: p.path, line, column, severity: p.severity };
    });
    if (args.values.format === 'json') {
      io.out(JSON.stringify({ file, valid: problems.length === 0, models: parsed.project?.models.map((m) => m.name) ?? [], problems }, null, 2));
    } else if (problems.length === 0) {
      io.out(`${file}: valid (${parsed.project?.models.length ?? 0} model(s))`);
    } else {
      for (const p of problems) io.out(`${file}:${p.line}:${p.column}: ${p.severity}: ${p.message}`);
      io.out(`${problems.length} problem(s)`);
    }
    return problems.length === 0 ? 0 : 1;
  },
};
