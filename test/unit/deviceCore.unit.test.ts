import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hefCompatibility, interpretDeviceCheck, pcieGen, sections } from '../../src/core/remote/device';
import { audioWindowSeconds, budgetState, noiseBand, realTimeFactor } from '../../src/core/remote/results';
import { parseBenchmark, parseParseHef, parseRun2 } from '../../src/core/hailo/hailort';

const OWN = path.join(__dirname, '..', 'fixtures', 'hailort');
const own = (f: string) => fs.readFileSync(path.join(OWN, f), 'utf8');
const sec = (parts: Record<string, string>) =>
  Object.entries(parts)
    .map(([k, v]) => `\nHWB-SECTION ${k}\n${v}`)
    .join('') + '\nHWB-SECTION end\n';

describe('device: check interpretation', () => {
  it('splits the check output into its sections', () => {
    assert.deepEqual(sections(sec({ version: 'HailoRT-CLI version 4.23.0', scan: 'Hailo Devices:\n[-] Device: 0000:01:00.0' })), {
      version: 'HailoRT-CLI version 4.23.0',
      scan: 'Hailo Devices:\n[-] Device: 0000:01:00.0',
      end: '',
    });
  });

  it('PCIe generation from sysfs speeds', () => {
    assert.equal(pcieGen('2.5 GT/s PCIe'), 1);
    assert.equal(pcieGen('5.0 GT/s PCIe'), 2);
    assert.equal(pcieGen('5 GT/s'), 2);
    assert.equal(pcieGen('8.0 GT/s PCIe'), 3);
    assert.equal(pcieGen('Unknown'), undefined);
  });

  it('a driver/library mismatch message and the descriptor page size error are explained', () => {
    const c = interpretDeviceCheck(
      sec({
        version: 'HailoRT-CLI version 4.19.0',
        scan: 'Hailo Devices:\n[-] Device: 0001:01:00.0',
        identify:
          '[HailoRT] [error] Driver version (4.20.0) is different from library version (4.19.0)\n[HailoRT] [error] CHECK_AS_EXPECTED failed - max_desc_page_size given 16384 is bigger than hw max desc page size 4096',
        model: 'Raspberry Pi 5 Model B Rev 1.0',
      }),
    );
    const codes = c.problems.map((p) => p.code);
    assert.ok(codes.includes('VERSION_MISMATCH'), codes.join());
    assert.ok(codes.includes('DESC_PAGE_SIZE'));
    assert.ok(codes.includes('IDENTIFY_FAILED'));
    assert.match(c.problems.find((p) => p.code === 'VERSION_MISMATCH')!.message, /driver 4\.20\.0 vs library 4\.19\.0/);
    assert.match(c.problems.find((p) => p.code === 'DESC_PAGE_SIZE')!.fix, /force_desc_page_size=4096/);
  });

  it('no hailortcli at all', () => {
    const c = interpretDeviceCheck(sec({ none: '' }));
    assert.deepEqual(
      c.problems.map((p) => p.code),
      ['NO_HAILORTCLI'],
    );
    assert.match(c.problems[0]!.fix, /hailo-all/);
  });

  it('a Gen 2 link is explained on a Pi 5 only; elsewhere a link below its maximum is', () => {
    const pcie = '0000:01:00.0|5.0 GT/s PCIe|8.0 GT/s PCIe|1|1';
    const base = {
      version: 'HailoRT-CLI version 4.23.0',
      scan: 'Hailo Devices:\n[-] Device: 0000:01:00.0',
      identify: own('scan-identify-hailo8-fw4.23.txt'),
      pcie,
    };
    assert.deepEqual(
      interpretDeviceCheck(sec({ ...base, model: 'Raspberry Pi 5 Model B Rev 1.0' })).problems.map((p) => p.code),
      ['PCIE_GEN2'],
    );
    assert.deepEqual(
      interpretDeviceCheck(sec(base)).problems.map((p) => p.code),
      ['PCIE_SLOW'],
    );
  });
});

describe('device: HEF compatibility', () => {
  const hef8l = parseParseHef(own('parse-hef-hailo8l-whisper-multicontext.txt'));
  const hef8 = parseParseHef(own('parse-hef-hailo8-whisper.txt'));
  const hef10 = parseParseHef(own('parse-hef-hailo10h-whisper.txt'));
  it('a Hailo-8L takes only hailo8l HEFs; a Hailo-8 runs a hailo8l HEF with a warning', () => {
    assert.equal(hefCompatibility(hef8l, { architecture: 'HAILO8L', hailort: '4.23.0' }).refuse, undefined);
    assert.match(
      hefCompatibility(hef8, { architecture: 'HAILO8L', hailort: '4.23.0' }).refuse!,
      /a Hailo-8L accepts only hailo8l HEFs\): compile with --hw-arch hailo8l/,
    );
    const c = hefCompatibility(hef8l, { architecture: 'HAILO8', hailort: '4.23.0' });
    assert.equal(c.refuse, undefined);
    assert.match(c.warnings[0]!, /runs slower on this Hailo-8/);
    assert.equal(hefCompatibility(hef8, { architecture: 'HAILO8_B0', hailort: '4.23.0' }).refuse, undefined);
  });
  it('HailoRT lines and DFC pairing', () => {
    assert.match(hefCompatibility(hef10, { architecture: 'HAILO8', hailort: '4.23.0' }).refuse!, /needs HailoRT 5\.x/);
    assert.match(hefCompatibility(hef8, { architecture: 'HAILO10H', hailort: '5.1.1' }).refuse!, /runs Hailo-10H\/15 HEFs only/);
    assert.equal(hefCompatibility(hef10, { architecture: 'HAILO10H', hailort: '5.1.1' }).refuse, undefined);
    assert.match(
      hefCompatibility(hef8l, { architecture: 'HAILO8L', hailort: '4.20.0' }, '3.33.0').warnings[0]!,
      /DFC 3\.33\.0 ships with HailoRT 4\.23\.0, the device has 4\.20\.0: a HEF from a newer compiler than the runtime is not guaranteed to load/,
    );
    assert.deepEqual(hefCompatibility(hef8l, { architecture: 'HAILO8L', hailort: '4.23.0' }, '3.33.1').warnings, []);
    assert.match(hefCompatibility({ ...hef8l, compatible: [] }, { architecture: 'HAILO8L' }).refuse!, /printed no architecture/);
  });
});

describe('device: own HailoRT 5.x fixtures', () => {
  it('5.x benchmark and run2 of the whisper encoder', () => {
    const b = parseBenchmark(own('benchmark-hailo10h-whisper.txt'), 0);
    assert.equal(b.format, '5.x');
    assert.deepEqual(b.fpsStreaming, { value: 24.81, unit: 'fps', source: 'summary' });
    assert.deepEqual(b.temperatureC, { mean: 41.02, min: 39.87, max: 42.15 });
    const r = parseRun2(own('run2-hailo10h-whisper.txt'), 0);
    assert.deepEqual(r.fpsStreaming, { value: 24.77, unit: 'fps', source: 'result' });
    assert.deepEqual(parseParseHef(own('parse-hef-hailo10h-whisper.txt')).compatible, ['HAILO10H']);
  });
});

describe('device: budget, real-time factor, noise', () => {
  it('the audio window of a Whisper mel input is 30 s; an explicit one wins; other inputs have none', () => {
    assert.equal(audioWindowSeconds({ inputs: [{ name: 'mel', shape: [1, 80, 3000] }] }), 30);
    assert.equal(audioWindowSeconds({ inputs: [{ name: 'mel', shape: [1, 128, 1000] }] }), 10);
    assert.equal(audioWindowSeconds({ inputs: [{ name: 'mel', shape: [1, 80, 3000] }], audioWindowSeconds: 10 }), 10);
    assert.equal(audioWindowSeconds({ inputs: [{ name: 'img', shape: [1, 3, 640, 640] }] }), undefined);
    assert.equal(realTimeFactor(125, 30), 125 / 30000);
  });
  it('budget states', () => {
    assert.equal(budgetState(9.99, 10), 'within');
    assert.equal(budgetState(10.01, 10), 'over');
    assert.equal(budgetState(undefined, 10), 'not-measured');
    assert.equal(budgetState(5, undefined), 'no-budget');
  });
  it('noise band: 5 % with few runs, 3 x relative MAD (at least 2 %) with more', () => {
    assert.equal(noiseBand([100, 101]), 0.05);
    assert.equal(noiseBand([100, 100, 100, 100]), 0.02);
    assert.ok(Math.abs(noiseBand([100, 110, 90, 100, 105]) - 0.15) < 1e-9);
  });
});
