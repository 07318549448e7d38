/** GGUF value types, errors and the parsed-header shapes shared by the reader and the writer. */

export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

const VALUE_TYPE_NAMES = [
  'uint8',
  'int8',
  'uint16',
  'int16',
  'uint32',
  'int32',
  'float32',
  'bool',
  'string',
  'array',
  'uint64',
  'int64',
  'float64',
];

/** `uint8` ... `float64`, or `valuetype#N` for an id outside 0..12. */
export function ggufValueTypeName(t: number): string {
  return VALUE_TYPE_NAMES[t] ?? `valuetype#${t}`;
}

/** Fixed byte size of a scalar value type; 0 for string and array (variable). */
export function ggufScalarSize(t: number): number {
  switch (t) {
    case GgufValueType.UINT8:
    case GgufValueType.INT8:
    case GgufValueType.BOOL:
      return 1;
    case GgufValueType.UINT16:
    case GgufValueType.INT16:
      return 2;
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
    case GgufValueType.FLOAT32:
      return 4;
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
    case GgufValueType.FLOAT64:
      return 8;
    default:
      return 0;
  }
}

export type GgufScalar = number | bigint | boolean | string;
export interface GgufArray {
  elementType: number;
  values: GgufValue[];
}
export type GgufValue = GgufScalar | GgufArray;

export interface GgufMetadataEntry {
  key: string;
  type: number;
  value: GgufValue;
  /** absolute file offset of the entry (its key's length field) */
  offset: number;
}

export interface GgufTensorInfo {
  index: number;
  name: string;
  /** innermost first */
  dims: number[];
  type: number;
  typeName: string;
  supported: boolean;
  /** why QuantScope cannot compute this tensor, e.g. 'Q2_K is not supported', 'type#77 is unknown' */
  unsupportedReason?: string;
  /** offset relative to the data section, as stored in the file */
  relOffset: number;
  /** absolute offset in its file */
  offset: number;
  /** which file of a split model holds the data (GgufFile.shards), from 0; 0 for a model in one file */
  shard: number;
  /** byte size from the type table; 0 when the type id is unknown (size unknowable) */
  nbytes: number;
  nElements: number;
  /** dims[0] */
  k: number;
  /** product of dims[1..] (rows of the 2-D view) */
  n: number;
}

export interface GgufHeader {
  version: number;
  tensorCount: number;
  metadata: GgufMetadataEntry[];
  alignment: number;
  /** absolute offset of the data section (end of the tensor infos rounded up to the alignment) */
  dataStart: number;
  fileSize: number;
  /** bytes of header structures (magic .. last tensor info), before the alignment padding */
  headerBytes: number;
  tensors: GgufTensorInfo[];
  warnings: string[];
}

/** A malformed GGUF file. Message: `<field> at byte <offset>: <what is wrong>`, always one line. */
export class GgufError extends Error {
  readonly field: string;
  readonly offset: number;
  constructor(field: string, offset: number, what: string) {
    super(oneLine(`${field} at byte ${offset}: ${what}`));
    this.name = 'GgufError';
    this.field = field;
    this.offset = offset;
  }
}

/** The header continues past the bytes given; call again with at least `needed` bytes of the file. */
export class GgufNeedMoreError extends Error {
  readonly needed: number;
  constructor(needed: number) {
    super(`GGUF header needs the first ${needed} bytes of the file`);
    this.name = 'GgufNeedMoreError';
    this.needed = needed;
  }
}

/** Quote a file-provided string for a one-line message: JSON-escaped, shortened to ~80 characters. */
export function quote(s: string): string {
  const short = s.length > 80 ? s.slice(0, 77) + '...' : s;
  return JSON.stringify(short);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ');
}
