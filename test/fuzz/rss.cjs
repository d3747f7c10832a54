// Preloaded into each fuzz case's CLI process: reports the peak resident memory on exit.
process.on('exit', () => {
  try {
    process.stderr.write(`\nFUZZ_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
  } catch {
    // stderr closed: nothing to report
  }
});
