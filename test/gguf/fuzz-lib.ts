/**
 * The GGUF fuzz target and its mutator, shared by `npm run fuzz` (scripts/fuzz.ts, long runs in a
 * guarded worker) and the unit tests (a short run and the replay of test/gguf/fuzz-corpus/).
 *
 * Target: parse the header, then for every tensor of a supported type read its bytes and
 * dequantize its first row, as inspect, dequant and verify do. A clean rejection is a GgufError or
 * an Error with a one-line message; anything else (TypeError, RangeError, a multi-line or empty
 * message, a non-Error throw), a hang or a memory blow-up is a finding.
 */
import { encodeGguf, md, GgufError, GgufValueType as V, parseGgufHeader } from '../../src-main/engine/gguf';
import { codecFor, quantize } from '../../src-main/engine/formats';
import { SUPPORTED_TYPES } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';

/** Valid files covering every supported format, metadata of every value type, nested arrays. */
export function fuzzSeeds(): Uint8Array[] {
  const rng = new Rng(2024);
  const seeds: Uint8Array[] = [];
  const tensorOf = (name: string, type: number, k: number, n: number) => ({
    name,
    type,
    dims: [k, n],
    data: quantize(type, rng.normalF32(n * k), n, k),
  });
  // one file per format, and one with all of them
  for (const t of SUPPORTED_TYPES) {
    const k = Math.max(t.blockElems, 32);
    seeds.push(
      encodeGguf({
        metadata: [md.string('general.architecture', 'llama'), md.u32('general.alignment', 32)],
        tensors: [tensorOf(`blk.0.${t.name.toLowerCase()}.weight`, t.id, k, 2)],
      }),
    );
  }
  seeds.push(
    encodeGguf({
      metadata: [
        md.string('general.architecture', 'llama'),
        md.u8('a', 1),
        md.i8('b', -1),
        md.u16('c', 2),
        md.i16('d', -2),
        md.i32('f', -3),
        md.f32('g', 0.5),
        md.bool('h', true),
        md.u64('i', (1n << 64n) - 1n),
        md.i64('j', -5),
        md.f64('k', 1.5),
        md.array('tokenizer.ggml.tokens', V.STRING, ['a', 'bb', 'Ġü']),
        md.array('nested', V.ARRAY, [{ elementType: V.INT64, values: [-1, 1n << 62n] }]),
      ],
      tensors: SUPPORTED_TYPES.map((t, i) => tensorOf(`t${i}`, t.id, Math.max(t.blockElems, 32), 1)),
      alignment: 64,
    }),
  );
  return seeds;
}

const HUGE = [(1n << 64n) - 1n, 1n << 63n, 1n << 32n, (1n << 53n) + 1n, 0xffffffffn, 0n, 1n, 65n, 1n << 20n];

/** One mutant of src: byte flips, truncation, huge counts/lengths, splices, deletions, duplications. */
export function mutate(rng: Rng, src: Uint8Array, all: Uint8Array[]): Uint8Array {
  let b: Uint8Array = src.slice();
  const steps = rng.int(1, 4);
  for (let s = 0; s < steps; s++) {
    const kind = rng.int(0, 6);
    if (kind === 0) {
      const n = rng.int(1, 8);
      const hi = Math.min(b.length, rng.next() < 0.8 ? 512 : b.length);
      for (let i = 0; i < n && hi > 0; i++) b[rng.int(0, hi - 1)] = rng.u32() & 0xff;
    } else if (kind === 1) {
      b = b.slice(0, rng.int(0, b.length));
    } else if (kind === 2 && b.length >= 24) {
      // counts (tensor count at 8, metadata count at 16) or any 8 bytes in the header
      const at = rng.next() < 0.4 ? (rng.next() < 0.5 ? 8 : 16) : rng.int(0, Math.min(b.length, 512) - 8);
      const v = rng.next() < 0.8 ? HUGE[rng.int(0, HUGE.length - 1)] : BigInt(rng.u32()) * BigInt(rng.u32());
      new DataView(b.buffer, b.byteOffset).setBigUint64(at, BigInt.asUintN(64, v), true);
    } else if (kind === 3 && b.length >= 4) {
      // a u32 (type ids, value types, n_dims) set to a small or boundary value
      const at = rng.int(0, Math.min(b.length, 512) - 4);
      const v = [0, 1, 8, 9, 12, 13, 30, 39, 40, 0xffffffff, rng.int(0, 64)][rng.int(0, 10)];
      new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);
    } else if (kind === 4) {
      const other = all[rng.int(0, all.length - 1)];
      const from = rng.int(0, Math.max(0, other.length - 1));
      const seg = other.subarray(from, Math.min(other.length, from + rng.int(1, 64)));
      const at = rng.int(0, b.length);
      const out = new Uint8Array(b.length + seg.length);
      out.set(b.subarray(0, at), 0);
      out.set(seg, at);
      out.set(b.subarray(at), at + seg.length);
      b = out;
    } else if (kind === 5 && b.length > 1) {
      const at = rng.int(0, b.length - 1);
      const len = rng.int(1, Math.min(64, b.length - at));
      const out = new Uint8Array(b.length - len);
      out.set(b.subarray(0, at), 0);
      out.set(b.subarray(at + len), at);
      b = out;
    } else if (b.length > 1) {
      // duplicate a range (repeated entries, lengths that now point elsewhere)
      const at = rng.int(0, b.length - 1);
      const seg = b.slice(at, Math.min(b.length, at + rng.int(1, 48)));
      const out = new Uint8Array(b.length + seg.length);
      out.set(b.subarray(0, at + seg.length), 0);
      out.set(seg, at + seg.length);
      out.set(b.subarray(at + seg.length), at + 2 * seg.length);
      b = out;
    }
  }
  return b;
}

export type FuzzOutcome =
  { kind: 'ok' } | { kind: 'rejected'; message: string } | { kind: 'finding'; what: string };

/** Runs the target on one input; never throws. */
export function runTarget(bytes: Uint8Array): FuzzOutcome {
  try {
    const h = parseGgufHeader(bytes, bytes.length);
    for (const t of h.tensors) {
      if (!t.supported || t.nbytes === 0) continue;
      const data = bytes.subarray(t.offset, t.offset + t.nbytes);
      if (data.length !== t.nbytes) return { kind: 'finding', what: `tensor ${t.name}: bytes past the end` };
      const codec = codecFor(t.type);
      const k = Math.min(t.k, 1 << 16);
      if (k !== t.k) continue; // a valid row this long is real work, not a bug; its size is checked
      const out = new Float32Array(k);
      codec.dequantizeRow(data, 0, k, out, 0);
    }
    return { kind: 'ok' };
  } catch (e) {
    return classify(e);
  }
}

export function classify(e: unknown): FuzzOutcome {
  if (!(e instanceof Error)) return { kind: 'finding', what: `non-Error thrown: ${String(e)}` };
  const clean =
    (e instanceof GgufError || e.constructor === Error) && e.message.length > 0 && !e.message.includes('\n');
  if (clean) return { kind: 'rejected', message: e.message };
  return { kind: 'finding', what: `${e.name}: ${e.message.split('\n')[0]}` };
}
