import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  compareVersions,
  hailortForDfc,
  hwArchForDeviceArchitecture,
  parseIdentify,
  parseScan,
  parseSystemHeader,
  parseToolVersions,
} from '../../src/core/hailo/versions';
import { REFERENCE_DIR } from '../reference';

const SAMPLES = path.join(REFERENCE_DIR, 'hailo', 'log-samples');

function sample(ctx: Mocha.Context, name: string): string {
  const file = path.join(SAMPLES, name);
  if (!fs.existsSync(file)) {
    console.log(`      skipped: ${file} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
    ctx.skip();
  }
  return fs.readFileSync(file, 'utf8');
}

describe('versions: real samples', () => {
  it('hailortcli --version, scan and identify on HailoRT 4.23 (no serial lines)', function () {
    const text = sample(this, 'version-scan-identify-hailort4.23-no-serial-lines.txt');
    assert.equal(parseToolVersions(text).hailortCli, '4.23.0');
    assert.deepEqual(parseScan(text), [{ kind: 'pcie', id: '0000:01:00.0' }]);
    assert.deepEqual(parseIdentify(text), [
      {
        deviceId: '0000:01:00.0',
        controlProtocolVersion: 2,
        firmwareVersion: '4.23.0',
        firmwareFlags: ['release', 'app', 'extended context switch buffer'],
        loggerVersion: 0,
        boardName: 'Hailo-8',
        architecture: 'HAILO8',
        hwArch: 'hailo8',
      },
    ]);
  });

  it('identify on a Pi 5 AI Kit (Hailo-8L, firmware 4.17, serials set)', function () {
    const [d] = parseIdentify(sample(this, 'identify-hailo8l-rpi5-fw4.17.txt'));
    assert.equal(d!.boardName, 'Hailo-8');
    assert.equal(d!.architecture, 'HAILO8L');
    assert.equal(d!.hwArch, 'hailo8l');
    assert.equal(d!.firmwareVersion, '4.17.0');
    assert.equal(d!.serialNumber, 'HLDDLBB234500128');
    assert.equal(d!.partNumber, 'HM21LB1C2LAE');
    assert.equal(d!.productName, 'HAILO-8L AI ACC M.2 B+M KEY MODULE EXT TMP');
  });

  it('identify with N/A and <N/A> serials treats them as absent', function () {
    for (const f of ['identify-hailo8l-aihat-fw4.17-na.txt', 'identify-hailo8l-aihat-fw4.20-docker.txt']) {
      const [d] = parseIdentify(sample(this, f));
      assert.equal(d!.architecture, 'HAILO8L', f);
      assert.equal(d!.serialNumber, undefined, f);
      assert.equal(d!.partNumber, undefined, f);
      assert.equal(d!.productName, undefined, f);
    }
    const [d420] = parseIdentify(sample(this, 'identify-hailo8l-aihat-fw4.20-docker.txt'));
    assert.equal(d420!.firmwareVersion, '4.20.0');
  });

  it('identify on PCIe domain 0001 and through the hailo wrapper (no device line)', function () {
    const [d] = parseIdentify(sample(this, 'identify-hailo8l-rpi5-fw4.20-domain0001.txt'));
    assert.equal(d!.deviceId, '0001:01:00.0');
    assert.equal(d!.serialNumber, 'HLDDLBB243201979');
    const [m2] = parseIdentify(sample(this, 'identify-hailo8-m2-modelzoo-doc.txt'));
    assert.equal(m2!.deviceId, undefined);
    assert.equal(m2!.architecture, 'HAILO8_B0');
    assert.equal(m2!.hwArch, 'hailo8');
    assert.deepEqual(m2!.firmwareFlags, ['release', 'app']);
    assert.equal(m2!.productName, 'HAILO-8 AI ACCELERATOR M.2 MODULE');
  });

  it('DFC system headers: plain and with lost ANSI escape bytes', function () {
    const h = parseSystemHeader(sample(this, 'parser-cli-header-rtdetr-traceback-TRUNCATED.log'));
    assert.equal(h.dfcVersion, '3.30.0');
    assert.equal(h.hailortVersion, null);
    assert.equal(h.kernel, '6.8.0-52-generic');
    assert.equal(h.cpu!.model, undefined); // "Model: ," is empty in that capture
    const v = parseSystemHeader(sample(this, 'visualizer-cli-header-ansi-color-residue.txt'));
    assert.equal(v.dfcVersion, '3.29.0');
    assert.equal(v.cpu!.utilizationPct, 5.2);
    const tv = parseToolVersions(sample(this, 'visualizer-cli-header-ansi-color-residue.txt'));
    assert.deepEqual([tv.dfc, tv.hailort], ['3.29.0', null]);
  });
});

describe('versions: own fixtures', () => {
  it('parses a coloured header with CRLF line ends', () => {
    const text =
      '\x1b[0m[\x1b[32minfo\x1b[0m] Hailo DFC Version: 3.33.0\r\n[\x1b[32minfo\x1b[0m] HailoRT Version: 4.23.0\r\n[\x1b[32minfo\x1b[0m] Running `hailo --version`\r\n';
    const h = parseSystemHeader(text);
    assert.deepEqual([h.dfcVersion, h.hailortVersion, h.command], ['3.33.0', '4.23.0', 'hailo --version']);
    assert.deepEqual(parseToolVersions(text), { dfc: '3.33.0', hailort: '4.23.0', problems: [] });
  });

  it('reports a DFC/HailoRT pair that did not ship together, and library mismatches', () => {
    const v = parseToolVersions('[info] Hailo DFC Version: 3.31.0\n[info] HailoRT Version: 4.19.0\n');
    assert.equal(v.problems.length, 1);
    assert.match(v.problems[0]!, /DFC 3\.31\.0 ships with HailoRT 4\.21\.0/);
    const m = parseToolVersions('libhailort version (4.20.0) does not match HailoRT-CLI version (4.23.0)\nHailoRT-CLI version 4.23.0\n');
    assert.deepEqual([m.libhailort, m.hailortCli, m.problems.length], ['4.20.0', '4.23.0', 1]);
    const d = parseToolVersions('[HailoRT] [error] Driver version (4.20.0) is different from library version (4.19.0)\n');
    assert.equal(d.problems.length, 1);
  });

  it('accepts pip show output for the DFC wheel', () => {
    const v = parseToolVersions('Name: hailo_dataflow_compiler\nVersion: 3.33.1\nSummary: Hailo Dataflow Compiler\n');
    assert.equal(v.dfc, '3.33.1');
  });

  it('scan: none found, ethernet boards', () => {
    assert.deepEqual(parseScan('Hailo devices not found\n'), []);
    assert.deepEqual(parseScan('Hailo Ethernet Devices:\n[-] Board IP: 10.0.0.5\n'), [{ kind: 'ethernet', id: '10.0.0.5' }]);
  });

  it('identify: two devices in one output', () => {
    const one =
      'Executing on device: 0000:01:00.0\nIdentifying board\nControl Protocol Version: 2\nFirmware Version: 4.23.0 (release,app)\nDevice Architecture: HAILO8L\n\n';
    const two = one.replace('0000:01', '0000:02').replace('HAILO8L', 'HAILO8');
    const ds = parseIdentify(one + two);
    assert.deepEqual(
      ds.map((d) => [d.deviceId, d.hwArch]),
      [
        ['0000:01:00.0', 'hailo8l'],
        ['0000:02:00.0', 'hailo8'],
      ],
    );
  });

  it('identify --extended: clock rate and the other fields', () => {
    const [d] = parseIdentify(
      'Executing on device: 0001:01:00.0\nIdentifying board\nControl Protocol Version: 2\nFirmware Version: 4.23.0 (release,app,extended context switch buffer)\nLogger Version: 0\nBoard Name: Hailo-8\nDevice Architecture: HAILO8L\nBoot source: PCIE\nNeural Network Core Clock Rate: 300MHz\nLCS: 3\n',
    );
    assert.equal(d!.coreClockMHz, 300);
    assert.deepEqual(d!.other, { 'Boot source': 'PCIE', LCS: '3' });
  });

  it('version helpers', () => {
    assert.equal(hailortForDfc('3.33.0'), '4.23.0');
    assert.equal(hailortForDfc('3.29.0'), '4.19.0');
    assert.equal(hailortForDfc('9.9.9'), undefined);
    assert.ok(compareVersions('3.30.0', '3.29.1') > 0);
    assert.ok(compareVersions('3.9.0', '3.29.0') < 0);
    assert.equal(hwArchForDeviceArchitecture('HAILO10H'), 'hailo10h');
    assert.equal(hwArchForDeviceArchitecture('Unknown'), undefined);
  });
});
