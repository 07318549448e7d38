/**
 * Results kept on disk while a long run goes on: one JSON line each in a private temporary file,
 * read back one at a time, as often as a report needs. A verify of a million tensors writes its
 * `--json` and `--report` from here, so neither the results nor the report ever exist whole in
 * memory. Numbers that JSON cannot carry (an NMSE of NaN or infinity) are kept as `{"$nf":"NaN"}`
 * and read back as numbers, so a report from the spool prints what one from memory prints.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TensorResult } from '../../../src-shared/contract';
import { ResultStatsBuilder, type ResultStats } from './report';

const READ_CHUNK = 1 << 20;
const WRITE_CHUNK = 1 << 20;
const NON_FINITE_TAG = '{"$nf":';

function encode(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? { $nf: String(v) } : v;
}

function decode(_k: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const nf = (v as { $nf?: unknown }).$nf;
    if (typeof nf === 'string' && Object.keys(v).length === 1) return Number(nf);
  }
  return v;
}

export class ResultSpool implements Iterable<TensorResult> {
  private readonly builder = new ResultStatsBuilder();
  private size = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly fd: number,
  ) {}

  /** A new, empty spool in a private folder under the system's temporary folder. */
  static create(): ResultSpool {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quantscope-results-'));
    try {
      const fd = fs.openSync(path.join(dir, 'results.jsonl'), 'wx+', 0o600);
      return new ResultSpool(dir, fd);
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Counts, timing and diagnoses of everything appended so far. */
  get stats(): ResultStats {
    return this.builder.stats;
  }

  get count(): number {
    return this.builder.stats.counts.total;
  }

  append(results: Iterable<TensorResult>): void {
    let buf: string[] = [];
    let len = 0;
    const flush = () => {
      const data = Buffer.from(buf.join(''), 'utf8');
      let done = 0;
      while (done < data.length)
        done += fs.writeSync(this.fd, data, done, data.length - done, this.size + done);
      this.size += data.length;
      buf = [];
      len = 0;
    };
    for (const r of results) {
      this.builder.add(r);
      const line = JSON.stringify(r, encode) + '\n';
      buf.push(line);
      len += line.length;
      if (len >= WRITE_CHUNK) flush();
    }
    if (len > 0) flush();
  }

  /** The results in the order they were appended (each pass reads the file again). */
  *[Symbol.iterator](): Iterator<TensorResult> {
    if (this.closed) throw new Error('the results spool is closed');
    const chunk = Buffer.alloc(READ_CHUNK);
    let rest: Buffer = Buffer.alloc(0);
    let pos = 0;
    while (pos < this.size) {
      const n = fs.readSync(this.fd, chunk, 0, Math.min(READ_CHUNK, this.size - pos), pos);
      if (n === 0) throw new Error('the results spool ended early');
      pos += n;
      const data = rest.length > 0 ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const end = data.lastIndexOf(0x0a);
      if (end < 0) {
        rest = Buffer.from(data);
        continue;
      }
      // whole lines only: a character split between two reads is decoded with its line
      const lines = data.toString('utf8', 0, end).split('\n');
      rest = Buffer.from(data.subarray(end + 1));
      for (const l of lines)
        yield (l.includes(NON_FINITE_TAG) ? JSON.parse(l, decode) : JSON.parse(l)) as TensorResult;
    }
  }

  /** Removes the file and its folder. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.fd);
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
