/**
 * The plan of a remote fidelity stage, carried out here by hand (copying each upload to a folder
 * standing for the remote work folder, running the driver there against the stand-in DFC): the
 * outputs appear exactly where the plan says, and unsafe names are refused before anything runs.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isHailoError } from '../../src/core/errors';
import { planRemoteStage } from '../../src/core/fidelity/remotePlan';
import { readNpy, writeNpy } from '../../src/core/fidelity/npy';

const ROOT = path.resolve(__dirname, '..', '..');
const DRIVER = path.join(ROOT, 'src', 'python', 'hailo_fidelity.py');
const STANDINS = path.join(ROOT, 'test', 'fixtures', 'fidelity', 'standins');
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

describe('fidelity: remote stage plan', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-fidplan-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const base = (over: Partial<Parameters<typeof planRemoteStage>[0]> = {}) => ({
    stage: 'quantized' as const,
    remoteDir: '/remote/work/runs/r1/fidelity',
    localDir: '/local/.hailo/runs/r1/fidelity',
    modelFile: '/local/build/encoder.har',
    driverPath: DRIVER,
    samples: [{ id: 's1', inputs: { mel: '/local/in/s1.npy' } }],
    inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
    outputs: ['features'],
    ...over,
  });

  it('maps inputs, model and driver under the remote folder, with the driver command line', () => {
    const p = planRemoteStage(base());
    assert.deepEqual(p.uploads, [
      { local: '/local/in/s1.npy', remote: '/remote/work/runs/r1/fidelity/inputs/s1/mel.npy' },
      { local: '/local/build/encoder.har', remote: '/remote/work/runs/r1/fidelity/model.har' },
      { local: DRIVER, remote: '/remote/work/runs/r1/fidelity/hailo_fidelity.py' },
      { local: path.join(path.dirname(DRIVER), 'hailo_driver_common.py'), remote: '/remote/work/runs/r1/fidelity/hailo_driver_common.py' },
    ]);
    assert.deepEqual(p.argv, [
      '/remote/work/runs/r1/fidelity/hailo_fidelity.py',
      '--stage',
      'quantized',
      '--manifest=/remote/work/runs/r1/fidelity/quantized.manifest.json',
      '--har=/remote/work/runs/r1/fidelity/model.har',
    ]);
    assert.deepEqual(p.expectedOutputs, [
      {
        remote: '/remote/work/runs/r1/fidelity/quantized/s1/features.npy',
        local: path.join('/local/.hailo/runs/r1/fidelity', 'quantized', 's1', 'features.npy'),
      },
    ]);
    const d = planRemoteStage(base({ stage: 'device', modelFile: '/local/build/encoder.hef' }));
    assert.deepEqual(d.argv.slice(1), [
      '--stage',
      'device',
      '--manifest=/remote/work/runs/r1/fidelity/device.manifest.json',
      '--hef=/remote/work/runs/r1/fidelity/model.hef',
    ]);
  });

  it('refuses unsafe names and samples without inputs', () => {
    const refuse = (over: Parameters<typeof base>[0], code: string, re: RegExp) =>
      assert.throws(
        () => planRemoteStage(base(over)),
        (e: unknown) => isHailoError(e) && e.code === code && re.test(e.message),
      );
    refuse({ samples: [{ id: '../x', inputs: { mel: '/a.npy' } }] }, 'INVALID_ARGUMENT', /not a safe file name/);
    refuse({ outputs: ['a/b'] }, 'INVALID_ARGUMENT', /output name "a\/b"/);
    refuse({ inputs: [{ name: '-x;rm', shape: [1] }], samples: [{ id: 's', inputs: { '-x;rm': '/a.npy' } }] }, 'INVALID_ARGUMENT', /input name/);
    refuse({ samples: [{ id: 's' }] }, 'FIDELITY_INPUT_INVALID', /torch stage, which must run first/);
    refuse({ samples: [{ id: 's', inputs: {} }] }, 'FIDELITY_INPUT_INVALID', /no file for input "mel"/);
  });

  it('carried out into a stand-in remote folder, the driver writes the planned outputs', async function () {
    if (spawnSync(PY, ['-c', 'import numpy']).status !== 0) this.skip();
    const input = path.join(tmp, 'local', 'in.npy');
    await writeNpy(input, { dtype: 'float32', shape: [1, 80, 3000], data: new Float32Array(240000).fill(0.25) });
    const model = path.join(tmp, 'local', 'encoder.har');
    fs.writeFileSync(model, JSON.stringify({ standin: true, net: 'fid' }));
    const remote = path.join(tmp, 'remote');
    const p = planRemoteStage(
      base({
        remoteDir: remote,
        localDir: path.join(tmp, 'local', 'result'),
        modelFile: model,
        samples: [{ id: 's1', inputs: { mel: input } }],
        outputs: ['features'],
      }),
    );
    for (const u of p.uploads) {
      fs.mkdirSync(path.dirname(u.remote), { recursive: true });
      fs.copyFileSync(u.local, u.remote);
    }
    fs.writeFileSync(p.manifestPath, JSON.stringify(p.manifest));
    const r = spawnSync(PY, p.argv, { encoding: 'utf8', env: { ...process.env, PYTHONPATH: STANDINS } });
    assert.equal(r.status, 0, r.stderr);
    for (const e of p.expectedOutputs) {
      fs.mkdirSync(path.dirname(e.local), { recursive: true });
      fs.copyFileSync(e.remote, e.local);
      const a = await readNpy(e.local);
      assert.deepEqual(a.shape, [1, 1, 1500, 16]);
    }
  });
});
