/**
 * Seeded randomness for the fleet simulator. Every village draws from its own stream, derived
 * from the run's seed and its code, so what one village does never depends on how many others
 * run beside it or on the order the engine visits them.
 */
export type Random = () => number;

/** 32-bit FNV-1a of a string: turns "seed:code" into a stream's starting state. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for scheduling faults and picking services. */
export function seeded(seed: string): Random {
  let a = hash32(seed);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waiting time of a Poisson process with the given mean (same unit out as in). */
export function exponential(r: Random, mean: number): number {
  return -Math.log(1 - r()) * mean;
}

/** A duration whose median is `median`, with a long tail (spread ~ sigma of ln), clamped. */
export function logNormal(r: Random, median: number, sigma: number, min: number, max: number): number {
  // Box-Muller; 1 - r() keeps the log argument above zero.
  const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Math.min(max, Math.max(min, median * Math.exp(sigma * z)));
}

/** How many events of a Poisson process with mean `lambda` (Knuth; lambda stays small here). */
export function poisson(r: Random, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * (r() + r() + r() - 1.5) * 2));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = r();
  while (p > limit) {
    k++;
    p *= r();
  }
  return k;
}

export function between(r: Random, lo: number, hi: number): number {
  return lo + r() * (hi - lo);
}

export function pick<T>(r: Random, items: readonly T[]): T {
  const x = items[Math.floor(r() * items.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}
