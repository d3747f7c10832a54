import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HailortJsonError, detectHailortOutput, mergeRun2Json, parseBenchmark, parseRun2, parseRun2Json } from '../../src/core/hailo/hailort';
import { estimateRatio, parseCompilerEstimate, scanCompilerEstimate } from '../../src/core/hailo/estimate';
import { aggregateRepetitions, splitRepetitions } from '../../src/core/remote/deviceDriver';
import { benchmarkRepeats, repeatedBenchmarkArgv } from '../../src/core/remote/device';
import { compileEstimate, regressionOf, repetitionSpread, withinRunNoise, type DeviceResult } from '../../src/core/remote/results';
import { writeRun, type RunRecord } from '../../src/core/remote/run';
import { main } from '../../src/cli/main';

const FIX = path.join(__dirname, '..', 'fixtures');
const read = (...p: string[]) => fs.readFileSync(path.join(FIX, ...p), 'utf8');

describe('device: run2 -j statistics JSON (HailoRT run2/live_stats.cpp)', () => {
  it('the latency file: HW and overall latency at full precision; no FPS, with the reason run2 gives', () => {
    const f = parseRun2Json(read('hailort', 'run2-hailo10h-whisper-latency.json'));
    assert.equal(f.network, 'whisper_enc');
    assert.equal(f.inferenceMode, 'full_async');
    assert.equal(f.timeToRun, '15.00 seconds');
    assert.deepEqual(f.hwLatencyMs, { value: 38.70825, unit: 'ms', source: 'json' });
    assert.deepEqual(f.overallLatencyMs, { value: 41.296312, unit: 'ms', source: 'json' });
    assert.match((f.fpsStreaming as { notMeasured: string }).notMeasured, /one frame at a time/);
    assert.match((f.powerAvgW as { notMeasured: string }).notMeasured, /--measure-power/);
    assert.equal(f.temperatureC, undefined);
  });

  it('the FPS file: FPS from its std::to_string text, temperature from the devices block, no power', () => {
    const f = parseRun2Json(read('hailort', 'run2-hailo10h-whisper-fps-temp.json'));
    assert.deepEqual(f.fpsStreaming, { value: 24.771346, unit: 'fps', source: 'json' });
    assert.deepEqual(f.temperatureC, { min: 47.25, max: 51.8125, avg: 49.604167 });
    assert.match((f.hwLatencyMs as { notMeasured: string }).notMeasured, /no hw_latency/);
    assert.match((f.powerAvgW as { notMeasured: string }).notMeasured, /no power block/);
  });

  it('power from the devices block in W; a zero is not a measurement', () => {
    const j = JSON.parse(read('hailort', 'run2-hailo10h-whisper-fps-temp.json')) as { devices: Record<string, unknown>[] };
    j.devices[0]!.power = { min: '1.402000 W', max: '1.987500 W', average: '1.733410 W' };
    const f = parseRun2Json(JSON.stringify(j, null, 4));
    assert.deepEqual(f.powerAvgW, { value: 1.73341, unit: 'W', source: 'json' });
    assert.deepEqual(f.powerMaxW, { value: 1.9875, unit: 'W', source: 'json' });
    const z = JSON.parse(read('hailort', 'run2-hailo10h-whisper-fps-temp.json')) as { network_groups: Record<string, unknown>[] };
    z.network_groups[0]!.FPS = '0.000000';
    assert.ok('notMeasured' in parseRun2Json(JSON.stringify(z)).fpsStreaming);
  });

  it('the network group named, else the first', () => {
    const j = JSON.parse(read('hailort', 'run2-hailo10h-whisper-fps-temp.json')) as { network_groups: Record<string, unknown>[] };
    j.network_groups.push({ name: 'vad', full_hef_path: '/m/vad.hef', FPS: '812.500000' });
    assert.equal((parseRun2Json(JSON.stringify(j), 'vad').fpsStreaming as { value: number }).value, 812.5);
    assert.equal((parseRun2Json(JSON.stringify(j), 'other').fpsStreaming as { value: number }).value, 24.771346);
  });

  it('a file that is not the statistics JSON is an error naming the problem', () => {
    assert.throws(
      () => parseRun2Json('{\n    "time": "x",\n    "network_groups": [\n'),
      (e: unknown) => e instanceof HailortJsonError && /not JSON/.test(e.message),
    );
    assert.throws(
      () => parseRun2Json('{"time": "x", "network_groups": [{"FPS": "1.0"}]}'),
      (e: unknown) => e instanceof HailortJsonError && /network_groups\.0\.name/.test(e.message),
    );
  });

  it('the console line with latencies (network_live_track.cpp text), and JSON over console where measured', () => {
    const text = '[===================>] 100% 00:00:00\nwhisper_enc: hw latency: 38.71 ms | overall latency: 41.30 ms\n';
    assert.equal(detectHailortOutput(text), 'run2');
    const t = parseRun2(text, 0);
    assert.deepEqual(t.hwLatencyMs, { value: 38.71, unit: 'ms', source: 'result' });
    assert.deepEqual(t.overallLatencyMs, { value: 41.3, unit: 'ms', source: 'result' });
    assert.match((t.fpsStreaming as { notMeasured: string }).notMeasured, /one frame at a time/);
    const m = mergeRun2Json(t, parseRun2Json(read('hailort', 'run2-hailo10h-whisper-latency.json')));
    assert.deepEqual(m.hwLatencyMs, { value: 38.70825, unit: 'ms', source: 'json' });
    assert.equal(m.network, 'whisper_enc');
    assert.ok('notMeasured' in m.fpsStreaming);
  });
});

describe('device: the compiler estimate (profiler Performance Summary)', () => {
  it('reads throughput, latency, contexts, power and the profiler mode', () => {
    const text = read('dfc', 'hailomz-profile-whisper-enc-hailo8l-estimate.log');
    assert.deepEqual(parseCompilerEstimate(text), { source: 'hailo profiler (Pre Placement)', fps: 21.87, latencyMs: 142.36, contexts: 4, powerW: 1.12 });
  });

  it('N/A figures: no estimate, and says why', () => {
    const text = read('dfc', 'hailomz-profile-whisper-enc-hailo8l-na.log');
    assert.equal(parseCompilerEstimate(text), undefined);
    assert.match(scanCompilerEstimate(text).missing!, /Throughput N\/A, Latency N\/A/);
  });

  it('a compile log without the profiler has none', () => {
    const log = read('logs', 'cli-pipeline-whisper-small-encoder-ansi-progress.log');
    assert.equal(parseCompilerEstimate(log), undefined);
    assert.match(scanCompilerEstimate(log).missing!, /no "Performance Summary"/);
  });

  it('survives ANSI colour, CRLF and a later summary wins', () => {
    const est = read('dfc', 'hailomz-profile-whisper-enc-hailo8l-estimate.log');
    const twice = `${est}\n${est.replace('21.87 FPS', '30.5 FPS').replace('142.36 ms', '98.1 ms')}`
      .replace(/\n/g, '\r\n')
      .replace('[info]', '\x1b[32m[info]\x1b[0m');
    assert.deepEqual(parseCompilerEstimate(twice), { source: 'hailo profiler (Pre Placement)', fps: 30.5, latencyMs: 98.1, contexts: 4, powerW: 1.12 });
  });

  it('parse-log prints the estimate of a profiler log (text and JSON), and why there is none for N/A', async () => {
    const out: string[] = [];
    const io = (cwd: string) => ({ out: (x: string) => out.push(x), err: () => undefined, cwd, env: {} });
    const dir = path.join(FIX, 'dfc');
    await main(['parse-log', 'hailomz-profile-whisper-enc-hailo8l-estimate.log'], io(dir));
    assert.match(out.join('\n'), /compiler estimate \(hailo profiler \(Pre Placement\)\): 21\.87 FPS, 142\.36 ms, 4 context\(s\)$/);
    out.length = 0;
    await main(['parse-log', '--format', 'json', 'hailomz-profile-whisper-enc-hailo8l-estimate.log'], io(dir));
    assert.deepEqual(JSON.parse(out.join('')).estimate, { source: 'hailo profiler (Pre Placement)', fps: 21.87, latencyMs: 142.36, contexts: 4, powerW: 1.12 });
    out.length = 0;
    await main(['parse-log', 'hailomz-profile-whisper-enc-hailo8l-na.log'], io(dir));
    assert.match(
      out.join('\n'),
      /compiler estimate: none \(the profiler's Performance Summary gives no throughput or latency \(Throughput N\/A, Latency N\/A\)\)$/,
    );
  });

  it('the ratio is measured over estimated', () => {
    assert.equal(estimateRatio(24.81, 21.87)!.toFixed(3), '1.134');
    assert.equal(estimateRatio(undefined, 21.87), undefined);
    assert.equal(estimateRatio(5, 0), undefined);
  });

  it('the newest compile run of the model with a profiler summary in its folder; otherwise why', () => {
    const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'hwe-'));
    try {
      const mk = (id: string, createdAt: string, model = 'whisper_enc'): RunRecord =>
        ({
          version: 1,
          id,
          kind: 'compile',
          model,
          netName: model,
          hwArch: 'hailo8l',
          target: { name: 'box', host: 'box', workDir: '/w' },
          remoteDir: '/w/runs/' + id,
          createdAt,
          status: 'succeeded',
          steps: [],
          inputs: [],
          bytesSent: 0,
          toolVersions: {},
        }) as unknown as RunRecord;
      assert.match(compileEstimate(runs, 'whisper_enc').missing, /no compile run of whisper_enc/);
      writeRun(runs, mk('20261201-100000-whisper_enc-1', '2026-12-01T10:00:00Z'));
      fs.writeFileSync(path.join(runs, '20261201-100000-whisper_enc-1', 'profile.log'), read('dfc', 'hailomz-profile-whisper-enc-hailo8l-estimate.log'));
      writeRun(runs, mk('20261202-100000-whisper_enc-2', '2026-12-02T10:00:00Z'));
      fs.writeFileSync(path.join(runs, '20261202-100000-whisper_enc-2', 'compile.log'), read('logs', 'cli-pipeline-whisper-small-encoder-ansi-progress.log'));
      const e = compileEstimate(runs, 'whisper_enc');
      assert.equal(e.estimate?.runId, '20261201-100000-whisper_enc-1');
      assert.equal(e.estimate?.fps, 21.87);
      assert.equal(e.estimate?.source, 'hailo profiler (Pre Placement), profile.log');
      assert.match(compileEstimate(runs, 'other').missing, /no compile run of other/);
      // only the three newest compile runs are searched
      for (const d of ['03', '04', '05']) writeRun(runs, mk(`202612${d}-100000-whisper_enc-${d}`, `2026-12-${d}T10:00:00Z`));
      assert.match(compileEstimate(runs, 'whisper_enc').missing, /newest: run 20261205-100000-whisper_enc-05/);
      for (const d of ['03', '04', '05']) fs.rmSync(path.join(runs, `202612${d}-100000-whisper_enc-${d}`), { recursive: true });
      fs.rmSync(path.join(runs, '20261201-100000-whisper_enc-1', 'profile.log'));
      assert.match(
        compileEstimate(runs, 'whisper_enc').missing,
        /no estimate in the compile logs of whisper_enc \(newest: run 20261202-100000-whisper_enc-2\)/,
      );
      fs.writeFileSync(path.join(runs, '20261202-100000-whisper_enc-2', 'profile.log'), read('dfc', 'hailomz-profile-whisper-enc-hailo8l-na.log'));
      assert.match(compileEstimate(runs, 'whisper_enc').missing, /profile\.log: the profiler's Performance Summary gives no throughput/);
    } finally {
      fs.rmSync(runs, { recursive: true, force: true });
    }
  });
});

describe('device: repeated benchmarks and their noise', () => {
  it('repetitions: 1..10, default 3; one repetition is the plain command, more a loop with per-repetition CSVs', () => {
    assert.equal(benchmarkRepeats(undefined), 3);
    assert.equal(benchmarkRepeats(0), 1);
    assert.equal(benchmarkRepeats(40), 10);
    const bench = ['hailortcli', 'benchmark', '/r/x y.hef', '--time-to-run', '5'];
    assert.deepEqual(repeatedBenchmarkArgv(bench, 1, '/r/benchmark'), [...bench, '--csv', '/r/benchmark.csv']);
    assert.deepEqual(repeatedBenchmarkArgv(bench, 1, ''), bench);
    const argv = repeatedBenchmarkArgv(bench, 3, '/r/benchmark');
    assert.deepEqual(argv.slice(3), ['hailo-workbench-benchmark', '3', '/r/benchmark', ...bench]);
  });

  it('the loop script runs the argv n times with its marks and CSV names, and stops at the first failure', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwr-'));
    try {
      const argv = repeatedBenchmarkArgv(['sh', '-c', 'echo "run $*"', 'x', 'a b'], 3, path.join(dir, 'b'));
      const out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      assert.equal(
        out,
        `HWB-REPEAT 1/3\nrun a b --csv ${dir}/b-1.csv\nHWB-REPEAT 2/3\nrun a b --csv ${dir}/b-2.csv\nHWB-REPEAT 3/3\nrun a b --csv ${dir}/b-3.csv\n`,
      );
      const failing = repeatedBenchmarkArgv(['sh', '-c', 'echo once; exit 7'], 3, '');
      const r = spawnSync(failing[0]!, failing.slice(1), { encoding: 'utf8' });
      assert.equal(r.status, 7);
      assert.equal(r.stdout, 'HWB-REPEAT 1/3\nonce\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits the log at the marks and takes the median of each figure', () => {
    const one = read('hailort', 'benchmark-hailo8l-whisper-latency-fails.txt');
    assert.deepEqual(splitRepetitions(one), [one]);
    const bench = (fps: number, lat: number) =>
      `Starting Measurements...\nMeasuring FPS in HW-only mode\nNetwork enc/enc: 100% | 10 | FPS: ${fps} | ETA: 00:00:00\nMeasuring FPS (and Power on supported platforms) in streaming mode\nNetwork enc/enc: 100% | 10 | FPS: ${fps} | ETA: 00:00:00\nMeasuring HW Latency\nNetwork enc/enc: 100% | 10 | HW Latency: ${lat} ms | ETA: 00:00:00\n\n=======\nSummary\n=======\nFPS     (hw_only)                 = ${fps}\n        (streaming)               = ${fps}\nLatency (hw)                      = ${lat} ms\n`;
    const log = `HWB-REPEAT 1/3\n${bench(8.1, 120.5)}HWB-REPEAT 2/3\n${bench(7.9, 126)}HWB-REPEAT 3/3\n${bench(8, 122.25)}`;
    const parts = splitRepetitions(log);
    assert.equal(parts.length, 3);
    const agg = aggregateRepetitions(parts.map((p) => parseBenchmark(p, 0)));
    assert.equal(agg.repetitions!.length, 3);
    assert.deepEqual(agg.hwLatencyMs, { value: 122.25, unit: 'ms', source: 'summary' });
    assert.deepEqual(agg.fpsStreaming, { value: 8, unit: 'fps', source: 'summary' });
    assert.equal(agg.complete, true);
    // the last repetition failed before its summary: median of what was measured, not complete
    const failed = aggregateRepetitions([parseBenchmark(bench(8.1, 120.5), 0), parseBenchmark(bench(7.9, 126).split('Measuring HW Latency')[0]!, 1)]);
    assert.deepEqual(failed.hwLatencyMs, { value: 120.5, unit: 'ms', source: 'summary' });
    assert.equal('value' in failed.fpsHwOnly && failed.fpsHwOnly.value, 8);
    assert.equal(failed.complete, false);
  });

  it('spread of the repetitions: (max - min) / median; the band is the larger of two runs, at least 1 %', () => {
    assert.equal(repetitionSpread([100]), undefined);
    assert.equal(repetitionSpread([100, 104, 97]), 0.07);
    assert.equal(withinRunNoise([100, 104, 97], [105, 106, 104]), 0.07);
    assert.equal(withinRunNoise([100, 100.2, 100.1], [100, 100, 100]), 0.01);
    assert.equal(withinRunNoise([100, 104, 97], [105]), undefined);
  });

  const res = (
    runId: string,
    createdAt: string,
    reps: number[] | undefined,
    lat = reps ? [...reps].sort((a, b) => a - b)[reps.length >> 1]! : 100,
  ): DeviceResult =>
    ({
      runId,
      createdAt,
      model: 'enc',
      device: 'pi5',
      status: 'succeeded',
      partial: false,
      figures: {
        hwLatencyMs: { value: lat, unit: 'ms', source: 'csv' },
        fpsStreaming: { notMeasured: 'x' },
        fpsHwOnly: { notMeasured: 'x' },
        overallLatencyMs: { notMeasured: 'x' },
        powerAvgW: { notMeasured: 'x' },
        powerMaxW: { notMeasured: 'x' },
      },
      ...(reps ? { repetitions: reps.map((hwLatencyMs) => ({ hwLatencyMs })) } : {}),
    }) as DeviceResult;

  it('a regression must exceed the noise the repetitions show; one repetition falls back to earlier runs', () => {
    const a = res('a', '1', [100, 104, 97]);
    const within = res('b', '2', [105, 106, 104]);
    const r1 = regressionOf([a, within], within)!;
    assert.deepEqual([r1.noiseFrom, r1.noise, r1.regressed], ['repeats', 0.07, false]);
    assert.ok(Math.abs(r1.change - 0.05) < 1e-12);
    const beyond = res('c', '3', [130, 131, 129]);
    const r2 = regressionOf([a, within, beyond], beyond)!;
    assert.equal(r2.noiseFrom, 'repeats');
    assert.ok(Math.abs(r2.noise - 2 / 105) < 1e-12);
    assert.equal(r2.regressed, true);
    // single measurements: the earlier-runs band (5 % with fewer than 3 runs); +6 % is beyond it
    const s1 = res('d', '1', undefined, 100);
    const s2 = res('e', '2', undefined, 106);
    const r3 = regressionOf([s1, s2], s2)!;
    assert.deepEqual([r3.noiseFrom, r3.noise, r3.regressed], ['history', 0.05, true]);
  });
});
