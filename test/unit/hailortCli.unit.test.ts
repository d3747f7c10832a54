import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';
import { REFERENCE_DIR } from '../reference';

function io(cwd: string): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), cwd, env: {} };
}

const OWN = path.resolve(__dirname, '..', 'fixtures', 'hailort');
const SAMPLES = path.join(REFERENCE_DIR, 'hailo', 'log-samples');

describe('cli: parse-log on hailortcli output', () => {
  it('json: a benchmark that failed in the latency phase, 1, both FPS kept, latency "not measured" with the reason', async () => {
    const o = io(OWN);
    assert.equal(await main(['parse-log', '--format', 'json', 'benchmark-hailo8l-whisper-latency-fails.txt'], o), 1);
    const j = JSON.parse(o.stdout.join(''));
    assert.equal(j.tool, 'hailortcli');
    const f = j.outputs[0].output.figures;
    assert.equal(j.outputs[0].output.kind, 'benchmark');
    assert.deepEqual(f.fpsHwOnly, { value: 7.93, unit: 'fps', source: 'progress' });
    assert.deepEqual(f.fpsStreaming, { value: 7.62, unit: 'fps', source: 'progress' });
    assert.match(f.hwLatencyMs.notMeasured, /before the HW latency was printed/);
  });

  it('text: run with latency, 0; scan with no device, 1', async () => {
    const o = io(OWN);
    assert.equal(await main(['parse-log', 'run-hailo8l-whisper-latency.txt'], o), 0);
    const text = o.stdout.join('\n');
    assert.match(text, /HW latency +125\.88 ms/);
    assert.match(text, /overall latency +131\.42 ms/);
    assert.match(text, /FPS \(streaming\) +7\.61 fps/);
    const n = io(OWN);
    assert.equal(await main(['parse-log', 'scan-none.txt'], n), 1);
    assert.match(n.stdout.join('\n'), /scan: no Hailo device found/);
  });

  it('a capture with two commands (parse-hef, then benchmark) is read command by command', async function () {
    const file = path.join(SAMPLES, 'parse-hef-and-benchmark-hailo8-yolov8n.txt');
    if (!fs.existsSync(file)) {
      console.log(`      skipped: ${file} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
      this.skip();
    }
    const o = io(SAMPLES);
    assert.equal(await main(['parse-log', '--format', 'json', file], o), 0);
    const j = JSON.parse(o.stdout.join(''));
    assert.deepEqual(
      j.outputs.map((p: { command: string }) => p.command),
      ['hailortcli parse-hef yolov8n.hef', 'hailortcli benchmark yolov8n.hef'],
    );
    assert.equal(j.outputs[0].output.hef.outputs, 6);
    assert.equal(j.outputs[1].output.figures.hwLatencyMs.value, 6.50882);
  });

  it('a DFC log still goes to the DFC log reader', async () => {
    const o = io(path.resolve(__dirname, '..', 'fixtures', 'logs'));
    await main(['parse-log', '--format', 'json', 'cli-parse-failure-exception-crlf.log'], o);
    assert.equal(JSON.parse(o.stdout.join('')).outcome, 'failed');
  });
});
