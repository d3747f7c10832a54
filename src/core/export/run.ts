import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { nullLogger } from '../logger';
import type { SourceLocation } from '../graph/model';
import { INTERPRETER_SOURCE_TEXT, type Interpreter } from './interpreter';
import { parseDriverLine, type DriverError, type DriverProgress, type DriverResult } from './protocol';
import { runDriverProcess, type SpawnFn } from '../python/driverProcess';
import { buildDriverArgv, type ExportSpec } from './spec';
import { innermostUserFrame, parseTraceback, userFileTest, type PyFrame } from './traceback';

export type { SpawnFn } from '../python/driverProcess';

export interface RunExportOptions {
  interpreter: Interpreter;
  /** Path of hailo_export.py. */
  driverPath: string;
  spec: ExportSpec;
  /** How to pick another interpreter, appended to interpreter problems. */
  chooseHint: string;
  spawn?: SpawnFn;
  signal?: AbortSignal;
  log?: Logger;
  env?: Record<string, string | undefined>;
  onProgress?: (p: DriverProgress) => void;
  /** Every line of output that is not a protocol event (the model's prints, torch warnings). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Time between SIGTERM and SIGKILL of the process group on cancel. */
  killGraceMs?: number;
}

export interface ExportResult extends DriverResult {
  interpreter: Interpreter;
  /** Things worth telling the user about a successful export (dynamic axes and their cost). */
  warnings: string[];
  wallMs: number;
}

/** An export that failed in the user's code or in torch, with the line to blame when known. */
export class ExportFailedError extends HailoError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly detail: DriverError | undefined,
    readonly location: SourceLocation | undefined,
    readonly interpreter: Interpreter,
    readonly stderrTail: string,
  ) {
    super(code, message, location ? { file: location.file } : {});
  }
}

/** Locate the driver script next to the bundle (dist/python) or in the sources (src/python). */
export function findDriver(candidatesFrom: string[]): string {
  for (const dir of candidatesFrom) {
    for (const rel of ['python/hailo_export.py', '../python/hailo_export.py', '../../python/hailo_export.py', '../../src/python/hailo_export.py']) {
      const p = path.resolve(dir, rel);
      if (fs.existsSync(p)) return p;
    }
  }
  throw new HailoError('EXPORT_FAILED', `the export driver hailo_export.py is missing (looked near ${candidatesFrom.join(', ')}); rebuild with npm run build`);
}

/** How to avoid the symbolic dimension an operator introduces from static inputs. */
const ORIGIN_ADVICE: Record<string, string> = {
  Pad: 'F.pad with amounts computed from x.shape (tensors at trace time); write the amounts as Python ints (int(x.shape[-1]) or a constant) so they export as constants',
  Reshape: 'a view/reshape whose sizes come from x.shape; write the sizes as constants (x.view(1, 1500, 12, 64))',
  Expand: 'an expand whose sizes come from x.shape; write the sizes as constants',
  Tile: 'a repeat whose counts come from x.shape; write the counts as constants',
  Slice: 'a slice whose bounds come from x.shape; write the bounds as Python ints',
  Resize: 'an interpolate whose size comes from x.shape; pass a constant size or scale_factor',
  Interpolate: 'an interpolate whose size comes from x.shape; pass a constant size or scale_factor',
};

function originText(o: NonNullable<DriverResult['symbolicOrigins']>[number], baseDir: string | undefined): string {
  const where = o.file && o.line ? ` at ${baseDir && !path.isAbsolute(o.file) ? path.join(baseDir, o.file) : o.file}:${o.line}` : '';
  const advice = ORIGIN_ADVICE[o.op] ?? `an ${o.op} whose parameters come from x.shape; write them as constants`;
  const from = o.computedInputs?.length ? ` from computed input ${o.computedInputs.map((c) => `"${c}"`).join(', ')}` : '';
  return `${o.op} node "${o.node}"${where} gives "${o.output}" shape [${(o.shape ?? []).join(', ')}]: its data input is static but it takes its parameters${from}, shape arithmetic that the exporter's shape inference could not evaluate (typically ${advice})`;
}

/**
 * The export's word on symbolic dimensions. When no dynamic axes were asked for, they were made
 * by the export itself: name the operator and the Python line that introduced them and how to
 * avoid it, rather than blame the user's settings.
 */
export function dynamicAxesWarnings(r: Pick<DriverResult, 'symbolicDims' | 'shapeOps' | 'symbolicOrigins' | 'dynamicAxes' | 'sourceMap' | 'onnx'>): string[] {
  if (!r.symbolicDims.length) return [];
  const asked = r.dynamicAxes ?? [];
  const baseDir = r.sourceMap ? path.dirname(r.sourceMap) : r.onnx ? path.dirname(r.onnx) : undefined;
  // with dynamic axes asked for, the outputs' symbolic dims follow from them
  const requested = asked.length ? r.symbolicDims : [];
  const made = asked.length ? [] : r.symbolicDims;
  const out: string[] = [];
  if (requested.length) {
    out.push(
      `The exported model has ${requested.length} symbolic dimension(s) from "dynamicAxes" in hailo.json: ` +
        `${requested.map((d) => `${d.tensor}[${d.axis}]="${d.dim}"`).join(', ')}. The Hailo parser needs fixed shapes and HailoRT has ` +
        `no dynamic input resolution: remove "dynamicAxes" from the model in hailo.json and export at the real size.`,
    );
  }
  if (made.length) {
    const origins = r.symbolicOrigins ?? [];
    const list = made.map((d) => `${d.tensor}[${d.axis}]="${d.dim}"`).join(', ');
    if (origins.length) {
      out.push(
        `The ONNX file declares ${made.length} symbolic dimension(s) (${list}) although every input is static and no dynamic axes were asked for. ` +
          `They come from the export: ${origins.map((o) => originText(o, baseDir)).join('; ')}. ` +
          `The values fold to constants (the Hailo lint folds them), so the parser's onnx-simplifier retry usually recovers; ` +
          `writing them as constants, or running onnxsim on the export, gives a file with static shapes.`,
      );
    } else {
      out.push(
        `The ONNX file declares ${made.length} symbolic dimension(s) (${list}) although no dynamic axes were asked for: ` +
          `shape arithmetic in the model (${r.shapeOps ?? 0} Shape operator(s) left after constant folding; sizes taken from x.shape) ` +
          `that the exporter could not evaluate. Write those sizes as constants, or run onnxsim on the export.`,
      );
    }
  }
  return out;
}

/**
 * Run the export driver: spawns the interpreter in its own process group (so a cancel kills the
 * model code's own children too), streams its output, and resolves with the driver's result.
 * Throws ExportFailedError (EXPORT_FAILED, PYTHON_MISSING_PACKAGE, PYTHON_NOT_FOUND), HailoError
 * INVALID_ARGUMENT for a bad request, CANCELLED when the signal aborts.
 */
export async function runExport(opts: RunExportOptions): Promise<ExportResult> {
  const log = opts.log ?? nullLogger;
  const interp = opts.interpreter;
  if (opts.signal?.aborted) throw new HailoError('CANCELLED', 'Cancelled');
  const argv = buildDriverArgv(opts.driverPath, opts.spec);
  log.info(`Export ${opts.spec.entry} with ${interp.path} (${INTERPRETER_SOURCE_TEXT[interp.source]})`);
  log.debug(`${interp.path} ${argv.map((a) => JSON.stringify(a)).join(' ')}`);
  const t0 = Date.now();

  let result: DriverResult | undefined;
  let error: DriverError | undefined;
  const { code, signal, cancelled, stderr } = await runDriverProcess({
    interpreter: interp,
    argv: argv.slice(),
    cwd: opts.spec.root,
    env: opts.env,
    spawn: opts.spawn,
    signal: opts.signal,
    killGraceMs: opts.killGraceMs,
    chooseHint: opts.chooseHint,
    onProtocolLine: (line) => {
      const ev = parseDriverLine(line);
      if (!ev) return false;
      if (ev.event === 'progress') opts.onProgress?.(ev);
      else if (ev.event === 'result') result = ev;
      else error = ev;
      return true;
    },
    onOutput: opts.onOutput,
    onCancel: (pid) => log.info(`Cancelling export: stopping process group ${pid ?? '?'}`),
    notFound: (message) => new ExportFailedError('PYTHON_NOT_FOUND', message, undefined, undefined, interp, ''),
  });
  const exit = { code, signal };
  if (cancelled) throw new HailoError('CANCELLED', 'Export cancelled');
  const wallMs = Date.now() - t0;

  if (result && exit.code === 0) {
    if (result.probe) {
      log.info(
        `Ran ${opts.spec.entry} once: ${result.outputs.map((o) => `${o.name} [${(o.shape ?? []).join(', ')}]`).join(', ')} (${(wallMs / 1000).toFixed(1)} s)`,
      );
      return { ...result, interpreter: interp, warnings: [], wallMs };
    }
    log.info(`Exported ${result.onnx}: ${result.nodes} nodes, ${result.mapped} mapped to source lines (${(wallMs / 1000).toFixed(1)} s)`);
    const warnings = [...(result.mapWarning ? [result.mapWarning] : []), ...dynamicAxesWarnings(result)];
    return { ...result, interpreter: interp, warnings, wallMs };
  }
  throw failureFrom(error, stderr, exit, opts);
}

function failureFrom(
  error: DriverError | undefined,
  stderr: string,
  exit: { code: number | null; signal: NodeJS.Signals | null },
  opts: RunExportOptions,
): HailoError {
  const interp = opts.interpreter;
  const tail = stderr.split(/\r?\n/).slice(-40).join('\n');
  const isUser = userFileTest(opts.spec.root);
  const entry = opts.spec.entry;
  if (!error) {
    // the driver never spoke: Python itself failed (too old, broken site, killed)
    const tb = parseTraceback(stderr);
    const frame = tb ? innermostUserFrame(tb.frames, isUser) : undefined;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const why = tb ? `${tb.errorClass}: ${tb.message}` : tail.trim().split('\n').slice(-3).join(' ').slice(0, 500) || 'no output';
    return new ExportFailedError(
      'EXPORT_FAILED',
      `Export of ${entry} failed: ${interp.path} ${how} (${why})`,
      undefined,
      frame ? { file: frame.file, line: frame.line } : undefined,
      interp,
      tail,
    );
  }
  switch (error.kind) {
    case 'missing-package': {
      const pkg = error.package ?? 'torch';
      return new ExportFailedError(
        'PYTHON_MISSING_PACKAGE',
        `${interp.path} (${INTERPRETER_SOURCE_TEXT[interp.source]}) cannot import ${pkg}. ` +
          `Install PyTorch and onnx in that environment (e.g. pip install torch onnx), or use an interpreter that has them. ${opts.chooseHint}`,
        error,
        undefined,
        interp,
        tail,
      );
    }
    case 'bad-argument':
      return new HailoError('INVALID_ARGUMENT', `Export of ${entry}: ${error.message}`);
    case 'cancelled':
      return new HailoError('CANCELLED', 'Export cancelled');
    default: {
      const frame: PyFrame | undefined =
        error.nodeFrame ??
        innermostUserFrame(error.frames, isUser) ??
        (error.traceback ? innermostUserFrame(parseTraceback(error.traceback)?.frames ?? [], isUser) : undefined);
      const location = frame ? { file: frame.file, line: frame.line } : undefined;
      const where = location ? ` (${location.file}:${location.line})` : '';
      return new ExportFailedError('EXPORT_FAILED', `Export of ${entry} failed: ${error.message}${where}`, error, location, interp, tail);
    }
  }
}

/** A one-line, readable reason for a failed export, for a diagnostic on the user's line. */
export function diagnosticMessage(e: ExportFailedError): string {
  const d = e.detail;
  if (!d) return e.message;
  const prefix: Record<string, string> = {
    import: 'Importing the model module failed',
    'entry-not-found': 'The export entry point is missing',
    factory: 'The model factory failed',
    export: d.nodeKind ? `ONNX export failed at ${d.nodeKind.replace(/^aten::/, 'torch op ')}` : 'ONNX export failed',
    internal: 'The export driver failed',
  };
  const msg = d.message.replace(/^torch\.onnx\.export failed: /, '').replace(/ Please feel free to request support.*$/s, '');
  return `${prefix[d.kind] ?? 'Export failed'}: ${msg}`;
}
