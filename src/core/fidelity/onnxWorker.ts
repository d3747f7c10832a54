/**
 * Worker-thread entry of the ONNX stage (bundled as dist/fidelityWorker.js): ONNX Runtime's
 * WebAssembly computes on the thread that calls it, and in the extension host that thread must
 * stay free. Receives the stage options as workerData, posts progress, then the result or error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isHailoError } from '../errors';
import { runOnnxStage, type OnnxStageOptions } from './onnxStage';

if (parentPort) {
  const port = parentPort;
  const opts = workerData as Omit<OnnxStageOptions, 'signal' | 'onProgress'>;
  runOnnxStage({ ...opts, onProgress: (message, fraction) => port.postMessage({ type: 'progress', message, fraction }) }).then(
    (result) => port.postMessage({ type: 'result', result }),
    (e: unknown) =>
      port.postMessage({
        type: 'error',
        code: isHailoError(e) ? e.code : 'FIDELITY_STAGE_FAILED',
        message: e instanceof Error ? e.message : String(e),
        file: isHailoError(e) ? e.file : undefined,
      }),
  );
}
