/**
 * The rewrite ledger of a whisper-small-sized pair: the ONNX encoder written by the ONNX fixture
 * generator (12 blocks, 768 wide, 3000 mel frames -> 1500 steps, opset 13 so LayerNorm is nine
 * nodes) and a matching synthetic HN inside a HAR. Prints the time to read both files (the
 * baseline, measured in the same run) next to the ledger's time, and their ratio. Budget: the
 * ledger within 200 ms.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openOnnx } from '../../src/core/onnx';
import { unlinkedChain } from '../fixtures/hailo/chain';
import { readHar } from '../../src/core/hailo/har';
import { parseHn } from '../../src/core/hailo/hn';
import { computeLedger } from '../../src/core/analysis/ledger';
import { ledgerFindings } from '../../src/core/analysis/ledgerFindings';
import { writeWhisper, WHISPER_SIZES } from '../fixtures/onnx/gen';
import { synthesizeHn } from '../fixtures/hailo/synth';
import { makeTar } from '../fixtures/hailo/tarball';

const BUDGET_MS = 200;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-bench-'));
  try {
    const onnxFile = path.join(dir, 'whisper-small-op13.onnx');
    const gen = writeWhisper(onnxFile, { ...WHISPER_SIZES.small, opset: 13, frames: 3000 });
    const first = await openOnnx(onnxFile);
    const s = synthesizeHn(first.graph, { net: 'whisper_small_encoder' });
    const hnText = JSON.stringify(s.hn);
    const harFile = path.join(dir, 'whisper_small_encoder.har');
    fs.writeFileSync(
      harFile,
      await makeTar([
        { name: 'whisper_small_encoder.hn', data: hnText },
        { name: 'whisper_small_encoder.npz', data: Buffer.alloc(1024) },
      ]),
    );

    const readOnnx: number[] = [];
    const readHailo: number[] = [];
    const ledgerMs: number[] = [];
    let onnxGraph = first.graph;
    let hnGraph = parseHn(hnText, harFile).graph;
    for (let i = 0; i < 5; i++) {
      globalThis.gc?.();
      let t = performance.now();
      onnxGraph = (await openOnnx(onnxFile)).graph;
      readOnnx.push(performance.now() - t);
      t = performance.now();
      const har = await readHar(harFile);
      hnGraph = parseHn(har.hn.text, harFile).graph;
      readHailo.push(performance.now() - t);
    }
    let ledger = computeLedger(onnxGraph, hnGraph, { stage: 'parse', parseLog: s.parseLog });
    for (let i = 0; i < 7; i++) {
      globalThis.gc?.();
      const t = performance.now();
      ledger = computeLedger(onnxGraph, hnGraph, { stage: 'parse', parseLog: s.parseLog });
      ledgerFindings(ledger);
      ledgerMs.push(performance.now() - t);
    }
    const ro = median(readOnnx);
    const rh = median(readHailo);
    const lm = median(ledgerMs);
    const both = ro + rh;
    const rows: [string, string][] = [
      ['ONNX', `${(gen.bytes / 1e6).toFixed(0)} MB, ${onnxGraph.nodes.length} nodes, ${(gen.params / 1e6).toFixed(1)} M params`],
      ['HAR', `${(fs.statSync(harFile).size / 1e3).toFixed(0)} KB, ${hnGraph.nodes.length} HN layers`],
      ['read ONNX (median of 5)', `${ro.toFixed(1)} ms`],
      ['read HAR + HN (median of 5)', `${rh.toFixed(1)} ms`],
      ['read both (baseline)', `${both.toFixed(1)} ms`],
      ['ledger + findings (median of 7)', `${lm.toFixed(1)} ms (budget ${BUDGET_MS} ms)`],
      ['ledger / read both', `${(lm / both).toFixed(2)}x`],
      [
        'entries',
        `${ledger.entries.length}: ${Object.entries(ledger.counts)
          .filter(([, n]) => n)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}`,
      ],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
    if (ledger.counts.unmatched || ledger.warnings.length) {
      console.log(`FAIL: ${ledger.counts.unmatched} unmatched, warnings: ${ledger.warnings.join('; ')}`);
      process.exitCode = 1;
    }
    if (lm > BUDGET_MS) {
      console.log(`FAIL: the ledger took ${lm.toFixed(1)} ms, above ${BUDGET_MS} ms`);
      process.exitCode = 1;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Hostile input: the structural fallback on long unlinked chains; flat time per layer = linear. */
function chains(): void {
  const perLayer = (n: number) => {
    const { onnx, hn } = unlinkedChain(n);
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      computeLedger(onnx, hn, { stage: 'parse' });
      runs.push(performance.now() - t0);
    }
    return median(runs) / n;
  };
  perLayer(1000); // warm-up
  const small = perLayer(2500);
  const large = perLayer(10_000);
  console.log(
    `unlinked HN chain: ${(small * 1000).toFixed(1)} µs per layer at 2,500, ${(large * 1000).toFixed(1)} µs at 10,000; ratio ${(large / small).toFixed(2)}x (1x = linear)`,
  );
}

void main().then(chains);
