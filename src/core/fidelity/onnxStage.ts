import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HailoError, throwIfAborted, type ErrorCode } from '../errors';
import { readNpy, writeNpy, type NdArray, type NpyDtype } from './npy';

/**
 * The ONNX stage: the exported model in ONNX Runtime on the host. onnxruntime-web (WebAssembly)
 * rather than onnxruntime-node: it installs from the npm registry alone (onnxruntime-node's
 * install script downloads further binaries from elsewhere and fails offline), it is one
 * ~15 MB .wasm for every platform instead of ~47 MB of native library per platform (a .vsix per
 * platform), and it runs wherever the extension host runs. Its CPU kernels compute in float32 as
 * onnxruntime-node's do, so the agreement with PyTorch is the same.
 */

type Ort = typeof import('onnxruntime-web');

const WASM_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

/** Folder holding onnxruntime-web's .wasm and its loader: dist/ort beside the bundle, else node_modules. */
export function findOrtWasmDir(candidatesFrom: string[]): string {
  const dirs: string[] = [];
  for (const d of candidatesFrom) dirs.push(path.resolve(d, 'ort'), path.resolve(d, '..', 'dist', 'ort'), path.resolve(d, '..', '..', 'dist', 'ort'));
  try {
    dirs.push(path.dirname(require.resolve('onnxruntime-web'))); // .../onnxruntime-web/dist/ort.node.min.js
  } catch {
    // bundled: only dist/ort exists
  }
  for (const d of dirs) if (WASM_FILES.every((f) => fs.existsSync(path.join(d, f)))) return d;
  throw new HailoError(
    'FIDELITY_STAGE_FAILED',
    `ONNX Runtime's WebAssembly files (${WASM_FILES.join(', ')}) are missing (looked in ${dirs.join(', ')}); rebuild with npm run build`,
  );
}

let ortPromise: Promise<Ort> | undefined;

/** Load onnxruntime-web once, single-threaded (the extension host shares the machine). */
export function loadOrt(wasmDir: string, threads = 1): Promise<Ort> {
  ortPromise ??= (async () => {
    // require, not import(): the bundle is CommonJS, and onnxruntime-web's CommonJS build for Node
    // needs no import.meta.url (the WebAssembly paths are given below)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const o = require('onnxruntime-web') as Ort;
    o.env.wasm.numThreads = threads;
    o.env.wasm.wasmPaths = {
      mjs: pathToFileURL(path.join(wasmDir, WASM_FILES[0]!)).href,
      wasm: pathToFileURL(path.join(wasmDir, WASM_FILES[1]!)).href,
    };
    o.env.logLevel = 'error';
    return o;
  })();
  return ortPromise;
}

type OrtType = 'float32' | 'float64' | 'int32' | 'int64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'uint32' | 'uint64' | 'bool';

function toOrtType(d: NpyDtype): OrtType {
  if (d === 'float16') return 'float32';
  return d as OrtType;
}

function fromOrt(t: { type: string; dims: readonly number[]; data: unknown }, label: string): NdArray {
  const map: Record<string, NpyDtype> = {
    float32: 'float32',
    float64: 'float64',
    int32: 'int32',
    int64: 'int64',
    int8: 'int8',
    uint8: 'uint8',
    int16: 'int16',
    uint16: 'uint16',
    uint32: 'uint32',
    uint64: 'uint64',
    bool: 'bool',
  };
  const dtype = map[t.type];
  if (!dtype) throw new HailoError('FIDELITY_DTYPE', `${label} is of ONNX type ${t.type}, which the comparison cannot read`);
  return { dtype, shape: [...t.dims], data: t.data as NdArray['data'] };
}

export interface OnnxStageOptions {
  onnx: string;
  wasmDir: string;
  samples: { id: string; inputs: Record<string, string> }[];
  /** Output names to keep, in order; the model's outputs by default. */
  outputs?: string[];
  /** Writes `<outDir>/<sample>/<output>.npy`. */
  outDir: string;
  signal?: AbortSignal;
  onProgress?: (message: string, fraction: number) => void;
}

export interface OnnxStageResult {
  outputs: string[];
  /** Milliseconds: session creation and the sum of run() calls. */
  createMs: number;
  runMs: number;
}

/** Run every sample through the ONNX model; the session is created once and released after. */
export async function runOnnxStage(opts: OnnxStageOptions): Promise<OnnxStageResult> {
  throwIfAborted(opts.signal);
  const ort = await loadOrt(opts.wasmDir);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(opts.onnx);
  } catch (e) {
    throw new HailoError('MODEL_READ_FAILED', `${opts.onnx}: cannot read (${(e as Error).message})`, { file: opts.onnx, cause: e });
  }
  let t = performance.now();
  let session: Awaited<ReturnType<Ort['InferenceSession']['create']>>;
  try {
    session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new HailoError('FIDELITY_STAGE_FAILED', `${opts.onnx}: ONNX Runtime cannot load the model: ${(e as Error).message}`, { file: opts.onnx, cause: e });
  }
  const createMs = performance.now() - t;
  let runMs = 0;
  const outputs = opts.outputs ?? [...session.outputNames];
  for (const o of outputs) {
    if (!session.outputNames.includes(o)) {
      await session.release();
      throw new HailoError('FIDELITY_OUTPUT_MISSING', `${opts.onnx} has no output "${o}" (it has ${session.outputNames.join(', ')})`, { file: opts.onnx });
    }
  }
  try {
    for (const [i, s] of opts.samples.entries()) {
      throwIfAborted(opts.signal);
      opts.onProgress?.(`onnx: sample ${s.id} (${i + 1}/${opts.samples.length})`, i / opts.samples.length);
      const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
      for (const name of session.inputNames) {
        const file = s.inputs[name];
        if (!file) throw new HailoError('FIDELITY_INPUT_INVALID', `sample ${s.id} has no file for ONNX input "${name}"`);
        const a = await readNpy(file);
        feeds[name] = new ort.Tensor(toOrtType(a.dtype), a.data as never, a.shape);
      }
      t = performance.now();
      let res: Record<string, { type: string; dims: readonly number[]; data: unknown }>;
      try {
        res = (await session.run(feeds, outputs)) as never;
      } catch (e) {
        throw new HailoError('FIDELITY_STAGE_FAILED', `${opts.onnx}: ONNX Runtime failed on sample ${s.id}: ${(e as Error).message}`, {
          file: opts.onnx,
          cause: e,
        });
      }
      runMs += performance.now() - t;
      for (const o of outputs) {
        const v = res[o];
        if (!v) throw new HailoError('FIDELITY_OUTPUT_MISSING', `${opts.onnx}: no output "${o}" for sample ${s.id}`, { file: opts.onnx });
        await writeNpy(path.join(opts.outDir, s.id, `${o}.npy`), fromOrt(v, `ONNX output ${o}`));
      }
    }
  } finally {
    await session.release();
  }
  return { outputs, createMs, runMs };
}

/** Where the worker entry is: dist/fidelityWorker.js beside the bundle, or the source under tsx. */
export interface OnnxWorkerSpec {
  file: string;
  /** e.g. ['--import', 'tsx'] to run the TypeScript source in tests. */
  execArgv?: string[];
}

export function findOnnxWorker(candidatesFrom: string[]): OnnxWorkerSpec | undefined {
  for (const d of candidatesFrom) {
    for (const rel of ['fidelityWorker.js', '../fidelityWorker.js', '../../dist/fidelityWorker.js']) {
      const p = path.resolve(d, rel);
      if (fs.existsSync(p)) return { file: p };
    }
  }
  return undefined;
}

type WorkerMessage =
  | { type: 'progress'; message: string; fraction: number }
  | { type: 'result'; result: OnnxStageResult }
  | { type: 'error'; code: ErrorCode; message: string; file?: string };

/**
 * The ONNX stage on a worker thread, so the calling thread (the extension host) stays responsive;
 * cancelling terminates the worker.
 */
export function runOnnxStageInWorker(opts: OnnxStageOptions, worker: OnnxWorkerSpec): Promise<OnnxStageResult> {
  throwIfAborted(opts.signal);
  const { signal, onProgress, ...data } = opts;
  return new Promise((resolve, reject) => {
    const w = new Worker(worker.file, { workerData: data, ...(worker.execArgv ? { execArgv: worker.execArgv } : {}) });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
      void w.terminate();
    };
    const onAbort = () => finish(() => reject(new HailoError('CANCELLED', 'ONNX stage cancelled')));
    signal?.addEventListener('abort', onAbort, { once: true });
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress?.(m.message, m.fraction);
      else if (m.type === 'result') finish(() => resolve(m.result));
      else finish(() => reject(new HailoError(m.code, m.message, m.file ? { file: m.file } : {})));
    });
    w.on('error', (e) => finish(() => reject(new HailoError('FIDELITY_STAGE_FAILED', `the ONNX stage's worker failed: ${e.message}`, { cause: e }))));
    w.on('exit', (code) =>
      finish(() => reject(new HailoError('FIDELITY_STAGE_FAILED', `the ONNX stage's worker exited with code ${code} before it finished`))),
    );
  });
}
