/**
 * A small PNG writer for the report's inline maps (RGB, 8 bits, no filter), so the one-file HTML
 * report carries its heatmaps as images without a library: the format is a signature, three chunks
 * and a zlib stream, which node:zlib provides.
 */
import { deflateSync } from 'node:zlib';
import { NOT_COMPARED_RGB } from '../../../src-shared/heatmap';

const CRC = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC[n] = c >>> 0;
}

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A PNG of width x height pixels from rgb (3 bytes per pixel, row-major). */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (!(width > 0 && height > 0) || rgb.length !== width * height * 3)
    throw new Error(`png: ${rgb.length} bytes for ${width} x ${height} RGB pixels`);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++)
    raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter method variants, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Colour stops of the error scale, dark (small) to bright (large). */
const STOPS: [number, number, number][] = [
  [40, 30, 80],
  [40, 90, 160],
  [30, 160, 140],
  [150, 200, 60],
  [250, 230, 40],
];

/**
 * A heatmap as an image: each cell's value on a log scale between the smallest positive value and
 * the largest; zero is white, NaN or infinite magenta, and the columns set in `notCompared` (outputs
 * all left out of the comparison, notComparedColumns) and the rows set in `notComparedRows` (a weight
 * map's weight rows all left out, notComparedRows) grey, the app's grey for them.
 */
export function heatmapPng(
  values: readonly number[],
  rows: number,
  cols: number,
  notCompared?: Uint8Array | null,
  notComparedRows?: Uint8Array | null,
): Buffer {
  let lo = Infinity;
  let hi = 0;
  for (const v of values)
    if (Number.isFinite(v) && v > 0) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  const a = Math.log10(lo);
  const span = Math.max(Math.log10(hi) - a, 1e-9);
  const rgb = new Uint8Array(rows * cols * 3);
  for (let i = 0; i < rows * cols; i++) {
    const v = values[i];
    let c: readonly [number, number, number];
    if ((notCompared && notCompared[i % cols]) || (notComparedRows && notComparedRows[(i / cols) | 0]))
      c = NOT_COMPARED_RGB;
    else if (!Number.isFinite(v)) c = [230, 0, 230];
    else if (v <= 0) c = [255, 255, 255];
    else {
      const t = Math.min(1, Math.max(0, (Math.log10(v) - a) / span)) * (STOPS.length - 1);
      const j = Math.min(STOPS.length - 2, Math.floor(t));
      const f = t - j;
      c = [0, 1, 2].map((k) => Math.round(STOPS[j][k] + f * (STOPS[j + 1][k] - STOPS[j][k]))) as [
        number,
        number,
        number,
      ];
    }
    rgb.set(c, i * 3);
  }
  return encodePng(cols, rows, rgb);
}
