import { z } from 'zod';
import { stripAnsi } from '../format';
import { parseIdentify, parseScan, parseToolVersions, type IdentifiedDevice, type ScannedDevice } from './versions';

/**
 * Parsers for `hailortcli` console output, after `../shared/reference/hailo/hailort-cli.md` and the
 * real captures in `log-samples/`: `parse-hef`, `run`, `run2`, `benchmark` (text and `--csv`),
 * on HailoRT 4.x (Hailo-8/8L) and 5.x (Hailo-10H/15). `scan` and `fw-control identify` are in
 * versions.ts. A figure that was not measured carries the reason instead of a number; a figure
 * printed before the tool failed is kept (a 4.23 benchmark can fail in its latency phase after
 * printing both FPS figures on its progress lines).
 */

/** A measured number, or why there is none. Never a zero standing in for "not measured". */
export type Figure = { value: number; unit: string; source: 'summary' | 'progress' | 'csv' | 'result' | 'json' } | { notMeasured: string };

export const isMeasured = (f: Figure | undefined): f is Extract<Figure, { value: number }> => !!f && 'value' in f;
export const notMeasured = (reason: string): Figure => ({ notMeasured: reason });

/** The console text a terminal would have left: ANSI removed, the last `\r` redraw of each line. */
export function consoleLines(text: string): string[] {
  return text.split('\n').map((raw) => {
    const parts = stripAnsi(raw)
      .split('\r')
      .filter((p) => p.trim() !== '');
    return (parts.length ? parts[parts.length - 1]! : '').replace(/\s+$/, '');
  });
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
};

/** HailoRT's own messages: `[HailoRT] [error] ...`, `[HailoRT CLI] [warning] ...`, and the CLI's failure line. */
export interface HailortMessage {
  level: 'error' | 'warning' | 'info';
  text: string;
  line: number;
}

function messages(lines: string[]): { errors: HailortMessage[]; warnings: HailortMessage[]; status?: string } {
  const errors: HailortMessage[] = [];
  const warnings: HailortMessage[] = [];
  let status: string | undefined;
  lines.forEach((l, i) => {
    let m: RegExpExecArray | null;
    if ((m = /^\[HailoRT(?: CLI)?\] \[(error|critical|warning|info)\] (.*)$/.exec(l.trim()))) {
      const level = m[1] === 'warning' ? 'warning' : m[1] === 'info' ? 'info' : 'error';
      if (level === 'error') errors.push({ level, text: m[2]!, line: i + 1 });
      else if (level === 'warning') warnings.push({ level, text: m[2]!, line: i + 1 });
    } else if ((m = /^Failed to execute on device: (\S+?)\.? status= ?(\S+)/.exec(l.trim()))) {
      status = m[2]!;
      errors.push({ level: 'error', text: l.trim(), line: i + 1 });
    }
    const s = /\b(HAILO_[A-Z_]+)(?:\((\d+)\))?/.exec(l);
    if (s && s[1] !== 'HAILO_SUCCESS' && !status && /error|fail/i.test(l)) status = s[1]!;
  });
  return { errors, warnings, ...(status ? { status } : {}) };
}

// ---------------------------------------------------------------- parse-hef

export interface HefStream {
  direction: 'input' | 'output';
  name: string;
  /** UINT8, UINT16, FLOAT32, AUTO */
  type: string;
  /** NHWC, FCR, NC, HAILO NMS BY CLASS, ... */
  order: string;
  /** Dimensions when the shape is `AxBxC` (or `(C)`). */
  shape?: number[];
  /** The text in parentheses after the order (NMS parameters). */
  detail: string;
}

export interface HefNetwork {
  name: string;
  streams: HefStream[];
  /** Post-process operations (`Operation:` blocks): `Op YOLOV8` and its `key: value` lines. */
  operations: { op: string; fields: Record<string, string> }[];
}

export interface HefNetworkGroup {
  name: string;
  /** 1 for a single-context HEF, else the number of dynamic contexts. */
  contexts: number;
  multiContext: boolean;
  networks: HefNetwork[];
}

export interface HefInfo {
  /** `Architecture HEF was compiled for: HAILO8L` (4.x), or the first of `HEF Compatible for:` (5.x). */
  architecture?: string;
  /** 5.x: every architecture of `HEF Compatible for: HAILO15H, HAILO10H`. */
  compatible: string[];
  /** The header form: 4.x `Architecture HEF was compiled for`, 5.x `HEF Compatible for`. */
  format?: '4.x' | '5.x';
  groups: HefNetworkGroup[];
  /** Total contexts over all network groups. */
  contexts?: number;
  inputs: number;
  outputs: number;
  /** An output is HAILO NMS, or a post-process operation runs on the chip/host: HW latency is refused. */
  nms: boolean;
  errors: HailortMessage[];
}

export function parseParseHef(text: string): HefInfo {
  const lines = consoleLines(text);
  const info: HefInfo = { compatible: [], groups: [], inputs: 0, outputs: 0, nms: false, errors: messages(lines).errors };
  let group: HefNetworkGroup | undefined;
  let net: HefNetwork | undefined;
  let op: { op: string; fields: Record<string, string> } | undefined;
  for (const l of lines) {
    const t = l.trim();
    let m: RegExpExecArray | null;
    if ((m = /^Architecture HEF was compiled for: (\S+)/.exec(t))) {
      info.architecture = m[1]!;
      info.compatible = [m[1]!];
      info.format = '4.x';
    } else if ((m = /^HEF Compatible for: (.+)$/.exec(t))) {
      info.compatible = m[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      info.architecture = info.compatible[0];
      info.format = '5.x';
    } else if ((m = /^Network group name: (.+?), (Single Context|Multi Context - Number of contexts: (\d+))$/.exec(t))) {
      group = { name: m[1]!, contexts: m[3] ? Number(m[3]) : 1, multiContext: !!m[3], networks: [] };
      info.groups.push(group);
      net = undefined;
      op = undefined;
    } else if ((m = /^Network name: (\S+)$/.exec(t)) && group) {
      net = { name: m[1]!, streams: [], operations: [] };
      group.networks.push(net);
      op = undefined;
    } else if ((m = /^(Input|Output)\s+(\S+) (\w+), (.+)$/.exec(t)) && net) {
      const rest = m[4]!;
      const p = rest.indexOf('(');
      const order = (p >= 0 ? rest.slice(0, p) : rest).trim();
      const detail = p >= 0 ? rest.slice(p + 1, rest.lastIndexOf(')') >= p ? rest.lastIndexOf(')') : undefined) : '';
      const dims = /^\d+(x\d+)*$/.test(detail) ? detail.split('x').map(Number) : undefined;
      net.streams.push({ direction: m[1] === 'Input' ? 'input' : 'output', name: m[2]!, type: m[3]!, order, ...(dims ? { shape: dims } : {}), detail });
      if (/NMS/i.test(order)) info.nms = true;
      op = undefined;
    } else if (t === 'Operation:' && net) {
      op = { op: '', fields: {} };
      net.operations.push(op);
    } else if (op && (m = /^Op (\S+)$/.exec(t))) op.op = m[1]!;
    else if (op && (m = /^([^:]+): (.*)$/.exec(t))) op.fields[m[1]!] = m[2]!;
  }
  for (const g of info.groups) {
    for (const n of g.networks) {
      info.inputs += n.streams.filter((s) => s.direction === 'input').length;
      info.outputs += n.streams.filter((s) => s.direction === 'output').length;
      if (n.operations.some((o) => /NMS|YOLO|SSD|CENTERNET/i.test(o.op + JSON.stringify(o.fields)))) info.nms = true;
    }
  }
  if (info.groups.length) info.contexts = info.groups.reduce((a, g) => a + g.contexts, 0);
  return info;
}

/** `HAILO8L` -> `hailo8l` (the DFC --hw-arch spelling). */
export function hefArchToHwArch(arch: string): string {
  return arch.toLowerCase().replace(/_[ab]0$/, '');
}

// ---------------------------------------------------------------- run / run2 / benchmark

export type FigureName = 'fpsHwOnly' | 'fpsStreaming' | 'hwLatencyMs' | 'overallLatencyMs' | 'powerAvgW' | 'powerMaxW';

export interface HailortFigures {
  command: 'benchmark' | 'run' | 'run2';
  /** Which HailoRT line printed it, as far as the text tells. */
  format: '4.x' | '5.x' | 'unknown';
  /** `<group>/<net>` or the 5.x network name. */
  network?: string;
  fpsHwOnly: Figure;
  fpsStreaming: Figure;
  hwLatencyMs: Figure;
  overallLatencyMs: Figure;
  powerAvgW: Figure;
  powerMaxW: Figure;
  temperatureC?: { mean?: number; min: number; max: number; avg?: number };
  frames?: number;
  sendRateMbps?: number;
  recvRateMbps?: number;
  /** benchmark phases seen (`hw_only`, `streaming`, `latency`) in order, and whether the summary was printed. */
  phases: ('hw_only' | 'streaming' | 'latency')[];
  complete: boolean;
  errors: HailortMessage[];
  warnings: HailortMessage[];
  /** `HAILO_...` status of the failure, when printed. */
  status?: string;
}

const NMS_REFUSED = 'HailoRT does not measure HW latency on networks with on-chip NMS';
const MULTI_INPUT_REFUSED = 'HailoRT measures HW latency only on networks with a single input';

function emptyFigures(command: HailortFigures['command']): HailortFigures {
  const none = notMeasured('not printed');
  return {
    command,
    format: 'unknown',
    fpsHwOnly: none,
    fpsStreaming: none,
    hwLatencyMs: none,
    overallLatencyMs: none,
    powerAvgW: none,
    powerMaxW: none,
    phases: [],
    complete: false,
    errors: [],
    warnings: [],
  };
}

/** A refusal of HW latency among HailoRT's warnings, as the reason to show. */
function latencyRefusal(warnings: HailortMessage[], errors: HailortMessage[]): string | undefined {
  for (const w of [...warnings, ...errors]) {
    if (/HW Latency measurement is not supported on NMS networks/i.test(w.text)) return NMS_REFUSED;
    const m = /HW Latency measurement is supported on networks with a single input.*?(\d+) physical inputs/i.exec(w.text);
    if (m) return `${MULTI_INPUT_REFUSED} (this one has ${m[1]})`;
    if (/HW Latency measurement is supported on networks with a single input/i.test(w.text)) return MULTI_INPUT_REFUSED;
  }
  return undefined;
}

const PROGRESS = /^Network (\S+?): +(\d+)% \| (\d+)(?:\/\d+)? \|(.*)$/;

export function parseBenchmark(text: string, exitCode?: number): HailortFigures {
  const lines = consoleLines(text);
  const f = emptyFigures('benchmark');
  const msg = messages(lines);
  f.errors = msg.errors;
  f.warnings = msg.warnings;
  if (msg.status) f.status = msg.status;
  let phase: HailortFigures['phases'][number] | undefined;
  let inSummary = false;
  let powerSeen = false;
  let powerUnsupported = false;
  let lastPower: 'avg' | 'max' | undefined;
  const progress: Partial<Record<'hw_only' | 'streaming' | 'latency', { fps?: number; latency?: number; frames: number }>> = {};
  for (const l of lines) {
    const t = l.trim();
    let m: RegExpExecArray | null;
    if (/^Measuring FPS in HW-only mode/.test(t)) phase = 'hw_only';
    else if (/^Measuring FPS (\(and Power on supported platforms\) |and Power )?in streaming mode/.test(t)) phase = 'streaming';
    else if (/^Measuring HW Latency/.test(t)) phase = 'latency';
    if (phase && !f.phases.includes(phase)) f.phases.push(phase);
    if (/^Measurement power is not supported/.test(t)) powerUnsupported = true;
    if ((m = PROGRESS.exec(t)) && phase && !inSummary) {
      f.network = m[1]!;
      const fps = /FPS: ([\d.]+)/.exec(m[4]!);
      const lat = /HW Latency: ([\d.]+) ms/.exec(m[4]!);
      progress[phase] = { frames: Number(m[3]), ...(fps ? { fps: Number(fps[1]) } : {}), ...(lat ? { latency: Number(lat[1]) } : {}) };
      continue;
    }
    if (t === 'Summary') {
      inSummary = true;
      continue;
    }
    if (!inSummary) continue;
    if ((m = /^FPS\s+\(hw_only\)\s+= (\S+)/.exec(t))) setFig(f, 'fpsHwOnly', num(m[1]), 'fps');
    else if ((m = /^\(streaming\)\s+= (\S+)/.exec(t))) setFig(f, 'fpsStreaming', num(m[1]), 'fps');
    else if ((m = /^Latency\s+\(hw\)\s+= (\S+) ms/.exec(t))) setFig(f, 'hwLatencyMs', num(m[1]), 'ms');
    else if ((m = /^\(overall\)\s+= (\S+) ms/.exec(t))) setFig(f, 'overallLatencyMs', num(m[1]), 'ms');
    else if ((m = /^Power in streaming mode \(average\) = (\S+) W/.exec(t))) {
      setFig(f, 'powerAvgW', num(m[1]), 'W');
      powerSeen = true;
      lastPower = 'avg';
    } else if ((m = /^\(max\)\s+= (\S+) W/.exec(t)) && lastPower) {
      setFig(f, 'powerMaxW', num(m[1]), 'W');
      powerSeen = true;
    } else if ((m = /^(\S+): FPS: (\S+)$/.exec(t))) {
      // HailoRT 5.x: `resnet_v1_50: FPS: 307.48`
      f.format = '5.x';
      f.network = m[1]!;
      setFig(f, 'fpsStreaming', num(m[2]), 'fps');
    } else if ((m = /^temperature: mean=([\d.]+) min=([\d.]+) max=([\d.]+)/.exec(t))) {
      f.temperatureC = { mean: Number(m[1]), min: Number(m[2]), max: Number(m[3]) };
    }
  }
  f.complete = inSummary;
  if (f.format === 'unknown' && (f.phases.length || inSummary)) f.format = powerUnsupported ? '5.x' : '4.x';
  if (powerUnsupported) f.format = '5.x';
  // figures from the progress lines where the summary never came (failure, cancel)
  const fromProgress = (name: FigureName, value: number | undefined, unit: string) => {
    if (!isMeasured(f[name]) && value !== undefined && value > 0) f[name] = { value, unit, source: 'progress' };
  };
  if (!inSummary) {
    fromProgress('fpsHwOnly', progress.hw_only?.fps, 'fps');
    fromProgress('fpsStreaming', progress.streaming?.fps, 'fps');
    fromProgress('hwLatencyMs', progress.latency?.latency, 'ms');
  }
  const failed = exitCode !== undefined && exitCode !== 0;
  const stopped = (what: string) =>
    `${failed ? `the benchmark failed (exit ${exitCode}${f.status ? `, ${f.status}` : ''})` : 'the benchmark stopped'} before ${what}`;
  const refusal = latencyRefusal(f.warnings, f.errors);
  if (!isMeasured(f.fpsHwOnly))
    f.fpsHwOnly = notMeasured(
      f.format === '5.x'
        ? 'HailoRT 5.x benchmark prints one streaming FPS figure only'
        : f.phases.includes('hw_only')
          ? stopped('the HW-only FPS figure was printed')
          : stopped('the HW-only phase'),
    );
  if (!isMeasured(f.fpsStreaming))
    f.fpsStreaming = notMeasured(f.phases.includes('streaming') ? stopped('the streaming FPS figure was printed') : stopped('the streaming phase'));
  if (!isMeasured(f.hwLatencyMs)) {
    f.hwLatencyMs = notMeasured(
      refusal ??
        (f.format === '5.x'
          ? 'HailoRT 5.x benchmark has no latency phase'
          : inSummary
            ? 'the benchmark summary has no HW latency (HailoRT refuses it for multi-input and on-chip-NMS networks)'
            : f.phases.includes('latency')
              ? stopped('the HW latency was printed')
              : stopped('the latency phase')),
    );
  }
  if (!isMeasured(f.overallLatencyMs))
    f.overallLatencyMs = notMeasured('benchmark does not measure overall latency (hailortcli run --measure-latency --measure-overall-latency does)');
  const noPower = powerUnsupported
    ? 'HailoRT: power measurement is not supported on this device'
    : inSummary
      ? 'no power sensor on this board (the Raspberry Pi AI Kit and AI HAT+ have none)'
      : stopped('the power figures were printed');
  if (!isMeasured(f.powerAvgW)) f.powerAvgW = notMeasured(powerSeen ? 'not printed' : noPower);
  if (!isMeasured(f.powerMaxW)) f.powerMaxW = notMeasured(powerSeen ? 'not printed' : noPower);
  return f;
}

function setFig(f: HailortFigures, name: FigureName, value: number | undefined, unit: string, source: 'summary' | 'result' | 'csv' | 'json' = 'summary'): void {
  if (value === undefined) return;
  // a zero FPS/latency/power is what a tool prints when it did not measure; never show it as a number
  if (value <= 0) {
    f[name] = notMeasured(`reported as ${value} (not measured)`);
    return;
  }
  f[name] = { value, unit, source };
}

export function parseRun(text: string, exitCode?: number): HailortFigures {
  const lines = consoleLines(text);
  const f = emptyFigures('run');
  const msg = messages(lines);
  f.errors = msg.errors;
  f.warnings = msg.warnings;
  if (msg.status) f.status = msg.status;
  let mode: 'streaming' | 'hw_only' = 'streaming';
  let inResult = false;
  let lastProgress: { fps?: number; latency?: number } | undefined;
  let latencyRequested = false;
  let minPower: number | undefined;
  let temps: { min?: number; avg?: number; max?: number } = {};
  for (const l of lines) {
    const t = l.trim();
    let m: RegExpExecArray | null;
    if ((m = /^Running (\S+) inference/.exec(t))) mode = /hw/i.test(m[1]!) ? 'hw_only' : 'streaming';
    else if ((m = PROGRESS.exec(t)) && !inResult) {
      f.network = m[1]!;
      const fps = /FPS: ([\d.]+)/.exec(m[4]!);
      const lat = /HW Latency: ([\d.]+|NaN) ms/.exec(m[4]!);
      if (lat) latencyRequested = true;
      lastProgress = { ...(fps ? { fps: Number(fps[1]) } : {}), ...(lat && lat[1] !== 'NaN' ? { latency: Number(lat[1]) } : {}) };
    } else if (t === '> Inference result:') inResult = true;
    else if (inResult) {
      if ((m = /^Network group: (\S+)/.exec(t))) f.network ??= m[1]!;
      else if ((m = /^Frames count: (\d+)/.exec(t))) f.frames = Number(m[1]);
      else if ((m = /^FPS: (\S+)/.exec(t))) setFig(f, mode === 'hw_only' ? 'fpsHwOnly' : 'fpsStreaming', num(m[1]), 'fps', 'result');
      else if ((m = /^Send Rate: (\S+) Mbit\/s/.exec(t))) f.sendRateMbps = num(m[1]);
      else if ((m = /^Recv Rate: (\S+) Mbit\/s/.exec(t))) f.recvRateMbps = num(m[1]);
      else if ((m = /^HW Latency: (\S+) ms/.exec(t))) {
        latencyRequested = true;
        setFig(f, 'hwLatencyMs', num(m[1]), 'ms', 'result');
      } else if ((m = /^Overall Latency: (\S+) ms/.exec(t))) setFig(f, 'overallLatencyMs', num(m[1]), 'ms', 'result');
      else if ((m = /^Minimum power consumption: (\S+) W/.exec(t))) minPower = num(m[1]);
      else if ((m = /^Average power consumption: (\S+) W/.exec(t))) setFig(f, 'powerAvgW', num(m[1]), 'W', 'result');
      else if ((m = /^Maximum power consumption: (\S+) W/.exec(t))) setFig(f, 'powerMaxW', num(m[1]), 'W', 'result');
      else if ((m = /^(Minimum|Average|Maximum) chip temperature: (\S+?) ?C$/.exec(t))) {
        const v = num(m[2]);
        if (v !== undefined) temps = { ...temps, [m[1] === 'Minimum' ? 'min' : m[1] === 'Average' ? 'avg' : 'max']: v };
      }
    }
  }
  void minPower;
  if (temps.min !== undefined && temps.max !== undefined)
    f.temperatureC = { min: temps.min, max: temps.max, ...(temps.avg !== undefined ? { avg: temps.avg } : {}) };
  f.complete = inResult;
  f.format = lines.some((l) => /^\[HailoRT CLI\]/.test(l.trim())) ? '5.x' : inResult || lastProgress ? '4.x' : 'unknown';
  const fpsName = mode === 'hw_only' ? 'fpsHwOnly' : 'fpsStreaming';
  if (!inResult && lastProgress?.fps && lastProgress.fps > 0) f[fpsName] = { value: lastProgress.fps, unit: 'fps', source: 'progress' };
  if (!inResult && lastProgress?.latency && lastProgress.latency > 0) f.hwLatencyMs = { value: lastProgress.latency, unit: 'ms', source: 'progress' };
  const failed = exitCode !== undefined && exitCode !== 0;
  const why =
    failed || f.errors.length
      ? `run failed${exitCode ? ` (exit ${exitCode}${f.status ? `, ${f.status}` : ''})` : ''}${f.errors[0] ? `: ${f.errors[0].text}` : ''}`
      : undefined;
  const refusal = latencyRefusal(f.warnings, f.errors);
  if (!isMeasured(f.fpsHwOnly))
    f.fpsHwOnly = notMeasured(why ?? (mode === 'streaming' ? 'run measures streaming FPS (-m hw_only measures this one)' : 'not printed'));
  if (!isMeasured(f.fpsStreaming)) f.fpsStreaming = notMeasured(why ?? (mode === 'hw_only' ? 'run -m hw_only measures HW-only FPS' : 'not printed'));
  if (!isMeasured(f.hwLatencyMs)) f.hwLatencyMs = notMeasured(refusal ?? why ?? (latencyRequested ? 'not printed' : 'not requested (run --measure-latency)'));
  if (!isMeasured(f.overallLatencyMs)) f.overallLatencyMs = notMeasured(why ?? 'not requested (run --measure-latency --measure-overall-latency)');
  if (!isMeasured(f.powerAvgW)) f.powerAvgW = notMeasured(why ?? 'not requested (run --measure-power), or no power sensor on this board');
  if (!isMeasured(f.powerMaxW)) f.powerMaxW = notMeasured(why ?? 'not requested (run --measure-power), or no power sensor on this board');
  return f;
}

/**
 * `hailortcli run2 ... set-net <hef>`: the last redraw of the live line per network group,
 * `<net>: fps: <x>`, with ` | hw latency: <x> ms` and ` | overall latency: <x> ms` when measured
 * (HailoRT `run2/network_live_track.cpp`; with `--measure-latency` run2 sends one frame at a time
 * and prints no fps).
 */
export function parseRun2(text: string, exitCode?: number): HailortFigures {
  const lines = consoleLines(text);
  const f = emptyFigures('run2');
  const msg = messages(lines);
  f.errors = msg.errors;
  f.warnings = msg.warnings;
  if (msg.status) f.status = msg.status;
  let fpsSeen = false;
  let latencySeen = false;
  for (const l of lines) {
    const m = /^(\S+):\s+((?:fps|hw latency|overall latency): .*)$/.exec(l.trim());
    if (!m) continue;
    f.network = m[1]!;
    f.complete = true;
    f.format = '5.x';
    for (const part of m[2]!.split(' | ')) {
      let p: RegExpExecArray | null;
      if ((p = /^fps: (\S+)$/.exec(part))) {
        fpsSeen = true;
        setFig(f, 'fpsStreaming', num(p[1]), 'fps', 'result');
      } else if ((p = /^hw latency: (\S+) ms$/.exec(part))) {
        latencySeen = true;
        setFig(f, 'hwLatencyMs', num(p[1]), 'ms', 'result');
      } else if ((p = /^overall latency: (\S+) ms$/.exec(part))) {
        latencySeen = true;
        setFig(f, 'overallLatencyMs', num(p[1]), 'ms', 'result');
      } else if (/latency: NaN \(err\)$/.test(part)) latencySeen = true;
    }
  }
  const why = exitCode ? `run2 failed (exit ${exitCode})` : undefined;
  if (!isMeasured(f.fpsStreaming))
    f.fpsStreaming = notMeasured(
      why ?? (latencySeen && !fpsSeen ? 'run2 measures no FPS while it measures latency (it sends one frame at a time)' : 'not printed'),
    );
  f.fpsHwOnly = notMeasured('run2 prints one FPS figure per network');
  if (!isMeasured(f.hwLatencyMs))
    f.hwLatencyMs = notMeasured(why ?? (latencySeen ? 'run2 printed no HW latency (NaN or not reported)' : 'not requested (run2 --measure-latency)'));
  if (!isMeasured(f.overallLatencyMs))
    f.overallLatencyMs = notMeasured(why ?? (latencySeen ? 'run2 printed no overall latency' : 'not requested (run2 --measure-overall-latency)'));
  f.powerAvgW = notMeasured('run2 prints power only with --measure-power');
  f.powerMaxW = notMeasured('run2 prints power only with --measure-power');
  return f;
}

// ---------------------------------------------------------------- run2 -j (JSON statistics)

/**
 * `hailortcli run2 -j <file>.json` ("If set save statistics as json to the specified path"), as
 * written by HailoRT's `LiveStats::dump_stats` (hailort/hailortcli/run2/live_stats.cpp, the same in
 * 4.x and 5.0): an nlohmann::ordered_json with `time` (ctime text), `inference_mode`,
 * `network_groups` (one object per `set-net`: `name`, `full_hef_path`, `FPS` as a string from
 * std::to_string, `hw_latency` and `overall_latency` as numbers in ms, each only when measured),
 * `time_to_run` (`"<n>.00 seconds"`, newer releases) and `devices` (only when power, current or
 * temperature was measured: `device_id` and `power`/`current`/`temperature` objects of
 * `min`/`max`/`average` strings `"<value> <unit>"`, units W, mA, C).
 */
const Run2Measurement = z.object({ min: z.string(), max: z.string(), average: z.string() });
export const Run2Json = z.object({
  time: z.string().optional(),
  inference_mode: z.string().optional(),
  network_groups: z.array(
    z
      .object({
        name: z.string(),
        full_hef_path: z.string().optional(),
        FPS: z.string().optional(),
        hw_latency: z.number().nullable().optional(),
        overall_latency: z.number().nullable().optional(),
      })
      .passthrough(),
  ),
  time_to_run: z.string().optional(),
  devices: z
    .array(
      z
        .object({ device_id: z.string(), power: Run2Measurement.optional(), current: Run2Measurement.optional(), temperature: Run2Measurement.optional() })
        .passthrough(),
    )
    .optional(),
});
export type Run2Json = z.infer<typeof Run2Json>;

/** `"3.456000 W"` -> 3.456 when the unit is the expected one. */
function measurementValue(s: string | undefined, unit: string): number | undefined {
  const m = /^(\S+) (\S+)$/.exec((s ?? '').trim());
  return m && m[2] === unit ? num(m[1]) : undefined;
}

/**
 * Figures from a `run2 -j` JSON file (the first network group, or the one named). Throws a
 * HailortJsonError naming the problem when the text is not that JSON.
 */
export function parseRun2Json(text: string, network?: string): HailortFigures & { inferenceMode?: string; timeToRun?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new HailortJsonError(`not JSON (${(e as Error).message})`);
  }
  const parsed = Run2Json.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new HailortJsonError(`not a run2 statistics file: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  const j = parsed.data;
  const f: HailortFigures & { inferenceMode?: string; timeToRun?: string } = { ...emptyFigures('run2'), format: 'unknown' };
  if (j.inference_mode) f.inferenceMode = j.inference_mode;
  if (j.time_to_run) f.timeToRun = j.time_to_run;
  const g = j.network_groups.find((n) => n.name === network) ?? j.network_groups[0];
  if (!g) {
    const none = notMeasured('the run2 JSON lists no network group');
    return { ...f, fpsStreaming: none, fpsHwOnly: none, hwLatencyMs: none, overallLatencyMs: none, powerAvgW: none, powerMaxW: none };
  }
  f.network = g.name;
  f.complete = true;
  if (g.FPS !== undefined) {
    const v = num(g.FPS);
    if (v === undefined) f.fpsStreaming = notMeasured(`run2 JSON FPS is "${g.FPS}"`);
    else setFig(f, 'fpsStreaming', v, 'fps', 'json');
  }
  if (typeof g.hw_latency === 'number') setFig(f, 'hwLatencyMs', g.hw_latency, 'ms', 'json');
  if (typeof g.overall_latency === 'number') setFig(f, 'overallLatencyMs', g.overall_latency, 'ms', 'json');
  const dev = j.devices?.[0];
  if (dev?.power) {
    setFig(f, 'powerAvgW', measurementValue(dev.power.average, 'W'), 'W', 'json');
    setFig(f, 'powerMaxW', measurementValue(dev.power.max, 'W'), 'W', 'json');
  }
  if (dev?.temperature) {
    const min = measurementValue(dev.temperature.min, 'C');
    const max = measurementValue(dev.temperature.max, 'C');
    const avg = measurementValue(dev.temperature.average, 'C');
    if (min !== undefined && max !== undefined) f.temperatureC = { min, max, ...(avg !== undefined ? { avg } : {}) };
  }
  const latencyAsked = 'hw_latency' in g || 'overall_latency' in g;
  if (!isMeasured(f.fpsStreaming) && g.FPS === undefined)
    f.fpsStreaming = notMeasured(latencyAsked ? 'run2 measures no FPS while it measures latency (it sends one frame at a time)' : 'no FPS in the run2 JSON');
  f.fpsHwOnly = notMeasured('run2 measures one FPS figure per network group');
  if (!isMeasured(f.hwLatencyMs))
    f.hwLatencyMs = notMeasured(
      g.hw_latency === null ? 'run2 JSON hw_latency is null (not a number)' : 'no hw_latency in the run2 JSON (not requested, or HailoRT reported none)',
    );
  if (!isMeasured(f.overallLatencyMs))
    f.overallLatencyMs = notMeasured(
      g.overall_latency === null ? 'run2 JSON overall_latency is null (not a number)' : 'no overall_latency in the run2 JSON (not requested)',
    );
  const noPower = dev
    ? 'the run2 JSON has no power block (not requested, or no power sensor)'
    : 'not requested (run2 --measure-power), or no power sensor on this board';
  if (!isMeasured(f.powerAvgW)) f.powerAvgW = notMeasured(noPower);
  if (!isMeasured(f.powerMaxW)) f.powerMaxW = notMeasured(noPower);
  return f;
}

export class HailortJsonError extends Error {}

/** JSON figures over text figures where the JSON measured them (full precision). */
export function mergeRun2Json(text: HailortFigures, json: HailortFigures): HailortFigures {
  const out: HailortFigures = { ...text, network: text.network ?? json.network ?? '' };
  if (!out.network) delete out.network;
  for (const k of ['fpsHwOnly', 'fpsStreaming', 'hwLatencyMs', 'overallLatencyMs', 'powerAvgW', 'powerMaxW'] as FigureName[]) {
    if (isMeasured(json[k]) || !isMeasured(text[k])) out[k] = json[k];
  }
  if (json.temperatureC) out.temperatureC = json.temperatureC;
  out.complete = text.complete || json.complete;
  return out;
}

// ---------------------------------------------------------------- CSV (`--csv <file>`)

/** One row of `benchmark --csv` or `run --csv`, read by its header (column order is not assumed). */
export function parseFiguresCsv(text: string): { network: string; figures: Partial<Record<FigureName, Figure>>; frames?: number; status?: string }[] {
  const rows = text
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (rows.length < 2) return [];
  const head = rows[0]!.split(',').map((h) => h.trim());
  const col = (r: string[], name: string) => {
    const i = head.indexOf(name);
    return i >= 0 ? r[i] : undefined;
  };
  const fig = (v: string | undefined, unit: string, what: string): Figure => {
    const n = num(v);
    if (n === undefined) return notMeasured(`${what}: empty in the CSV`);
    if (n <= 0) return notMeasured(`${what}: ${v} in the CSV (not measured)`);
    return { value: n, unit, source: 'csv' };
  };
  const benchmark = head.includes('hw_only_fps');
  return rows.slice(1).map((line) => {
    const r = line.split(',');
    const figures: Partial<Record<FigureName, Figure>> = {
      fpsStreaming: fig(col(r, 'fps'), 'fps', 'fps'),
      hwLatencyMs: fig(col(r, 'hw_latency'), 'ms', 'hw_latency'),
      overallLatencyMs: fig(col(r, 'overall_latency'), 'ms', 'overall_latency'),
      powerAvgW: fig(col(r, 'average_power'), 'W', 'average_power'),
      powerMaxW: fig(col(r, 'max_power'), 'W', 'max_power'),
    };
    if (benchmark) figures.fpsHwOnly = fig(col(r, 'hw_only_fps'), 'fps', 'hw_only_fps');
    const frames = num(col(r, 'num_of_frames'));
    const status = col(r, 'status');
    return { network: col(r, 'net_name') ?? '', figures, ...(frames !== undefined ? { frames } : {}), ...(status ? { status } : {}) };
  });
}

/** CSV figures over text figures where the CSV measured them (it has full precision). */
export function mergeCsv(f: HailortFigures, csv: ReturnType<typeof parseFiguresCsv>): HailortFigures {
  const row = csv.find((r) => !f.network || r.network === f.network || f.network.endsWith(`/${r.network}`) || r.network.endsWith(`/${f.network}`)) ?? csv[0];
  if (!row) return f;
  const out = { ...f };
  for (const [k, v] of Object.entries(row.figures) as [FigureName, Figure][]) if (isMeasured(v)) out[k] = v;
  return out;
}

// ---------------------------------------------------------------- any output

export type HailortOutput =
  | { kind: 'scan'; devices: ScannedDevice[]; notFound: boolean }
  | { kind: 'identify'; devices: IdentifiedDevice[] }
  | { kind: 'parse-hef'; hef: HefInfo }
  | { kind: 'run' | 'run2' | 'benchmark'; figures: HailortFigures }
  | { kind: 'version'; hailortCli?: string; libhailort?: string; problems: string[] };

/** Which `hailortcli` command printed this text, or undefined when it is not hailortcli output. */
export function detectHailortOutput(text: string): HailortOutput['kind'] | undefined {
  const lines = consoleLines(text).map((l) => l.trim());
  const has = (re: RegExp) => lines.some((l) => re.test(l));
  if (
    has(/^Measuring FPS in HW-only mode|^Measuring HW Latency|^Starting Measurements\.\.\.$/) ||
    (has(/^Summary$/) && has(/^FPS\s+\(hw_only\)|^\S+: FPS: [\d.]+$|^Measurement power is not supported/))
  )
    return 'benchmark';
  if (has(/^Running \S+ inference|^> Inference result:$/)) return 'run';
  if (has(/^\S+:\s+(fps: [\d.]+|hw latency: [\d.]+ ms|overall latency: [\d.]+ ms)( \||$)/)) return 'run2';
  if (has(/^Architecture HEF was compiled for: |^HEF Compatible for: /)) return 'parse-hef';
  if (has(/^Identifying board$|^Device Architecture: |^Firmware Version: /)) return 'identify';
  if (has(/^Hailo (Ethernet )?Devices:$|^Hailo devices not found/)) return 'scan';
  if (has(/^HailoRT-CLI version /)) return 'version';
  return undefined;
}

/** Parse any `hailortcli` output (the command found by `detectHailortOutput`). */
export function parseHailortOutput(text: string, exitCode?: number): HailortOutput | undefined {
  const kind = detectHailortOutput(text);
  switch (kind) {
    case 'scan':
      return { kind, devices: parseScan(text), notFound: /Hailo devices not found/.test(text) };
    case 'identify':
      return { kind, devices: parseIdentify(text) };
    case 'parse-hef':
      return { kind, hef: parseParseHef(text) };
    case 'benchmark':
      return { kind, figures: parseBenchmark(text, exitCode) };
    case 'run':
      return { kind, figures: parseRun(text, exitCode) };
    case 'run2':
      return { kind, figures: parseRun2(text, exitCode) };
    case 'version': {
      const v = parseToolVersions(text);
      return { kind, ...(v.hailortCli ? { hailortCli: v.hailortCli } : {}), ...(v.libhailort ? { libhailort: v.libhailort } : {}), problems: v.problems };
    }
    default:
      return undefined;
  }
}

/** Figures as text: `6.66137 ms` or `not measured (reason)`. */
export function formatFigure(f: Figure | undefined, digits = 2): string {
  if (!f) return 'not measured';
  return isMeasured(f) ? `${Number(f.value.toFixed(digits))} ${f.unit}` : `not measured (${f.notMeasured})`;
}

// ---------------------------------------------------------------- console sessions

/**
 * A console capture may hold several commands (`$ hailortcli parse-hef x.hef` then
 * `$ hailortcli benchmark x.hef`): split it at the prompt lines that start a hailortcli (or
 * `hailo` wrapper) command, and parse each part. Without prompt lines the whole text is one part.
 */
export function parseHailortSession(text: string): { command?: string; line: number; output: HailortOutput }[] {
  const lines = text.split('\n');
  const starts: { line: number; command: string }[] = [];
  lines.forEach((l, i) => {
    const m = /^(?:\S*[$#]|\$)\s+(?:sudo\s+)?((?:hailortcli|hailo)\s+\S.*?)\s*$/.exec(stripAnsi(l));
    if (m) starts.push({ line: i, command: m[1]! });
  });
  if (!starts.length) {
    const out = parseHailortOutput(text);
    return out ? [{ line: 1, output: out }] : [];
  }
  const parts: { command?: string; line: number; output: HailortOutput }[] = [];
  if (starts[0]!.line > 0) {
    const out = parseHailortOutput(lines.slice(0, starts[0]!.line).join('\n'));
    if (out) parts.push({ line: 1, output: out });
  }
  starts.forEach((s, i) => {
    const body = lines.slice(s.line + 1, i + 1 < starts.length ? starts[i + 1]!.line : lines.length).join('\n');
    const out = parseHailortOutput(body);
    if (out) parts.push({ command: s.command, line: s.line + 2, output: out });
  });
  return parts;
}

/** A hailortcli output as text for the terminal. */
export function formatHailortOutput(o: HailortOutput): string {
  switch (o.kind) {
    case 'scan':
      return o.notFound || !o.devices.length
        ? 'scan: no Hailo device found'
        : `scan: ${o.devices.map((d) => `${d.kind === 'pcie' ? 'PCIe' : 'Ethernet'} ${d.id}`).join(', ')}`;
    case 'identify':
      return (
        o.devices
          .map(
            (d) =>
              `identify: ${[d.deviceId, d.boardName, d.architecture, d.firmwareVersion ? `firmware ${d.firmwareVersion}` : undefined, d.serialNumber ? `serial ${d.serialNumber}` : undefined].filter(Boolean).join(', ')}`,
          )
          .join('\n') || 'identify: no device block'
      );
    case 'version':
      return `version: HailoRT-CLI ${o.hailortCli ?? '?'}${o.libhailort ? `, libhailort ${o.libhailort}` : ''}${o.problems.map((p) => `\n  problem: ${p}`).join('')}`;
    case 'parse-hef': {
      const h = o.hef;
      const lines = [
        `parse-hef: ${h.compatible.join(', ') || 'no architecture'}${h.format ? ` (HailoRT ${h.format} header)` : ''}, ${h.contexts ?? 0} context(s), ${h.inputs} input(s), ${h.outputs} output(s)${h.nms ? ', NMS on chip' : ''}`,
      ];
      for (const g of h.groups) {
        lines.push(`  ${g.name}: ${g.multiContext ? `multi-context, ${g.contexts} contexts` : 'single context'}`);
        for (const n of g.networks)
          for (const s of n.streams) lines.push(`    ${s.direction === 'input' ? 'in ' : 'out'} ${s.name} ${s.type} ${s.order}(${s.detail})`);
      }
      for (const e of h.errors) lines.push(`  error: ${e.text}`);
      return lines.join('\n');
    }
    default: {
      const f = o.figures;
      const lines = [`${o.kind}${f.network ? ` ${f.network}` : ''} (HailoRT ${f.format})${f.complete ? '' : ' — INCOMPLETE'}`];
      const label: Record<FigureName, string> = {
        fpsHwOnly: 'FPS (hw_only)',
        fpsStreaming: 'FPS (streaming)',
        hwLatencyMs: 'HW latency',
        overallLatencyMs: 'overall latency',
        powerAvgW: 'power (average)',
        powerMaxW: 'power (max)',
      };
      for (const k of Object.keys(label) as FigureName[]) lines.push(`  ${label[k].padEnd(16)} ${formatFigure(f[k], 6)}`);
      if (f.temperatureC) lines.push(`  temperature      min ${f.temperatureC.min} °C, max ${f.temperatureC.max} °C`);
      for (const e of f.errors) lines.push(`  error (line ${e.line}): ${e.text}`);
      return lines.join('\n');
    }
  }
}

/** Did this output report a failure? */
export function hailortFailed(o: HailortOutput): boolean {
  if (o.kind === 'scan') return o.notFound || o.devices.length === 0;
  if (o.kind === 'parse-hef') return !o.hef.architecture || o.hef.errors.length > 0;
  if (o.kind === 'identify') return o.devices.every((d) => !d.architecture);
  if (o.kind === 'version') return o.problems.length > 0;
  return o.figures.errors.length > 0 || !o.figures.complete;
}
