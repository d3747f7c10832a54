import * as path from 'node:path';
import { HailoError } from '../errors';
import type { FidelityStage } from '../project/schema';
import { DRIVER_COMMON_FILE, DRIVER_FILE, driverArgv, type Manifest } from './driver';

/**
 * What a remote fidelity stage (the DFC emulator on a compile target, HailoRT on a device) needs
 * from the run engine, worked out here so the engine only moves files and runs one command:
 * which local files go where under the remote work folder, the manifest with remote paths, the
 * driver's command line, and where the outputs come back to. Remote paths are POSIX.
 */

export type RemoteStage = Extract<FidelityStage, 'fp-optimized' | 'quantized' | 'device'>;

export interface RemoteStagePlan {
  stage: RemoteStage;
  /** Local file -> remote path (inputs, the model file, the driver, the manifest). */
  uploads: { local: string; remote: string }[];
  /** The manifest text to upload to `manifestPath`. */
  manifest: Manifest;
  manifestPath: string;
  /** argv for the remote python: the driver path, then its options (quote each before a shell sees it). */
  argv: string[];
  /** Remote folder of `<sample>/<output>.npy`, and the local folder it is downloaded into. */
  remoteOutDir: string;
  localOutDir: string;
  /** Every remote file the stage writes, for the download. */
  expectedOutputs: { remote: string; local: string }[];
}

export interface RemoteStagePlanOptions {
  stage: RemoteStage;
  /** Remote folder of this run (e.g. `<target workDir>/runs/<run-id>/fidelity`). */
  remoteDir: string;
  /** Local result folder of the check (gets `<stage>/`). */
  localDir: string;
  /** The HAR (emulator stages) or HEF (device) on this machine. */
  modelFile: string;
  driverPath: string;
  samples: { id: string; inputs?: Record<string, string> }[];
  inputs: Manifest['inputs'];
  outputs: string[];
}

const SAFE = /^[A-Za-z0-9_.-]+$/;

export function planRemoteStage(o: RemoteStagePlanOptions): RemoteStagePlan {
  const join = (...p: string[]) => path.posix.join(...p);
  const uploads: RemoteStagePlan['uploads'] = [];
  const samples: Manifest['samples'] = [];
  for (const s of o.samples) {
    if (!SAFE.test(s.id) || s.id === '.' || s.id === '..') throw new HailoError('INVALID_ARGUMENT', `sample id "${s.id}" is not a safe file name`);
    if (!s.inputs)
      throw new HailoError(
        'FIDELITY_INPUT_INVALID',
        `sample ${s.id} has no input files yet (WAV samples are turned into inputs by the torch stage, which must run first)`,
      );
    const inputs: Record<string, string> = {};
    for (const spec of o.inputs) {
      const local = s.inputs[spec.name];
      if (!local) throw new HailoError('FIDELITY_INPUT_INVALID', `sample ${s.id} has no file for input "${spec.name}"`);
      if (!SAFE.test(spec.name)) throw new HailoError('INVALID_ARGUMENT', `input name "${spec.name}" cannot be a remote file name`);
      const remote = join(o.remoteDir, 'inputs', s.id, `${spec.name}.npy`);
      uploads.push({ local, remote });
      inputs[spec.name] = remote;
    }
    samples.push({ id: s.id, inputs });
  }
  for (const out of o.outputs) if (!SAFE.test(out)) throw new HailoError('INVALID_ARGUMENT', `output name "${out}" cannot be a remote file name`);
  const ext = o.stage === 'device' ? '.hef' : '.har';
  const remoteModel = join(o.remoteDir, `model${ext}`);
  const remoteDriver = join(o.remoteDir, DRIVER_FILE);
  const manifestPath = join(o.remoteDir, `${o.stage}.manifest.json`);
  const remoteOutDir = join(o.remoteDir, o.stage);
  const localOutDir = path.join(o.localDir, o.stage);
  uploads.push(
    { local: o.modelFile, remote: remoteModel },
    { local: o.driverPath, remote: remoteDriver },
    // the module the driver imports from its own folder
    { local: path.join(path.dirname(o.driverPath), DRIVER_COMMON_FILE), remote: join(o.remoteDir, DRIVER_COMMON_FILE) },
  );
  const manifest: Manifest = { samples, inputs: o.inputs, outputs: o.outputs, outDir: remoteOutDir };
  const argv = [remoteDriver, ...driverArgv(manifestPath, o.stage === 'device' ? { stage: 'device', hef: remoteModel } : { stage: o.stage, har: remoteModel })];
  const expectedOutputs = samples.flatMap((s) =>
    o.outputs.map((out) => ({ remote: join(remoteOutDir, s.id, `${out}.npy`), local: path.join(localOutDir, s.id, `${out}.npy`) })),
  );
  return { stage: o.stage, uploads, manifest, manifestPath, argv, remoteOutDir, localOutDir, expectedOutputs };
}
