import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { HailoError } from '../../core/errors';
import { loadLayerCatalog, modelForScript } from '../../core/hailo/alls/catalog';
import { LayerIndex, type LayerCatalog } from '../../core/hailo/alls/layers';
import { LineIndex } from '../../core/hailo/alls/parser';
import { validateText, type AllsFinding } from '../../core/hailo/alls/validate';
import { loadProjectFile } from '../../core/project/load';
import { PROJECT_FILE_NAME } from '../../core/project/schema';
import type { CliCommand, CliIO } from '../args';

/** Scripts larger than this are refused (real ones are at most a few hundred kB). */
const MAX_SCRIPT_BYTES = 32 * 1024 * 1024;

export const checkAllsCommand: CliCommand = {
  name: 'check-alls',
  help: `Usage: hailo-workbench check-alls FILE... [--har F] [--format text|json]

Checks DFC model scripts: syntax, unknown commands, keywords and values, layer-creating commands
without an assignment and, with a HAR, layer names and scopes against the model's HN.

  --har F      HAR (or .hn) whose layers the scripts name. Without it, a script listed as
               "modelScript" of a model in ./hailo.json is checked against that model's HAR
               when the HAR exists.
  --format     text (default) or json.

  --dfc-version V  DFC version of the target (e.g. 3.27.0), named in hints about commands,
               keywords and values the command table does not know.

At most 1000 findings are printed per script, then one line counts the rest. Exit code 0 when
no script has errors (warnings and hints do not count), 1 when one has, 2 when a file cannot be
read.`,
  options: [
    { name: 'har', value: true },
    { name: 'format', value: true, choices: ['text', 'json'] },
    { name: 'dfc-version', value: true },
  ],
  async run(args, io) {
    if (!args.positionals.length) throw new HailoError('INVALID_ARGUMENT', 'give at least one .alls file');
    const json = args.values.format === 'json';
    const catalogs = new Map<string, { catalog: LayerCatalog; index: LayerIndex }>();
    const loadCatalog = async (har: string, onnx?: string) => {
      const key = `${har}|${onnx ?? ''}`;
      let c = catalogs.get(key);
      if (!c) {
        const catalog = await loadLayerCatalog(har, {
          ...(onnx ? { onnxFile: onnx } : {}),
          ...(io.signal ? { signal: io.signal } : {}),
          warn: (m) => io.err(m),
        });
        c = { catalog, index: new LayerIndex(catalog) };
        catalogs.set(key, c);
      }
      return c;
    };
    const explicitHar = args.values.har ? path.resolve(io.cwd, args.values.har) : undefined;
    const project = explicitHar ? undefined : await projectOf(io);

    const results: FileResult[] = [];
    for (const arg of args.positionals) {
      const file = path.resolve(io.cwd, arg);
      const text = await readScript(file);
      let har = explicitHar;
      let onnx: string | undefined;
      let netName: string | undefined;
      if (project) {
        const sm = modelForScript(project.project, project.root, file);
        if (sm) {
          netName = sm.netName;
          onnx = sm.onnx;
          if (!har && (await exists(sm.har))) har = sm.har;
        }
      }
      const c = har ? await loadCatalog(har, onnx) : undefined;
      const dfcVersion = args.values['dfc-version'];
      const { findings } = validateText(text, {
        ...(c ? { catalog: c.catalog, index: c.index } : {}),
        ...(netName ? { netName } : {}),
        ...(dfcVersion ? { dfcVersion } : {}),
      });
      results.push({ file, text, har, layers: c?.catalog.layers.length, findings });
    }

    const errors = results.reduce((n, r) => n + r.findings.filter((f) => f.severity === 'error').length, 0);
    if (json) {
      io.out(
        JSON.stringify(
          {
            files: results.map((r) => ({
              file: r.file,
              har: r.har ?? null,
              layers: r.layers ?? null,
              errors: r.findings.filter((f) => f.severity === 'error').length,
              warnings: r.findings.filter((f) => f.severity === 'warning').length,
              hints: r.findings.filter((f) => f.severity === 'hint' || f.severity === 'info').length,
              findings: located(r.text, r.findings),
            })),
            errors,
          },
          null,
          2,
        ),
      );
    } else {
      for (const r of results) {
        const ls = located(r.text, r.findings);
        r.findings.forEach((f, i) => {
          const l = ls[i]!;
          io.out(`${r.file}:${l.line}:${l.column}: ${f.severity} ${f.code}: ${f.message}${f.fix ? ` ${f.fix}` : ''}`);
        });
        const e = r.findings.filter((f) => f.severity === 'error').length;
        const w = r.findings.filter((f) => f.severity === 'warning').length;
        const h = r.findings.filter((f) => f.severity === 'hint' || f.severity === 'info').length;
        const layerNote = r.har ? `layer names checked against ${r.layers} layers of ${r.har}` : 'layer names not checked (no HAR)';
        io.out(`${r.file}: ${e} error(s), ${w} warning(s), ${h} hint(s); ${layerNote}`);
      }
    }
    return errors ? 1 : 0;
  },
};

interface FileResult {
  file: string;
  text: string;
  har: string | undefined;
  layers: number | undefined;
  findings: AllsFinding[];
}

/** 1-based line and column of the start and end of each finding (one line index per script). */
function located(text: string, findings: AllsFinding[]) {
  const index = new LineIndex(text);
  return findings.map((f) => locate(index, f));
}

function locate(index: LineIndex, f: AllsFinding) {
  const a = index.at(f.span.start);
  const b = index.at(f.span.end);
  return {
    line: a.line + 1,
    column: a.character + 1,
    endLine: b.line + 1,
    endColumn: b.character + 1,
    severity: f.severity,
    code: f.code,
    message: f.message,
    ...(f.fix ? { fix: f.fix } : {}),
    ...(f.nodes.length ? { nodes: f.nodes } : {}),
  };
}

async function readScript(file: string): Promise<string> {
  let size: number;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new HailoError('ALLS_INVALID', `${file}: not a file`, { file });
    size = st.size;
  } catch (e) {
    if (e instanceof HailoError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new HailoError('ALLS_INVALID', `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`}`, { file, cause: e });
  }
  if (size > MAX_SCRIPT_BYTES)
    throw new HailoError('ALLS_INVALID', `${file}: ${size} bytes is too large for a model script (limit ${MAX_SCRIPT_BYTES})`, { file });
  const buf = await fs.readFile(file);
  if (buf.includes(0)) throw new HailoError('ALLS_INVALID', `${file}: binary data, not a model script`, { file });
  return new TextDecoder('utf-8').decode(buf);
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** ./hailo.json when it is there and valid; scripts are then matched to their model. */
async function projectOf(io: CliIO) {
  const file = path.join(io.cwd, PROJECT_FILE_NAME);
  if (!(await exists(file))) return undefined;
  const parsed = await loadProjectFile(file);
  if (!parsed.project) {
    io.err(`${file}: not a valid project file; layer names are checked only with --har`);
    return undefined;
  }
  return { project: parsed.project, root: path.dirname(file) };
}
