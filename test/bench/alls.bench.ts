/**
 * Model script checking as you type: the whole script is parsed and validated again on each edit,
 * so the cost per run on a large script is what the user feels. Input: the largest real script of
 * the reference samples (a generated compiler script of ~1 500 lines), else a generated one of the
 * same size. Measured: parse + validate without a HAR, with a 2 000-layer HN catalog, and a
 * completion request in the middle of the file. Baseline, same text, same run: the least a line
 * tool does, split into lines and match each line against one "name(...)" regular expression.
 * Medians of alternated repetitions; prints ms and multiples of the baseline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { complete } from '../../src/core/hailo/alls/language';
import { LayerIndex, layerCatalogFromGraph } from '../../src/core/hailo/alls/layers';
import { parseScript } from '../../src/core/hailo/alls/parser';
import { validateScript } from '../../src/core/hailo/alls/validate';
import type { GraphModel } from '../../src/core/graph/model';
import { REFERENCE_DIR } from '../reference';

const SAMPLES = path.join(REFERENCE_DIR, 'hailo', 'alls-samples');
const REPS = Number(process.env.BENCH_REPS ?? 15);

function allsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? allsFiles(p) : p.endsWith('.alls') ? [p] : [];
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const LINE = /^\s*(?:[\w\-/, ]+=\s*)?[A-Za-z_][\w.]*\s*\(.*\)\s*$/;
function baseline(text: string): number {
  let ok = 0;
  for (const l of text.split('\n')) if (LINE.test(l)) ok++;
  return ok;
}

function main(): void {
  const files = allsFiles(SAMPLES).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  let text: string;
  let source: string;
  if (files[0]) {
    text = fs.readFileSync(files[0], 'utf8');
    source = path.relative(SAMPLES, files[0]);
  } else {
    text = Array.from(
      { length: 1500 },
      (_, i) => `compilation_param(conv${i}, balance_output_multisplit=enabled, buffer_in_l4=False, mixed_mem=disabled, number_of_subclusters=${i % 8})`,
    ).join('\n');
    source = `generated (reference samples not found at ${SAMPLES})`;
  }
  const graph: GraphModel = {
    kind: 'hn',
    name: 'net',
    inputs: [],
    outputs: [],
    values: {},
    nodes: Array.from({ length: 2000 }, (_, i) => ({
      id: `net/${['conv', 'ew_add', 'matmul', 'normalization'][i % 4]}${i + 1}`,
      op: 'conv',
      scope: '',
      inputs: [],
      outputs: [],
      attrs: {},
      originalNames: [`/layers.${i}/Op`],
    })),
  };
  const catalog = layerCatalogFromGraph(graph);
  const index = new LayerIndex(catalog);
  const mid = text.indexOf('(', Math.floor(text.length / 2)) + 1;

  const b: number[] = [];
  const plain: number[] = [];
  const withHn: number[] = [];
  const comp: number[] = [];
  // warm-up
  baseline(text);
  validateScript(parseScript(text));
  for (let r = 0; r < REPS; r++) {
    b.push(time(() => baseline(text)));
    plain.push(time(() => validateScript(parseScript(text))));
    withHn.push(time(() => validateScript(parseScript(text), { catalog, index })));
    comp.push(time(() => complete(parseScript(text), mid, { catalog, index })));
  }
  const mb = median(b);
  const lines = text.split('\n').length;
  console.log(`input: ${source}, ${lines} lines, ${(text.length / 1024).toFixed(0)} KiB; ${REPS} repetitions, medians`);
  const row = (name: string, xs: number[]) =>
    console.log(`${name.padEnd(38)} ${median(xs).toFixed(2).padStart(8)} ms  ${(median(xs) / mb).toFixed(1).padStart(6)}x baseline`);
  row('baseline: split + one regex per line', b);
  row('parse + validate (no HAR)', plain);
  row('parse + validate (2 000-layer HN)', withHn);
  row('parse + completion at mid-file', comp);
}

main();
