// Types for the `tdigest` package (it ships none); only what the bench uses.
declare module 'tdigest' {
  export class TDigest {
    constructor(delta?: number | false, K?: number, CX?: number);
    n: number;
    push(x: number | number[], n?: number): void;
    compress(): void;
    percentile(p: number | number[]): number;
    p_rank(x: number | number[]): number;
    toArray(everything?: boolean): { mean: number; n: number }[];
    size(): number;
  }
  export class Digest extends TDigest {
    constructor(config?: { mode?: 'auto' | 'cont' | 'disc'; delta?: number; K?: number; CX?: number; ratio?: number; thresh?: number });
  }
}
