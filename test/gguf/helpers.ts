/** Byte-level builder for handcrafted (often deliberately broken) GGUF files in tests. */
export class Raw {
  private parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u32(v: number): this {
    for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff);
    return this;
  }
  u64(v: bigint | number): this {
    let b = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 8; i++) {
      this.parts.push(Number(b & 0xffn));
      b >>= 8n;
    }
    return this;
  }
  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]);
    return this;
  }
  /** GGUF string: u64 length + UTF-8 bytes */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u64(b.length).bytes(b);
  }
  /** header start: magic, version, counts */
  header(tensorCount: bigint | number, kvCount: bigint | number, version = 3): this {
    return this.bytes([0x47, 0x47, 0x55, 0x46]).u32(version).u64(tensorCount).u64(kvCount);
  }
  /** metadata entry with a u32 value */
  kvU32(key: string, v: number): this {
    return this.str(key).u32(4).u32(v);
  }
  kvStr(key: string, v: string): this {
    return this.str(key).u32(8).str(v);
  }
  /** tensor info */
  tensor(name: string, dims: (number | bigint)[], type: number, offset: number | bigint): this {
    this.str(name).u32(dims.length);
    for (const d of dims) this.u64(d);
    return this.u32(type).u64(offset);
  }
  /** pad with zeros to a multiple of alignment */
  pad(alignment = 32): this {
    while (this.parts.length % alignment !== 0) this.parts.push(0);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.parts.push(0);
    return this;
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
