// A small seeded pseudo-random generator (sfc32, seeded through splitmix32) so that the core and
// the simulator draw the same numbers for the same seed. Not for cryptography.

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the 128-bit state, so seeds 1 and 2 diverge.
    let state = seed >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [low, highExclusive). */
  nextInt(low: number, highExclusive: number): number {
    if (highExclusive <= low) return low;
    return low + Math.floor(this.nextFloat() * (highExclusive - low));
  }

  /** True with the given probability. */
  chance(probability: number): boolean {
    return probability > 0 && this.nextFloat() < probability;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.nextInt(0, items.length)];
  }

  /** A new generator whose stream depends only on this one's current state. */
  fork(): Random {
    return new Random(this.nextUint32());
  }
}
