// The one-process micro benchmarks' measure: MB/s of `size` bytes at the median of `runs` timed calls of `fn`.
export async function medianMBps(size, runs, fn) {
  const times = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return size / 1e6 / (times[Math.floor(times.length / 2)] / 1000);
}
