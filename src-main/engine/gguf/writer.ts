/**
 * Streaming GGUF v3 writer for files too big to hold in memory (make-model writes 5 GB files): the header
 * goes out first, then tensor data in tensor order (any number of chunks per tensor), each tensor padded
 * to the alignment. The output is byte-identical to encodeGguf's. Node only (node:fs).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { encodeGgufHeader, type EncodedHeader, type MetaInput, type TensorInput } from './encode';
import { quote } from './types';

export class GgufWriter {
  private fh: FileHandle | null;
  private current = 0;
  private written = 0;
  private position: number;
  private failed: Error | null = null;

  private constructor(
    readonly path: string,
    readonly layout: EncodedHeader,
    fh: FileHandle,
  ) {
    this.fh = fh;
    this.position = layout.dataStart;
  }

  static async create(
    path: string,
    opts: { metadata: MetaInput[]; tensors: TensorInput[]; alignment?: number },
  ): Promise<GgufWriter> {
    const layout = encodeGgufHeader(opts);
    const fh = await open(path, 'w');
    try {
      await writeAll(fh, layout.bytes, 0);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    const w = new GgufWriter(path, layout, fh);
    await w.skipEmpty();
    return w;
  }

  /** Append data to tensor `name`; tensors must be written in order, each with exactly its nbytes. */
  async writeTensorData(name: string, chunk: Uint8Array): Promise<void> {
    if (!this.fh) throw new Error(`${this.path}: writer is closed`);
    if (this.failed) throw this.failed;
    const tensors = this.layout.tensors;
    const t = tensors[this.current];
    if (!t) throw new Error(`${this.path}: tensor ${quote(name)}: every tensor is already complete`);
    if (t.name !== name) {
      const fail = new Error(`${this.path}: expected data for tensor ${quote(t.name)}, got ${quote(name)}`);
      throw fail;
    }
    if (this.written + chunk.length > t.nbytes) {
      throw new Error(
        `${this.path}: tensor ${quote(name)}: ${this.written + chunk.length} bytes written, expected ${t.nbytes}`,
      );
    }
    try {
      await writeAll(this.fh, chunk, this.position);
    } catch (e) {
      this.failed = e as Error;
      throw e;
    }
    this.position += chunk.length;
    this.written += chunk.length;
    if (this.written === t.nbytes) await this.finishTensor();
  }

  private async finishTensor(): Promise<void> {
    const pad = (this.layout.alignment - (this.position % this.layout.alignment)) % this.layout.alignment;
    if (pad > 0) {
      await writeAll(this.fh!, new Uint8Array(pad), this.position);
      this.position += pad;
    }
    this.current++;
    this.written = 0;
    await this.skipEmpty();
  }

  /** tensors always have >= 1 element, but keep the state machine honest */
  private async skipEmpty(): Promise<void> {
    while (this.current < this.layout.tensors.length && this.layout.tensors[this.current].nbytes === 0) {
      this.current++;
    }
  }

  /** Close the file; throws if any tensor did not get exactly its nbytes. */
  async close(): Promise<void> {
    const fh = this.fh;
    if (!fh) return;
    this.fh = null;
    await fh.close();
    if (this.failed) throw this.failed;
    const t = this.layout.tensors[this.current];
    if (t) {
      const missing = this.layout.tensors.length - this.current;
      throw new Error(
        `${this.path}: incomplete: tensor ${quote(t.name)} got ${this.written} of ${t.nbytes} bytes` +
          (missing > 1 ? ` and ${missing - 1} later tensor(s) got none` : ''),
      );
    }
    if (this.position !== this.layout.fileSize) {
      throw new Error(`${this.path}: wrote ${this.position} bytes, expected ${this.layout.fileSize}`);
    }
  }
}

async function writeAll(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(
      data,
      done,
      Math.min(data.length - done, 1 << 30),
      position + done,
    );
    if (bytesWritten === 0) throw new Error('write made no progress');
    done += bytesWritten;
  }
}
