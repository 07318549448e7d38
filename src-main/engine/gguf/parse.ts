/**
 * GGUF header parser (pure: no node imports, so the browser mode can use it on a File slice).
 *
 * Hand-written rather than @huggingface/gguf: that library targets fetch/range reads and does not apply
 * the rules in docs/gguf-hardening.md (caps before allocation, errors naming field + byte offset, overlap and range
 * checks with 64-bit-safe arithmetic), and it has no writer. Every read here is checked against the bytes
 * that remain in the file; counts and lengths are capped before anything is allocated; sizes and offsets
 * that can exceed 2^53 are computed with BigInt.
 *
 * Choice for rule 7: a tensor whose type id is in ggml-types.ts but whose dims[0] is not a multiple of the
 * block size is a file error (its byte size would be meaningless, so offsets and overlaps could not be
 * checked). A type id not in the table still opens: the tensor is unsupported with nbytes 0, excluded from
 * the overlap check, and a warning is added.
 */
import { RETIRED_TYPE_IDS, typeInfo, typeName } from '../ggml-types';
import {
  GgufError,
  GgufNeedMoreError,
  GgufValueType,
  ggufScalarSize,
  ggufValueTypeName,
  quote,
  type GgufArray,
  type GgufHeader,
  type GgufMetadataEntry,
  type GgufTensorInfo,
  type GgufValue,
} from './types';

export const GGUF_MAGIC = 0x46554747; // 'GGUF' read as little-endian u32
export const DEFAULT_ALIGNMENT = 32;
export const MAX_ALIGNMENT = 1 << 20;
/** caps (docs/gguf-hardening.md, rules 2-4) */
export const LIMITS = {
  /** header structures (magic .. last tensor info) may not exceed this many bytes */
  headerBytes: 512 * 1024 * 1024,
  stringBytes: 64 * 1024 * 1024,
  metadataEntries: 1 << 20,
  tensors: 1 << 20,
  arrayElements: 1 << 26,
  arrayDepth: 8,
  tensorNameBytes: 63,
  maxDims: 4,
} as const;

const MIN_ENTRY_BYTES = 13; // key length 8 + key >= 1 + type 4
const MIN_TENSOR_INFO_BYTES = 28; // name length 8 + n_dims 4 + 1 dim 8 + type 4 + offset 8 (name may not be empty -> 29)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO32 = 4294967296;

// ignoreBOM keeps a leading U+FEFF as data (the default would strip it, and shift the joined-array slices)
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Decode UTF-8; short pure-ASCII strings (most keys and names, up to 64 bytes) skip TextDecoder's
 * call overhead and come out flat in one call (no chain of one-character concatenations).
 */
function decodeUtf8(b: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    for (let i = start; i < end; i++) if (b[i] >= 0x80) return utf8.decode(b.subarray(start, end));
    return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  }
  return utf8.decode(b.subarray(start, end));
}

function u64String(lo: number, hi: number): string {
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

class Reader {
  pos = 0;
  readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly fileSize: number,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  remaining(): number {
    return this.fileSize - this.pos;
  }

  /** Make sure n bytes from pos can be read: file error if the file is too short, NeedMore if only the prefix is. */
  need(n: number, field: string | (() => string)): void {
    const end = this.pos + n;
    if (end > this.bytes.length) this.short(n, field);
  }

  private short(n: number, field: string | (() => string)): never {
    const end = this.pos + n;
    const f = typeof field === 'string' ? field : field();
    if (end > this.fileSize) {
      throw new GgufError(f, this.pos, `needs ${n} bytes but the file ends at byte ${this.fileSize}`);
    }
    if (end > LIMITS.headerBytes) {
      throw new GgufError(f, this.pos, `header exceeds the ${LIMITS.headerBytes} byte limit`);
    }
    throw new GgufNeedMoreError(end);
  }

  u8(field: string | (() => string)): number {
    this.need(1, field);
    return this.bytes[this.pos++];
  }
  u32(field: string | (() => string)): number {
    this.need(4, field);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** u64 as [lo, hi] halves (no BigInt allocation on the hot path) */
  u64parts(field: string | (() => string)): [number, number] {
    this.need(8, field);
    const lo = this.dv.getUint32(this.pos, true);
    const hi = this.dv.getUint32(this.pos + 4, true);
    this.pos += 8;
    return [lo, hi];
  }
  u64big(field: string | (() => string)): bigint {
    this.need(8, field);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 count checked against a cap and against what the remaining bytes could hold (minBytes each). */
  count(field: string | (() => string), cap: number, minBytes: number, what: string): number {
    const at = this.pos;
    const [lo, hi] = this.u64parts(field);
    const f = () => (typeof field === 'string' ? field : field());
    if (hi !== 0 || lo > cap) {
      throw new GgufError(f(), at, `${what} ${u64String(lo, hi)} exceeds the limit of ${cap}`);
    }
    if (minBytes > 0 && lo * minBytes > LIMITS.headerBytes - this.pos) {
      throw new GgufError(
        f(),
        at,
        `${what} ${lo} would take the header past its ${LIMITS.headerBytes} byte limit`,
      );
    }
    if (minBytes > 0 && lo * minBytes > this.remaining()) {
      throw new GgufError(
        f(),
        at,
        `${what} ${lo} needs at least ${lo * minBytes} bytes but only ${this.remaining()} remain in the file`,
      );
    }
    return lo;
  }

  string(field: string | (() => string), cap: number = LIMITS.stringBytes): string {
    const at = this.pos;
    this.need(8, field);
    const lo = this.dv.getUint32(at, true);
    const hi = this.dv.getUint32(at + 4, true);
    this.pos = at + 8;
    if (hi !== 0 || lo > cap) {
      const f = typeof field === 'string' ? field : field();
      throw new GgufError(f, at, `string length ${u64String(lo, hi)} exceeds the limit of ${cap} bytes`);
    }
    if (lo > this.fileSize - this.pos) {
      const f = typeof field === 'string' ? field : field();
      throw new GgufError(
        f,
        at,
        `string length ${lo} runs past the end of the file (${this.fileSize - this.pos} bytes remain)`,
      );
    }
    this.need(lo, field);
    const s = decodeUtf8(this.bytes, this.pos, this.pos + lo);
    this.pos += lo;
    return s;
  }
}

function asU64Value(lo: number, hi: number): number | bigint {
  if (hi < 0x200000) return hi * TWO32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
function asI64Value(dv: DataView, pos: number): number | bigint {
  const v = dv.getBigInt64(pos, true);
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

/** Minimum bytes one element of this type occupies (for count-vs-remaining checks). */
function minElementBytes(t: number): number {
  if (t === GgufValueType.STRING) return 8;
  if (t === GgufValueType.ARRAY) return 12;
  return ggufScalarSize(t);
}

function readScalar(r: Reader, type: number, field: string | (() => string)): GgufValue {
  const size = ggufScalarSize(type);
  r.need(size, field);
  const p = r.pos;
  const dv = r.dv;
  r.pos += size;
  switch (type) {
    case GgufValueType.UINT8:
      return r.bytes[p];
    case GgufValueType.INT8:
      return dv.getInt8(p);
    case GgufValueType.UINT16:
      return dv.getUint16(p, true);
    case GgufValueType.INT16:
      return dv.getInt16(p, true);
    case GgufValueType.UINT32:
      return dv.getUint32(p, true);
    case GgufValueType.INT32:
      return dv.getInt32(p, true);
    case GgufValueType.FLOAT32:
      return dv.getFloat32(p, true);
    case GgufValueType.BOOL:
      return r.bytes[p] !== 0;
    case GgufValueType.UINT64:
      return asU64Value(dv.getUint32(p, true), dv.getUint32(p + 4, true));
    case GgufValueType.INT64:
      return asI64Value(dv, p);
    case GgufValueType.FLOAT64:
      return dv.getFloat64(p, true);
  }
  throw new Error(`unreachable scalar type ${type}`);
}

/**
 * UTF-16 length of b[start, end) if it is well-formed UTF-8 (WHATWG rules: no overlongs, surrogates or
 * code points past U+10FFFF), else -1.
 */
function utf16LengthIfValid(b: Uint8Array, start: number, end: number): number {
  let units = 0;
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      units++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return -1;
    if (i + need >= end) return -1;
    const c1 = b[i + 1];
    if (c1 < lo || c1 > hi) return -1;
    for (let j = 2; j <= need; j++) if ((b[i + j] & 0xc0) !== 0x80) return -1;
    i += need + 1;
    units += need === 3 ? 2 : 1;
  }
  return units;
}

/**
 * An array of strings (a tokenizer's 128k+ entries) decoded with one TextDecoder call: the well-formed
 * strings are copied into one buffer, decoded together, and sliced apart by their UTF-16 lengths. Malformed
 * strings are decoded one by one (with U+FFFD replacements), exactly as a per-string decode would.
 */
function readStringArray(r: Reader, values: GgufValue[], field: () => string): void {
  const n = values.length;
  const starts = new Uint32Array(n);
  const lens = new Uint32Array(n);
  const dv = r.dv;
  const cap = LIMITS.stringBytes;
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    if (at + 8 > r.bytes.length) r.need(8, () => `${field()}[${i}]`);
    const lo = dv.getUint32(at, true);
    const hi = dv.getUint32(at + 4, true);
    if (hi !== 0 || lo > cap) {
      throw new GgufError(
        `${field()}[${i}]`,
        at,
        `string length ${u64String(lo, hi)} exceeds the limit of ${cap} bytes`,
      );
    }
    r.pos = at + 8;
    if (lo > r.fileSize - r.pos) {
      throw new GgufError(
        `${field()}[${i}]`,
        at,
        `string length ${lo} runs past the end of the file (${r.fileSize - r.pos} bytes remain)`,
      );
    }
    if (r.pos + lo > r.bytes.length) r.need(lo, () => `${field()}[${i}]`);
    starts[i] = r.pos;
    lens[i] = lo;
    r.pos += lo;
  }
  const b = r.bytes;
  const units = new Int32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const u = utf16LengthIfValid(b, starts[i], starts[i] + lens[i]);
    units[i] = u;
    if (u >= 0) total += lens[i];
  }
  const joined = new Uint8Array(total);
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (units[i] < 0) continue;
    for (let j = starts[i], e = j + lens[i]; j < e; j++) joined[o++] = b[j];
  }
  const all = utf8.decode(joined);
  let u = 0;
  for (let i = 0; i < n; i++) {
    if (units[i] < 0) {
      values[i] = utf8.decode(b.subarray(starts[i], starts[i] + lens[i]));
    } else {
      values[i] = all.slice(u, u + units[i]);
      u += units[i];
    }
  }
}

function readValue(r: Reader, type: number, depth: number, field: () => string): GgufValue {
  if (type === GgufValueType.STRING) return r.string(field);
  if (type !== GgufValueType.ARRAY) return readScalar(r, type, field);
  if (depth >= LIMITS.arrayDepth) {
    throw new GgufError(field(), r.pos, `arrays nested deeper than ${LIMITS.arrayDepth} levels`);
  }
  const typeAt = r.pos;
  const elementType = r.u32(() => `${field()} element type`);
  if (elementType > 12) {
    throw new GgufError(`${field()} element type`, typeAt, `value type ${elementType} is not 0..12`);
  }
  const n = r.count(
    () => `${field()} count`,
    LIMITS.arrayElements,
    minElementBytes(elementType),
    'array count',
  );
  const values: GgufValue[] = new Array(n);
  if (elementType === GgufValueType.STRING) {
    readStringArray(r, values, field);
  } else if (elementType === GgufValueType.ARRAY) {
    for (let i = 0; i < n; i++) values[i] = readValue(r, elementType, depth + 1, () => `${field()}[${i}]`);
  } else {
    const size = ggufScalarSize(elementType);
    r.need(n * size, field);
    const dv = r.dv;
    let p = r.pos;
    switch (elementType) {
      case GgufValueType.FLOAT32:
        for (let i = 0; i < n; i++, p += 4) values[i] = dv.getFloat32(p, true);
        break;
      case GgufValueType.INT32:
        for (let i = 0; i < n; i++, p += 4) values[i] = dv.getInt32(p, true);
        break;
      case GgufValueType.UINT32:
        for (let i = 0; i < n; i++, p += 4) values[i] = dv.getUint32(p, true);
        break;
      default:
        for (let i = 0; i < n; i++) values[i] = readScalar(r, elementType, field);
        p = r.pos;
    }
    r.pos = p;
  }
  const arr: GgufArray = { elementType, values };
  return arr;
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/**
 * Parse and validate a GGUF header. `bytes` is a prefix of the file (or all of it); `fileSize` the file's
 * length. Throws GgufError for a malformed file, GgufNeedMoreError when the prefix ends before the header does.
 */
export function parseGgufHeader(bytes: Uint8Array, fileSize: number): GgufHeader {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0)
    throw new GgufError('file', 0, `bad file size ${fileSize}`);
  if (bytes.length > fileSize) bytes = bytes.subarray(0, fileSize);
  const r = new Reader(bytes, fileSize);
  const warnings: string[] = [];

  // magic + version
  const magic = r.u32('magic');
  if (magic !== GGUF_MAGIC) {
    const shown = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new GgufError('magic', 0, `expected "GGUF" (47 47 55 46), found ${shown}`);
  }
  const version = r.u32('version');
  if (version === 0) throw new GgufError('version', 4, 'version 0 is not a GGUF version');
  if ((version & 0xffff) === 0) throw new GgufError('version', 4, 'big-endian GGUF is not supported');
  if (version === 1)
    throw new GgufError('version', 4, 'GGUF v1 is obsolete (32-bit counts); re-convert the model');
  if (version !== 2 && version !== 3) {
    throw new GgufError('version', 4, `GGUF v${version} is not supported (expected 2 or 3)`);
  }

  // counts: checked against caps and the remaining bytes before anything is allocated
  const tensorCount = r.count('tensor_count', LIMITS.tensors, 0, 'tensor count');
  const metaCount = r.count('metadata_kv_count', LIMITS.metadataEntries, 0, 'metadata count');
  if (metaCount * MIN_ENTRY_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES > r.remaining()) {
    throw new GgufError(
      'metadata_kv_count',
      16,
      `${metaCount} metadata entries and ${tensorCount} tensor infos need at least ` +
        `${metaCount * MIN_ENTRY_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES} bytes but only ${r.remaining()} remain`,
    );
  }

  // metadata
  const metadata: GgufMetadataEntry[] = new Array(metaCount);
  const keys = new Set<string>();
  let alignment = DEFAULT_ALIGNMENT;
  for (let i = 0; i < metaCount; i++) {
    const offset = r.pos;
    const key = r.string(`metadata[${i}].key`);
    if (key.length === 0) throw new GgufError(`metadata[${i}].key`, offset, 'key is empty');
    if (keys.has(key)) throw new GgufError(`metadata[${i}].key`, offset, `duplicate key ${quote(key)}`);
    keys.add(key);
    const typeAt = r.pos;
    const type = r.u32(() => `metadata ${quote(key)} type`);
    if (type > 12)
      throw new GgufError(`metadata ${quote(key)} type`, typeAt, `value type ${type} is not 0..12`);
    const valueAt = r.pos;
    const value = readValue(r, type, 0, () => `metadata ${quote(key)} value`);
    if (key === 'general.alignment') {
      if (type !== GgufValueType.UINT32) {
        throw new GgufError('general.alignment', typeAt, `must be uint32, found ${ggufValueTypeName(type)}`);
      }
      const a = value as number;
      if (a === 0 || (a & (a - 1)) !== 0 || a > MAX_ALIGNMENT) {
        throw new GgufError(
          'general.alignment',
          valueAt,
          `${a} is not a non-zero power of two <= ${MAX_ALIGNMENT}`,
        );
      }
      alignment = a;
    }
    metadata[i] = { key, type, value, offset };
  }

  // tensor infos
  if (tensorCount * MIN_TENSOR_INFO_BYTES > r.remaining()) {
    throw new GgufError(
      'tensor_count',
      8,
      `${tensorCount} tensor infos need at least ${tensorCount * MIN_TENSOR_INFO_BYTES} bytes ` +
        `but only ${r.remaining()} remain after the metadata`,
    );
  }
  const tensors: GgufTensorInfo[] = new Array(tensorCount);
  const offsetFieldAt: number[] = new Array(tensorCount);
  const names = new Map<string, number>();
  const alignMask = alignment - 1;
  // The hot loop of a large header: the field an error names is made only when one is thrown (one
  // closure over the loop's current position, no string or closure per tensor), and sizes are plain
  // numbers checked against 2^53 (exact below it; BigInt only for messages).
  const cur = { i: 0, name: '', part: '', dim: -1 };
  const T = () => `tensor[${cur.i}] ${quote(cur.name)}`;
  const field = () =>
    cur.name === '' ? `tensor[${cur.i}].name` : `${T()} ${cur.part}${cur.dim >= 0 ? `[${cur.dim}]` : ''}`;
  for (let i = 0; i < tensorCount; i++) {
    const start = r.pos;
    cur.i = i;
    cur.name = '';
    cur.dim = -1;
    r.need(8, field);
    const nameLen = r.dv.getUint32(start, true);
    const nameLenHi = r.dv.getUint32(start + 4, true);
    if (nameLenHi !== 0 || nameLen > LIMITS.tensorNameBytes) {
      throw new GgufError(
        `tensor[${i}].name`,
        start,
        `name length ${u64String(nameLen, nameLenHi)} bytes; names must be shorter than 64 bytes`,
      );
    }
    const name = r.string(field);
    if (name.length === 0) throw new GgufError(`tensor[${i}].name`, start, 'name is empty');
    cur.name = name;
    const prev = names.get(name);
    if (prev !== undefined)
      throw new GgufError(`${T()} name`, start, `duplicate name (also tensor[${prev}])`);
    names.set(name, i);

    const nDimsAt = r.pos;
    cur.part = 'n_dims';
    const nDims = r.u32(field);
    if (nDims < 1 || nDims > LIMITS.maxDims) {
      throw new GgufError(`${T()} n_dims`, nDimsAt, `${nDims} dimensions; expected 1..${LIMITS.maxDims}`);
    }
    const dims: number[] = new Array(nDims);
    const dimsAt = r.pos;
    let nElements = 1;
    for (let d = 0; d < nDims; d++) {
      const at = r.pos;
      cur.part = 'dims';
      cur.dim = d;
      r.need(8, field);
      const lo = r.dv.getUint32(at, true);
      const hi = r.dv.getUint32(at + 4, true);
      r.pos = at + 8;
      if (lo === 0 && hi === 0) throw new GgufError(`${T()} dims[${d}]`, at, 'dimension is 0');
      if (hi >= 0x200000) {
        throw new GgufError(`${T()} dims[${d}]`, at, `dimension ${u64String(lo, hi)} is larger than 2^53`);
      }
      // (a small value stays a small integer: tensor objects keep integer fields, not boxed doubles)
      dims[d] = hi === 0 ? lo : hi * TWO32 + lo;
      // every partial product is at most the final one (dims >= 1): exact while below 2^53
      nElements *= dims[d];
      if (nElements > Number.MAX_SAFE_INTEGER) {
        let exact = 1n;
        for (let e = 0; e <= d; e++) exact *= BigInt(dims[e]);
        throw new GgufError(`${T()} dims[${d}]`, at, `element count ${exact} overflows 2^53`);
      }
    }
    cur.dim = -1;
    cur.part = 'type';
    const typeAt = r.pos;
    const type = r.u32(field);
    offsetFieldAt[i] = r.pos;
    cur.part = 'offset';
    const [offLo, offHi] = r.u64parts(field);
    // the alignment (a power of two <= 2^20) divides 2^32: the low half decides
    if ((offLo & alignMask) !== 0) {
      throw new GgufError(
        `${T()} offset`,
        offsetFieldAt[i],
        `${u64String(offLo, offHi)} is not a multiple of the alignment ${alignment}`,
      );
    }
    if (offHi >= 0x200000)
      throw new GgufError(
        `${T()} offset`,
        offsetFieldAt[i],
        `${u64String(offLo, offHi)} is larger than 2^53`,
      );
    const relOffset = offHi === 0 ? offLo : offHi * TWO32 + offLo;

    const info = typeInfo(type);
    const tName = typeName(type);
    let nbytes = 0;
    let supported = false;
    let unsupportedReason: string | undefined;
    if (info) {
      if (dims[0] % info.blockElems !== 0) {
        throw new GgufError(
          `${T()} dims[0]`,
          dimsAt,
          `${dims[0]} is not a multiple of the ${info.name} block size ${info.blockElems}`,
        );
      }
      nbytes = (nElements / info.blockElems) * info.blockBytes;
      if (nbytes > Number.MAX_SAFE_INTEGER) {
        const nb = (BigInt(nElements) / BigInt(info.blockElems)) * BigInt(info.blockBytes);
        throw new GgufError(`${T()} type`, typeAt, `byte size ${nb} overflows 2^53`);
      }
      supported = info.supported;
      if (!supported) unsupportedReason = `${info.name} is not supported`;
    } else {
      unsupportedReason = RETIRED_TYPE_IDS.has(type)
        ? `${tName} is a retired ggml type`
        : `${tName} is unknown`;
      warnings.push(`tensor ${quote(name)}: ${unsupportedReason}; its byte size is unknown`);
    }
    const k = dims[0];
    const t: GgufTensorInfo = {
      index: i,
      name,
      dims,
      type,
      typeName: tName,
      supported,
      relOffset,
      offset: 0, // set below once data_start is known
      shard: 0,
      nbytes,
      nElements,
      k,
      n: nElements / k,
    };
    if (unsupportedReason !== undefined) t.unsupportedReason = unsupportedReason;
    tensors[i] = t;
  }
  const headerBytes = r.pos;
  const dataStart = alignUp(headerBytes, alignment);

  // ranges: inside the file, no overlaps (rule 8)
  for (let i = 0; i < tensorCount; i++) {
    const t = tensors[i];
    // each term is below 2^53, so a sum past the file (itself below 2^53) is never rounded back in
    const abs = dataStart + t.relOffset;
    const end = abs + t.nbytes;
    if (end > fileSize) {
      throw new GgufError(
        `tensor[${i}] ${quote(t.name)} offset`,
        offsetFieldAt[i],
        `data [${abs}, ${end}) runs past the end of the file (${fileSize} bytes)`,
      );
    }
    t.offset = Number(abs);
  }
  // Files list tensors in data order: sort only when they are not.
  const sized = tensors.filter((t) => t.nbytes > 0);
  let ordered = true;
  for (let j = 1; j < sized.length && ordered; j++)
    if (sized[j].offset < sized[j - 1].offset) ordered = false;
  if (!ordered) sized.sort((a, b) => a.offset - b.offset || a.index - b.index);
  for (let j = 1; j < sized.length; j++) {
    const a = sized[j - 1];
    const b = sized[j];
    if (b.offset < a.offset + a.nbytes) {
      throw new GgufError(
        `tensor[${b.index}] ${quote(b.name)} offset`,
        offsetFieldAt[b.index],
        `data [${b.offset}, ${b.offset + b.nbytes}) overlaps tensor[${a.index}] ${quote(a.name)} ` +
          `[${a.offset}, ${a.offset + a.nbytes})`,
      );
    }
  }
  if (tensorCount > 0 && dataStart > fileSize) warnings.push(`data section starts past the end of the file`);

  return { version, tensorCount, metadata, alignment, dataStart, fileSize, headerBytes, tensors, warnings };
}

const metaMaps = new WeakMap<GgufHeader, Map<string, GgufMetadataEntry>>();

/** The value of a metadata key, or undefined. */
export function metaValue(h: GgufHeader, key: string): GgufValue | undefined {
  let m = metaMaps.get(h);
  if (!m) {
    m = new Map(h.metadata.map((e) => [e.key, e]));
    metaMaps.set(h, m);
  }
  return m.get(key)?.value;
}

/** Shortest decimal that reads back as the same float32 (0.00001 rather than 0.000009999999747378752). */
function formatF32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

function formatValue(v: GgufValue, type: number, maxItems: number): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return type === GgufValueType.FLOAT32 ? formatF32(v) : String(v);
  if (typeof v === 'boolean') return String(v);
  const n = v.values.length;
  const shown = v.values.slice(0, maxItems).map((x) => formatValue(x, v.elementType, maxItems));
  if (n <= maxItems) return `[${shown.join(', ')}]`;
  return `[${n} × ${ggufValueTypeName(v.elementType)}] ${shown.join(', ')}, ...`;
}

/** One-line display of a metadata value; arrays longer than maxItems are summarised. */
export function formatMetadataValue(e: GgufMetadataEntry, maxItems = 8): string {
  return formatValue(e.value, e.type, maxItems);
}
