/**
 * GGUF v3 encoder (pure: no node imports). Computes the layout (tensor offsets, each aligned), encodes the
 * header, and for small files the whole file in memory. The streaming writer (writer.ts) uses the same
 * header encoding, so both produce byte-identical files. Hand-written for the same reasons as parse.ts.
 */
import { typeInfo, typeName } from '../ggml-types';
import { DEFAULT_ALIGNMENT, GGUF_MAGIC, LIMITS, MAX_ALIGNMENT } from './parse';
import { GgufValueType, ggufValueTypeName, quote, type GgufArray, type GgufValue } from './types';

export type MetaInput = { key: string; type: number; value: GgufValue };
export interface TensorInput {
  name: string;
  type: number;
  dims: number[];
  data?: Uint8Array;
}

const V = GgufValueType;
/** Metadata entry builders: md.u32('general.alignment', 64), md.array('x', GgufValueType.STRING, ['a']) ... */
export const md = {
  u8: (key: string, value: number): MetaInput => ({ key, type: V.UINT8, value }),
  i8: (key: string, value: number): MetaInput => ({ key, type: V.INT8, value }),
  u16: (key: string, value: number): MetaInput => ({ key, type: V.UINT16, value }),
  i16: (key: string, value: number): MetaInput => ({ key, type: V.INT16, value }),
  u32: (key: string, value: number): MetaInput => ({ key, type: V.UINT32, value }),
  i32: (key: string, value: number): MetaInput => ({ key, type: V.INT32, value }),
  f32: (key: string, value: number): MetaInput => ({ key, type: V.FLOAT32, value }),
  bool: (key: string, value: boolean): MetaInput => ({ key, type: V.BOOL, value }),
  string: (key: string, value: string): MetaInput => ({ key, type: V.STRING, value }),
  u64: (key: string, value: bigint | number): MetaInput => ({ key, type: V.UINT64, value }),
  i64: (key: string, value: bigint | number): MetaInput => ({ key, type: V.INT64, value }),
  f64: (key: string, value: number): MetaInput => ({ key, type: V.FLOAT64, value }),
  array: (key: string, elementType: number, values: GgufValue[]): MetaInput => ({
    key,
    type: V.ARRAY,
    value: { elementType, values },
  }),
};

const utf8 = new TextEncoder();

class Sink {
  buf = new Uint8Array(4096);
  dv = new DataView(this.buf.buffer);
  len = 0;
  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.grow(1);
    this.buf[this.len++] = v;
  }
  u32(v: number): void {
    this.grow(4);
    this.dv.setUint32(this.len, v, true);
    this.len += 4;
  }
  u64(v: bigint | number): void {
    this.grow(8);
    this.dv.setBigUint64(this.len, BigInt(v), true);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  string(s: string): void {
    const b = utf8.encode(s);
    if (b.length > LIMITS.stringBytes)
      throw new Error(`string of ${b.length} bytes exceeds the GGUF reader limit`);
    this.u64(b.length);
    this.bytes(b);
  }
  pad(alignment: number): void {
    const target = Math.ceil(this.len / alignment) * alignment;
    this.grow(target - this.len);
    this.buf.fill(0, this.len, target);
    this.len = target;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function intIn(v: GgufValue, lo: number, hi: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}
function bigIn(v: GgufValue, lo: bigint, hi: bigint): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v) && BigInt(v) >= lo && BigInt(v) <= hi;
  return typeof v === 'bigint' && v >= lo && v <= hi;
}

function writeValue(s: Sink, type: number, v: GgufValue, where: string, depth: number): void {
  const bad = (): never => {
    throw new Error(
      `${where}: ${typeof v === 'object' ? 'array' : String(v)} is not a valid ${ggufValueTypeName(type)}`,
    );
  };
  const dv = () => s.dv;
  switch (type) {
    case V.UINT8:
      if (!intIn(v, 0, 255)) bad();
      return s.u8(v as number);
    case V.INT8:
      if (!intIn(v, -128, 127)) bad();
      return s.u8((v as number) & 0xff);
    case V.UINT16:
    case V.INT16: {
      if (type === V.UINT16 ? !intIn(v, 0, 65535) : !intIn(v, -32768, 32767)) bad();
      s.u8((v as number) & 0xff);
      return s.u8(((v as number) >> 8) & 0xff);
    }
    case V.UINT32:
      if (!intIn(v, 0, 0xffffffff)) bad();
      return s.u32(v as number);
    case V.INT32:
      if (!intIn(v, -0x80000000, 0x7fffffff)) bad();
      return s.u32((v as number) >>> 0);
    case V.FLOAT32:
      if (typeof v !== 'number') bad();
      s.u32(0);
      dv().setFloat32(s.len - 4, v as number, true);
      return;
    case V.BOOL:
      if (typeof v !== 'boolean') bad();
      return s.u8(v ? 1 : 0);
    case V.STRING:
      if (typeof v !== 'string') bad();
      return s.string(v as string);
    case V.UINT64:
      if (!bigIn(v, 0n, (1n << 64n) - 1n)) bad();
      return s.u64(BigInt(v as number | bigint));
    case V.INT64:
      if (!bigIn(v, -(1n << 63n), (1n << 63n) - 1n)) bad();
      return s.u64(BigInt.asUintN(64, BigInt(v as number | bigint)));
    case V.FLOAT64:
      if (typeof v !== 'number') bad();
      s.u64(0);
      dv().setFloat64(s.len - 8, v as number, true);
      return;
    case V.ARRAY: {
      const a = v as GgufArray;
      if (typeof a !== 'object' || a === null || !Array.isArray(a.values)) bad();
      if (!Number.isInteger(a.elementType) || a.elementType < 0 || a.elementType > 12) {
        throw new Error(`${where}: array element type ${a.elementType} is not 0..12`);
      }
      if (depth >= LIMITS.arrayDepth)
        throw new Error(`${where}: arrays nested deeper than ${LIMITS.arrayDepth}`);
      s.u32(a.elementType);
      s.u64(a.values.length);
      for (let i = 0; i < a.values.length; i++)
        writeValue(s, a.elementType, a.values[i], `${where}[${i}]`, depth + 1);
      return;
    }
    default:
      throw new Error(`${where}: value type ${type} is not 0..12`);
  }
}

export interface GgufLayoutTensor {
  name: string;
  type: number;
  dims: number[];
  nbytes: number;
  /** offset relative to the data section */
  relOffset: number;
}

export interface EncodedHeader {
  /** header plus zero padding up to dataStart */
  bytes: Uint8Array;
  dataStart: number;
  alignment: number;
  tensors: GgufLayoutTensor[];
  /** size of the complete file (every tensor padded to the alignment) */
  fileSize: number;
}

export interface EncodeOptions {
  metadata: MetaInput[];
  tensors: TensorInput[];
  alignment?: number;
}

function tensorBytes(t: TensorInput, where: string): number {
  const info = typeInfo(t.type);
  if (!info) throw new Error(`${where}: ${typeName(t.type)} has no known byte size`);
  if (!Array.isArray(t.dims) || t.dims.length < 1 || t.dims.length > LIMITS.maxDims) {
    throw new Error(`${where}: needs 1..${LIMITS.maxDims} dims, got ${JSON.stringify(t.dims)}`);
  }
  let n = 1n;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 1) throw new Error(`${where}: bad dim ${d}`);
    n *= BigInt(d);
  }
  if (t.dims[0] % info.blockElems !== 0) {
    throw new Error(
      `${where}: dims[0]=${t.dims[0]} is not a multiple of the ${info.name} block size ${info.blockElems}`,
    );
  }
  const nb = (n / BigInt(info.blockElems)) * BigInt(info.blockBytes);
  if (nb > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${where}: byte size overflows 2^53`);
  return Number(nb);
}

/** Validate the inputs, lay the tensors out and encode the header (with padding). */
export function encodeGgufHeader(opts: EncodeOptions): EncodedHeader {
  const metadata = [...opts.metadata];
  const metaAlign = metadata.find((m) => m.key === 'general.alignment');
  let alignment = opts.alignment ?? (metaAlign ? (metaAlign.value as number) : DEFAULT_ALIGNMENT);
  if (metaAlign) {
    if (metaAlign.type !== V.UINT32) throw new Error('general.alignment must be uint32');
    if (metaAlign.value !== alignment) {
      throw new Error(`general.alignment ${String(metaAlign.value)} disagrees with alignment ${alignment}`);
    }
  } else if (alignment !== DEFAULT_ALIGNMENT) {
    metadata.push(md.u32('general.alignment', alignment));
  }
  if (
    !Number.isInteger(alignment) ||
    alignment < 1 ||
    (alignment & (alignment - 1)) !== 0 ||
    alignment > MAX_ALIGNMENT
  ) {
    throw new Error(`alignment ${alignment} is not a power of two <= ${MAX_ALIGNMENT}`);
  }
  alignment = alignment | 0;

  const s = new Sink();
  s.u32(GGUF_MAGIC);
  s.u32(3);
  s.u64(opts.tensors.length);
  s.u64(metadata.length);
  const keys = new Set<string>();
  for (const m of metadata) {
    if (!m.key) throw new Error('metadata key is empty');
    if (keys.has(m.key)) throw new Error(`duplicate metadata key ${quote(m.key)}`);
    keys.add(m.key);
    s.string(m.key);
    if (!Number.isInteger(m.type) || m.type < 0 || m.type > 12) {
      throw new Error(`metadata ${quote(m.key)}: value type ${m.type} is not 0..12`);
    }
    s.u32(m.type);
    writeValue(s, m.type, m.value, `metadata ${quote(m.key)}`, 0);
  }

  const names = new Set<string>();
  const layout: GgufLayoutTensor[] = [];
  let rel = 0;
  for (const t of opts.tensors) {
    const where = `tensor ${quote(t.name)}`;
    const nameBytes = utf8.encode(t.name).length;
    if (nameBytes === 0 || nameBytes > LIMITS.tensorNameBytes) {
      throw new Error(`${where}: name must be 1..${LIMITS.tensorNameBytes} bytes`);
    }
    if (names.has(t.name)) throw new Error(`${where}: duplicate tensor name`);
    names.add(t.name);
    const nbytes = tensorBytes(t, where);
    layout.push({ name: t.name, type: t.type, dims: [...t.dims], nbytes, relOffset: rel });
    s.string(t.name);
    s.u32(t.dims.length);
    for (const d of t.dims) s.u64(d);
    s.u32(t.type);
    s.u64(rel);
    rel += Math.ceil(nbytes / alignment) * alignment;
  }
  s.pad(alignment);
  const bytes = s.result();
  return { bytes, dataStart: bytes.length, alignment, tensors: layout, fileSize: bytes.length + rel };
}

/** Encode a whole GGUF v3 file in memory (small files: tests, samples). */
export function encodeGguf(opts: {
  metadata: MetaInput[];
  tensors: (TensorInput & { data: Uint8Array })[];
  alignment?: number;
}): Uint8Array {
  const h = encodeGgufHeader(opts);
  const out = new Uint8Array(h.fileSize);
  out.set(h.bytes, 0);
  h.tensors.forEach((t, i) => {
    const data = opts.tensors[i].data;
    if (!(data instanceof Uint8Array) || data.length !== t.nbytes) {
      throw new Error(`tensor ${quote(t.name)}: data has ${data?.length} bytes, expected ${t.nbytes}`);
    }
    out.set(data, h.dataStart + t.relOffset);
  });
  return out;
}
