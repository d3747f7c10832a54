/** Levenshtein distance, stopping early once it exceeds `max` (returns max + 1 then). */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** How far a misspelling may be from the intended word to be suggested. */
export function typoBudget(word: string): number {
  return word.length <= 4 ? 1 : word.length <= 10 ? 2 : 3;
}

/**
 * The closest candidates to `word` (at most `limit`), nearest first; case-insensitive equality
 * counts as the nearest. Empty when nothing is plausibly meant.
 */
export function suggest(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const budget = typoBudget(word);
  const lower = word.toLowerCase();
  const scored: { c: string; d: number }[] = [];
  for (const c of candidates) {
    if (c === word) continue;
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase(), budget);
    if (d <= budget) scored.push({ c, d });
  }
  // ties: same length first, then (for numbered layers) the nearest number: conv16 -> conv15
  const num = (x: string) => Number(/(\d+)$/.exec(x)?.[1] ?? NaN);
  const n = num(word);
  const gap = (c: string) => (Number.isNaN(n) || Number.isNaN(num(c)) ? Infinity : Math.abs(num(c) - n));
  scored.sort((x, y) => x.d - y.d || Math.abs(x.c.length - word.length) - Math.abs(y.c.length - word.length) || gap(x.c) - gap(y.c) || x.c.localeCompare(y.c));
  // only the nearest ones: "matmull1" means matmul1, not matmul2 as well
  const best = scored[0]?.d;
  return scored
    .filter((s) => s.d === best)
    .slice(0, limit)
    .map((s) => s.c);
}

export function didYouMean(s: string[]): string {
  if (!s.length) return '';
  return ` Did you mean ${s.map((x) => `"${x}"`).join(' or ')}?`;
}
