/**
 * A tiny WebAssembly SIMD kernel for the cpu backend at m >= 2: four decoded weight rows are stored
 * interleaved ([element][row], float32), so one 128-bit load gives the weights of four output features
 * and each activation value is splatted and multiplied into four float32 lanes. Per sub-block the lanes
 * hold sum(q*x) in float32; then acc += ds*sum - ms*sum(x) (float32, no FMA), which is the float32
 * arithmetic a GPU kernel does.
 *
 * Hand-assembled: no WebAssembly toolchain (wabt, binaryen, clang) is available to the project and the
 * function is ~40 instructions; the builder below spells out each opcode so it can be read and checked
 * against the WebAssembly SIMD spec. Falls back to the plain JS kernel where SIMD is unavailable.
 *
 * tile(q, ds, ms, x, xs, out, k, m, S, NS): for r < m (two rows per pass, sharing the weight loads):
 *   acc = 0; for s < NS: sum = sum_{l<S} q4[s*S+l] * x[r*k + s*S+l]; acc += ds4[s]*sum - ms4[s]*xs[r*(k/32) + (s*S)/32]
 *   out4[r] = acc
 * (q4 / ds4 / ms4 / out4: four float32 lanes per entry; all addresses in bytes)
 */

// opcodes
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const SELECT = 0x1b;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const I32_LT_U = 0x49;
const F32_LOAD = [0x2a, 0x02, 0x00];
const V128_LOAD = [0xfd, 0x00, 0x04, 0x00];
const V128_STORE = [0xfd, 0x0b, 0x04, 0x00];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const F32X4_SPLAT = [0xfd, 0x13];
const F32X4_ADD = [0xfd, 0xe4, 0x01];
const F32X4_SUB = [0xfd, 0xe5, 0x01];
const F32X4_MUL = [0xfd, 0xe6, 0x01];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR_IF = 0x0d;

// params 0..9, then locals
const [Q, DS, MS, X, XS, OUT, K, M, S, NS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const [R, R2, SI, XROW, DX, XSROW, DXS, QP, XP, END_] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
const [ACC, ACC2, SUM, SUM2, QV] = [20, 21, 22, 23, 24];

const get = (i: number) => [LOCAL_GET, i];
const set = (i: number) => [LOCAL_SET, i];
const tee = (i: number) => [LOCAL_TEE, i];
const c32 = (v: number) => [I32_CONST, ...sleb(v)];

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const str = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

/** acc = acc + (ds4[s] * sum - ms4[s] * splat(xs[xsrow + ((s*S)>>5)*4])) */
const update = (acc: number, sum: number, xsDelta: boolean) => [
  ...get(acc),
  ...get(DS),
  ...get(SI),
  ...c32(4),
  I32_SHL,
  I32_ADD,
  ...V128_LOAD,
  ...get(sum),
  ...F32X4_MUL,
  ...get(MS),
  ...get(SI),
  ...c32(4),
  I32_SHL,
  I32_ADD,
  ...V128_LOAD,
  ...get(XSROW),
  ...(xsDelta ? [...get(DXS), I32_ADD] : []),
  ...get(SI),
  ...get(S),
  I32_MUL,
  ...c32(5),
  I32_SHR_U,
  ...c32(2),
  I32_SHL,
  I32_ADD,
  ...F32_LOAD,
  ...F32X4_SPLAT,
  ...F32X4_MUL,
  ...F32X4_SUB,
  ...F32X4_ADD,
  ...set(acc),
];

/** Two activation rows (r, r2 = min(r + 1, m - 1)) per pass share every weight load. */
function tileBody(): number[] {
  const code = [
    ...c32(0),
    ...set(R),
    ...LOOP, // $R
    // r2 = r + 1 < m ? r + 1 : r
    ...get(R),
    ...c32(1),
    I32_ADD,
    ...get(R),
    ...get(R),
    ...c32(1),
    I32_ADD,
    ...get(M),
    I32_LT_U,
    SELECT,
    ...set(R2),
    ...V128_ZERO,
    ...set(ACC),
    ...V128_ZERO,
    ...set(ACC2),
    // xrow = x + r*k*4 ; dx = (r2 - r)*k*4 ; xsrow = xs + r*(k>>5)*4 ; dxs = (r2 - r)*(k>>5)*4
    ...get(X),
    ...get(R),
    ...get(K),
    I32_MUL,
    ...c32(2),
    I32_SHL,
    I32_ADD,
    ...set(XROW),
    ...get(R2),
    ...get(R),
    I32_SUB,
    ...get(K),
    I32_MUL,
    ...c32(2),
    I32_SHL,
    ...set(DX),
    ...get(XS),
    ...get(R),
    ...get(K),
    ...c32(5),
    I32_SHR_U,
    I32_MUL,
    ...c32(2),
    I32_SHL,
    I32_ADD,
    ...set(XSROW),
    ...get(R2),
    ...get(R),
    I32_SUB,
    ...get(K),
    ...c32(5),
    I32_SHR_U,
    I32_MUL,
    ...c32(2),
    I32_SHL,
    ...set(DXS),
    ...get(Q),
    ...set(QP),
    ...get(XROW),
    ...set(XP),
    ...c32(0),
    ...set(SI),
    ...LOOP, // $S
    ...V128_ZERO,
    ...set(SUM),
    ...V128_ZERO,
    ...set(SUM2),
    ...get(XP),
    ...get(S),
    ...c32(2),
    I32_SHL,
    I32_ADD,
    ...set(END_),
    ...LOOP, // $L
    // qv = q4[qp]; sum += qv * splat(x[xp]); sum2 += qv * splat(x[xp + dx])
    ...get(SUM),
    ...get(QP),
    ...V128_LOAD,
    ...tee(QV),
    ...get(XP),
    ...F32_LOAD,
    ...F32X4_SPLAT,
    ...F32X4_MUL,
    ...F32X4_ADD,
    ...set(SUM),
    ...get(SUM2),
    ...get(QV),
    ...get(XP),
    ...get(DX),
    I32_ADD,
    ...F32_LOAD,
    ...F32X4_SPLAT,
    ...F32X4_MUL,
    ...F32X4_ADD,
    ...set(SUM2),
    ...get(QP),
    ...c32(16),
    I32_ADD,
    ...set(QP),
    ...get(XP),
    ...c32(4),
    I32_ADD,
    ...tee(XP),
    ...get(END_),
    I32_LT_U,
    BR_IF,
    0,
    END,
    ...update(ACC, SUM, false),
    ...update(ACC2, SUM2, true),
    ...get(SI),
    ...c32(1),
    I32_ADD,
    ...tee(SI),
    ...get(NS),
    I32_LT_U,
    BR_IF,
    0,
    END,
    // out4[r2] = acc2 ; out4[r] = acc (r last, so a duplicated row keeps its own result)
    ...get(OUT),
    ...get(R2),
    ...c32(4),
    I32_SHL,
    I32_ADD,
    ...get(ACC2),
    ...V128_STORE,
    ...get(OUT),
    ...get(R),
    ...c32(4),
    I32_SHL,
    I32_ADD,
    ...get(ACC),
    ...V128_STORE,
    ...get(R),
    ...c32(2),
    I32_ADD,
    ...tee(R),
    ...get(M),
    I32_LT_U,
    BR_IF,
    0,
    END,
    END,
  ];
  const locals = vec([
    [10, 0x7f], // 10 x i32
    [5, 0x7b], // 5 x v128
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f;
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...uleb(10), ...new Array<number>(10).fill(I32), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...str('tile'), 0x00, 0],
        [...str('mem'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([tileBody()])),
  ];
  return new Uint8Array(bytes);
}

export interface SimdTile {
  memory: WebAssembly.Memory;
  tile(
    q: number,
    ds: number,
    ms: number,
    x: number,
    xs: number,
    out: number,
    k: number,
    m: number,
    S: number,
    NS: number,
  ): void;
}

let cached: SimdTile | null | undefined;

/** The instantiated kernel, or null where WebAssembly SIMD is unavailable. */
export function simdTile(): SimdTile | null {
  if (cached !== undefined) return cached;
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), {});
    const ex = inst.exports as unknown as { tile: SimdTile['tile']; mem: WebAssembly.Memory };
    cached = { memory: ex.mem, tile: ex.tile };
  } catch {
    cached = null;
  }
  return cached;
}
