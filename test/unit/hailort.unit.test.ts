import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  detectHailortOutput,
  formatFigure,
  isMeasured,
  mergeCsv,
  parseBenchmark,
  parseFiguresCsv,
  parseHailortOutput,
  parseParseHef,
  parseRun,
  parseRun2,
  type Figure,
} from '../../src/core/hailo/hailort';
import { parseIdentify, parseScan } from '../../src/core/hailo/versions';
import { REFERENCE_DIR } from '../reference';

const SAMPLES = path.join(REFERENCE_DIR, 'hailo', 'log-samples');
const OWN = path.join(__dirname, '..', 'fixtures', 'hailort');
const own = (f: string) => fs.readFileSync(path.join(OWN, f), 'utf8');

const v = (f: Figure) => (isMeasured(f) ? f.value : undefined);
const why = (f: Figure) => (isMeasured(f) ? undefined : f.notMeasured);

describe('hailortcli output: real captures', function () {
  const sample = (name: string): string => {
    const p = path.join(SAMPLES, name);
    if (!fs.existsSync(p)) {
      console.log(`      skipped: ${p} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
      this.ctx.skip();
    }
    return fs.readFileSync(p, 'utf8');
  };

  it('benchmark on a Pi 5 + Hailo-8, HailoRT 4.23: both FPS, HW latency, no power block', function () {
    const text = sample('benchmark-hailo8-pi5-yolov8s-time-to-run.txt');
    assert.equal(detectHailortOutput(text), 'benchmark');
    const f = parseBenchmark(text, 0);
    assert.equal(f.format, '4.x');
    assert.equal(f.network, 'yolov8s/yolov8s');
    assert.equal(v(f.fpsHwOnly), 309.58);
    assert.equal(v(f.fpsStreaming), 309.441);
    assert.equal(v(f.hwLatencyMs), 6.66137);
    assert.deepEqual(f.phases, ['hw_only', 'streaming', 'latency']);
    assert.equal(f.complete, true);
    assert.match(why(f.powerAvgW)!, /no power sensor/);
    assert.match(why(f.overallLatencyMs)!, /does not measure overall latency/);
  });

  it('parse-hef then benchmark of yolov8n on a Hailo-8 (one capture, two commands)', function () {
    const text = sample('parse-hef-and-benchmark-hailo8-yolov8n.txt');
    const f = parseBenchmark(text, 0);
    assert.equal(v(f.fpsHwOnly), 201.642);
    assert.equal(v(f.fpsStreaming), 201.642);
    assert.equal(v(f.hwLatencyMs), 6.50882);
    const hef = parseParseHef(text);
    assert.equal(hef.architecture, 'HAILO8');
    assert.equal(hef.groups[0]!.name, 'yolov8n');
    assert.equal(hef.groups[0]!.contexts, 1);
    assert.equal(hef.groups[0]!.multiContext, false);
    assert.equal(hef.inputs, 1);
    assert.equal(hef.outputs, 6);
    assert.deepEqual(hef.groups[0]!.networks[0]!.streams[6]!, {
      direction: 'output',
      name: 'yolov8n/conv63',
      type: 'UINT8',
      order: 'FCR',
      shape: [20, 20, 80],
      detail: '20x20x80',
    });
  });

  it('benchmark on HailoRT 5.1 (Hailo-10H): one FPS, temperature, no power, no latency phase', function () {
    const f = parseBenchmark(sample('benchmark-hailo10h-hailort5-format.txt'), 0);
    assert.equal(f.format, '5.x');
    assert.equal(f.network, 'resnet_v1_50');
    assert.equal(v(f.fpsStreaming), 307.48);
    assert.deepEqual(f.temperatureC, { mean: 33.74, min: 31.85, max: 34.69 });
    assert.match(why(f.hwLatencyMs)!, /5\.x benchmark has no latency phase/);
    assert.match(why(f.powerAvgW)!, /power measurement is not supported/);
    assert.equal(why(f.fpsHwOnly), 'HailoRT 5.x benchmark prints one streaming FPS figure only');
  });

  it('run through the hailo wrapper: frames, FPS, send and receive rates', function () {
    const f = parseRun(sample('hailortcli-run-hailo8-streaming.txt'), 0);
    assert.equal(f.network, 'yolov5m_wo_spp_60p/yolov5m_wo_spp_60p');
    assert.equal(f.frames, 1088);
    assert.equal(v(f.fpsStreaming), 217.34);
    assert.equal(f.sendRateMbps, 2136.58);
    assert.equal(f.recvRateMbps, 3759.88);
    assert.match(why(f.hwLatencyMs)!, /not requested/);
    const g = parseRun(sample('hailortcli-run-hailo8-device-count-2.txt'), 0);
    assert.equal(g.frames, 2176);
    assert.equal(v(g.fpsStreaming), 434.22);
    assert.equal(g.sendRateMbps, 4268.51);
    assert.equal(g.recvRateMbps, 7511.58);
  });

  it('run refused on HailoRT 5.x: the CLI error, no figures', function () {
    const text = sample('run-refused-hailo10h-hailort5.txt');
    assert.equal(detectHailortOutput(text), 'run');
    const f = parseRun(text, 1);
    assert.equal(f.format, '5.x');
    assert.equal(f.errors.length, 1);
    assert.equal(f.errors[0]!.text, 'CHECK failed - The "run" command is not supported for this device type! Use "run2" instead.');
    assert.match(why(f.fpsStreaming)!, /run failed \(exit 1\).*Use "run2" instead/);
  });

  it('run2 on HailoRT 5.x', function () {
    const text = sample('run2-hailo10h-hailort5.txt');
    assert.equal(detectHailortOutput(text), 'run2');
    const f = parseRun2(text, 0);
    assert.equal(f.network, 'resnet_v1_50');
    assert.equal(v(f.fpsStreaming), 307.46);
  });

  it('parse-hef: single context, multi-context with NMS post-process, the 5.x header', function () {
    const a = parseParseHef(sample('parse-hef-hailo8-single-context.txt'));
    assert.equal(a.architecture, 'HAILO8');
    assert.equal(a.contexts, 1);
    assert.equal(a.inputs, 1);
    assert.equal(a.outputs, 3);
    assert.equal(a.nms, false);
    assert.deepEqual(a.groups[0]!.networks[0]!.streams[0]!.shape, [640, 640, 3]);
    const b = parseParseHef(sample('parse-hef-hailo8l-multicontext-nms-op.txt'));
    assert.equal(b.architecture, 'HAILO8L');
    assert.equal(b.groups[0]!.contexts, 4);
    assert.equal(b.groups[0]!.multiContext, true);
    assert.equal(b.nms, true);
    const out = b.groups[0]!.networks[0]!.streams[1]!;
    assert.equal(out.order, 'HAILO NMS BY CLASS');
    assert.equal(out.detail, 'number of classes: 80, maximum bounding boxes per class: 100, maximum frame size: 160320');
    assert.equal(b.groups[0]!.networks[0]!.operations[0]!.op, 'YOLOV8');
    assert.equal(b.groups[0]!.networks[0]!.operations[0]!.fields['IoU threshold'], '0.70');
    assert.equal(b.groups[0]!.networks[0]!.operations[0]!.fields['Image width'], '640');
    const c = parseParseHef(sample('parse-hef-hailort5-llm-header.txt'));
    assert.equal(c.format, '5.x');
    assert.deepEqual(c.compatible, ['HAILO15H', 'HAILO10H']);
    assert.equal(c.groups[0]!.name, 'base_model__prefill');
    assert.equal(c.groups[0]!.contexts, 124);
    assert.equal(c.inputs, 6);
    assert.equal(c.outputs, 4);
    assert.equal(c.groups[0]!.networks[0]!.streams[1]!.type, 'UINT16');
  });

  it('scan and identify (HailoRT 4.23 capture) and identify across firmware versions', function () {
    const text = sample('version-scan-identify-hailort4.23-no-serial-lines.txt');
    assert.deepEqual(parseScan(text), [{ kind: 'pcie', id: '0000:01:00.0' }]);
    const id = parseIdentify(text)[0]!;
    assert.equal(id.firmwareVersion, '4.23.0');
    assert.equal(id.architecture, 'HAILO8');
    assert.equal(id.serialNumber, undefined);
    const fw = (name: string) => parseIdentify(sample(name))[0]!;
    assert.equal(fw('identify-hailo8l-rpi5-fw4.17.txt').firmwareVersion, '4.17.0');
    assert.equal(fw('identify-hailo8l-rpi5-fw4.17.txt').partNumber, 'HM21LB1C2LAE');
    assert.equal(fw('identify-hailo8l-rpi5-fw4.20-domain0001.txt').deviceId, '0001:01:00.0');
    assert.equal(fw('identify-hailo8l-rpi5-fw4.20-domain0001.txt').serialNumber, 'HLDDLBB243201979');
    assert.equal(fw('identify-hailo8l-aihat-fw4.20-docker.txt').architecture, 'HAILO8L');
    assert.equal(fw('identify-hailo8l-aihat-fw4.20-docker.txt').serialNumber, undefined);
    assert.equal(fw('identify-hailo8l-aihat-fw4.17-na.txt').productName, undefined);
    assert.equal(fw('identify-hailo8-m2-modelzoo-doc.txt').architecture, 'HAILO8_B0');
    assert.equal(fw('identify-hailo8-m2-modelzoo-doc.txt').hwArch, 'hailo8');
    assert.equal(fw('identify-hailo8-m2-modelzoo-doc.txt').firmwareVersion, '4.6.0');
  });
});

describe('hailortcli output: own fixtures', () => {
  it('benchmark with the power block of a Hailo-8 M.2 (dvm warning paragraph in between)', () => {
    const f = parseBenchmark(own('benchmark-hailo8-m2-power.txt'), 0);
    assert.equal(v(f.fpsHwOnly), 326.567);
    assert.equal(v(f.fpsStreaming), 324.718);
    assert.equal(v(f.hwLatencyMs), 7.49588);
    assert.equal(v(f.powerAvgW), 3.43733);
    assert.equal(v(f.powerMaxW), 3.48117);
    assert.equal(f.warnings.length, 1);
  });

  it('a benchmark that fails in the latency phase keeps both FPS figures from the progress lines (\\r redraws, ANSI)', () => {
    const f = parseBenchmark(own('benchmark-hailo8l-whisper-latency-fails.txt'), 1);
    assert.equal(f.complete, false);
    assert.deepEqual(f.phases, ['hw_only', 'streaming', 'latency']);
    assert.deepEqual(f.fpsHwOnly, { value: 7.93, unit: 'fps', source: 'progress' });
    assert.deepEqual(f.fpsStreaming, { value: 7.62, unit: 'fps', source: 'progress' });
    assert.equal(f.status, 'HAILO_TIMEOUT');
    assert.match(why(f.hwLatencyMs)!, /failed \(exit 1, HAILO_TIMEOUT\) before the HW latency was printed/);
    assert.equal(f.errors.length, 3);
    assert.equal(f.errors[0]!.text, 'CHECK failed - Failed to measure latency, status = HAILO_TIMEOUT(4)');
  });

  it('HW latency refused for on-chip NMS and for two inputs: not measured with the reason, never 0', () => {
    const a = parseBenchmark(own('benchmark-hailo8l-nms-no-latency.txt'), 0);
    assert.equal(v(a.fpsHwOnly), 49.4731);
    assert.equal(why(a.hwLatencyMs), 'HailoRT does not measure HW latency on networks with on-chip NMS');
    const b = parseBenchmark(own('benchmark-hailo8l-multi-input.txt'), 0);
    assert.equal(v(b.fpsStreaming), 19.7102);
    assert.equal(why(b.hwLatencyMs), 'HailoRT measures HW latency only on networks with a single input (this one has 2)');
    assert.equal(formatFigure(b.hwLatencyMs), 'not measured (HailoRT measures HW latency only on networks with a single input (this one has 2))');
  });

  it('benchmark --csv: full precision, zeros are "not measured"; merged over the text figures', () => {
    const rows = parseFiguresCsv(own('benchmark-hailo8l-whisper.csv'));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.network, 'whisper_enc/whisper_enc');
    assert.equal(v(rows[0]!.figures.fpsHwOnly!), 7.93311);
    assert.equal(v(rows[0]!.figures.hwLatencyMs!), 125.873);
    assert.equal(rows[0]!.frames, 114);
    assert.match(why(rows[0]!.figures.overallLatencyMs!)!, /overall_latency: 0 in the CSV/);
    assert.match(why(rows[0]!.figures.powerAvgW!)!, /average_power: 0/);
    const text = parseBenchmark(own('benchmark-hailo8l-whisper-latency-fails.txt'), 1);
    const merged = mergeCsv(text, rows);
    assert.equal(v(merged.fpsStreaming), 7.61934);
    assert.equal(v(merged.hwLatencyMs), 125.873);
  });

  it('run with --measure-latency --measure-overall-latency', () => {
    const f = parseRun(own('run-hailo8l-whisper-latency.txt'), 0);
    assert.equal(f.network, 'whisper_enc/whisper_enc');
    assert.equal(f.frames, 76);
    assert.equal(v(f.fpsStreaming), 7.61);
    assert.equal(v(f.hwLatencyMs), 125.88);
    assert.equal(v(f.overallLatencyMs), 131.42);
    assert.equal(f.sendRateMbps, 2.92);
  });

  it('scan with no device, identify on a busy device', () => {
    const s = parseHailortOutput(own('scan-none.txt'));
    assert.deepEqual(s, { kind: 'scan', devices: [], notFound: true });
    const busy = parseBenchmark(own('identify-device-busy.txt'));
    assert.equal(busy.status, 'HAILO_DEVICE_IN_USE');
  });

  it('detects each command', () => {
    assert.equal(detectHailortOutput(own('parse-hef-hailo8l-whisper-multicontext.txt')), 'parse-hef');
    assert.equal(detectHailortOutput(own('identify-hailo8l-fw4.20-hailort4.23.txt')), 'identify');
    assert.equal(detectHailortOutput(own('version-4.23.txt')), 'version');
    assert.equal(detectHailortOutput('[info] Hailo DFC Version: 3.33.0'), undefined);
  });
});
