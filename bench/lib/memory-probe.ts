/**
 * Preloaded (--import) into a benchmark's object manager, which is started with
 * --expose-gc: on SIGUSR2 it collects garbage and prints its memory on stdout as one line
 * `ntipc-bench-memory {"rss":…,"heapUsed":…}`. Nothing in src/ knows of it.
 */
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`ntipc-bench-memory ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, gc: gc !== undefined })}\n`);
});
