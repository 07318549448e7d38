/**
 * Keeps the full reference and backend outputs of recent results so the heatmap can zoom into any
 * region at full resolution. Bounded by bytes: the oldest results are dropped first (their
 * results stay; only zooming below the stored preview becomes unavailable).
 */
export interface StoredOutputs {
  ref: Float64Array;
  got: Float32Array;
  m: number;
  n: number;
  /** n bytes, 1 = an output feature the verdict left out (non-finite block scales); absent: none */
  skipCols?: Uint8Array | null;
  /**
   * m bytes, 1 = a row the verdict left out: a weight map's rows are weight rows, and those with a
   * non-finite block scale feed the outputs left out; absent: none
   */
  skipRows?: Uint8Array | null;
}

const sizeOf = (o: StoredOutputs) =>
  o.ref.byteLength + o.got.byteLength + (o.skipCols?.byteLength ?? 0) + (o.skipRows?.byteLength ?? 0);

export class OutputStore {
  private readonly items = new Map<string, StoredOutputs>();
  private bytes = 0;

  constructor(private readonly capBytes = 512 * 1024 * 1024) {}

  put(id: string, out: StoredOutputs): boolean {
    const size = sizeOf(out);
    if (size > this.capBytes) return false;
    this.delete(id);
    while (this.bytes + size > this.capBytes && this.items.size > 0) {
      const oldest = this.items.keys().next().value as string;
      this.delete(oldest);
    }
    this.items.set(id, out);
    this.bytes += size;
    return true;
  }

  get(id: string): StoredOutputs | undefined {
    const v = this.items.get(id);
    if (v) {
      // refresh recency
      this.items.delete(id);
      this.items.set(id, v);
    }
    return v;
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  delete(id: string): void {
    const v = this.items.get(id);
    if (!v) return;
    this.bytes -= sizeOf(v);
    this.items.delete(id);
  }

  get totalBytes(): number {
    return this.bytes;
  }
}
