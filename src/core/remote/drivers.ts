import type { Model, Target } from '../project/schema';
import { dfcDriver } from './dfcDriver';
import { deviceDriver } from './deviceDriver';
import { fidelityRunDriver } from '../fidelity/remoteRun';
import { slurmDriver } from '../slurm/driver';
import type { RunRecord } from './run';
import type { StepDriver } from './runner';

/** The driver that continues a recorded run (reattach, cancel), by its kind. */
export function driverFor(run: RunRecord, opts: { projectRoot?: string; model?: Model; target?: Target } = {}): StepDriver {
  return run.kind === 'device'
    ? deviceDriver()
    : run.kind === 'fidelity'
      ? fidelityRunDriver()
      : run.target.kind === 'slurm'
        ? slurmDriver(opts)
        : dfcDriver(opts);
}
