/**
 * GgufFile: opens a GGUF file from local disk reading only its header (a 1 MiB prefix, grown geometrically
 * while the parser asks for more), then reads tensors on demand in chunks of at most 1 GiB. Positions are
 * plain numbers (exact up to 2^53), so files far past 4 GiB work. Node only (node:fs).
 */
import { constants as FS, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { parseGgufHeader } from './parse';
import { GgufError, GgufNeedMoreError, quote, type GgufHeader, type GgufTensorInfo } from './types';

const FIRST_READ = 1 << 20;
const CHUNK = 1 << 30;

async function readFully(fh: FileHandle, dst: Uint8Array, position: number, what: string): Promise<void> {
  let done = 0;
  while (done < dst.length) {
    const len = Math.min(CHUNK, dst.length - done);
    const { bytesRead } = await fh.read(dst, done, len, position + done);
    if (bytesRead === 0) {
      throw new Error(
        `${what}: file ended at byte ${position + done} (expected ${dst.length - done} more bytes)`,
      );
    }
    done += bytesRead;
  }
}

/** What a non-regular path is, for the one-line refusal. */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Opens path for reading only if it is a regular file. stat (no open) refuses FIFOs, devices,
 * sockets and directories, whose open can block forever (a FIFO without a writer holds one of
 * Node's few file threads); the open itself is non-blocking, and fstat on the handle confirms the
 * same regular file, so a swap between stat and open is caught too.
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const err: NodeJS.ErrnoException = new Error(
      code === 'ENOENT'
        ? `${path}: no such file (ENOENT)`
        : `${path}: cannot read (${code ?? (e as Error).message})`,
    );
    err.code = code;
    throw err;
  }
  if (!st.isFile()) throw new Error(`${path} is ${fileKind(st)}, not a regular file`);
  let fh: FileHandle;
  try {
    fh = await open(path, FS.O_RDONLY | FS.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot open (${code ?? (e as Error).message})`);
  }
  try {
    const st2 = await fh.stat();
    if (!st2.isFile()) throw new Error(`${path} is ${fileKind(st2)}, not a regular file`);
    if (st2.dev !== st.dev || st2.ino !== st.ino)
      throw new Error(`${path} changed while it was being opened`);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
  return fh;
}

/** A file of another size than a reader needs (readRegularFile's expectBytes). */
export class FileSizeError extends Error {
  constructor(
    readonly path: string,
    readonly size: number,
    readonly expected: number,
  ) {
    super(`${path} has ${size} bytes; ${expected} are needed`);
    this.name = 'FileSizeError';
  }
}

/**
 * The whole of a regular file (openRegularFile's checks: never a device, FIFO or folder, whose read
 * could block or never end). With `expectBytes`, a file of another size is refused before reading.
 */
export async function readRegularFile(path: string, expectBytes?: number): Promise<Buffer> {
  const fh = await openRegularFile(path);
  try {
    if (expectBytes !== undefined) {
      const { size } = await fh.stat();
      if (size !== expectBytes) throw new FileSizeError(path, size, expectBytes);
    }
    return await fh.readFile();
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Tensors of at least this size are read into a SharedArrayBuffer (readTensor). */
export const SHARED_TENSOR_BYTES = 64 << 20;

export class GgufFile {
  private fh: FileHandle | null;
  /** built on the first lookup: listing a million tensors never needs it */
  private byNameMap: Map<string, GgufTensorInfo> | null = null;

  private constructor(
    readonly path: string,
    readonly header: GgufHeader,
    fh: FileHandle,
  ) {
    this.fh = fh;
  }

  /** Open and validate; reads only the header. Throws GgufError for a malformed file. */
  static async open(path: string): Promise<GgufFile> {
    const fh = await openRegularFile(path);
    try {
      const fileSize = (await fh.stat()).size;
      let buf = new Uint8Array(Math.min(FIRST_READ, fileSize));
      await readFully(fh, buf, 0, path);
      for (;;) {
        try {
          const header = parseGgufHeader(buf, fileSize);
          return new GgufFile(path, header, fh);
        } catch (e) {
          if (!(e instanceof GgufNeedMoreError)) throw e;
          // Each retry parses from the start: growing by 8 keeps the total parsed within about 1.15
          // times the header (doubling re-parsed a 60 MB header about twice over).
          const size = Math.min(fileSize, Math.max(e.needed, buf.length * 8));
          if (size <= buf.length)
            throw new GgufError('header', buf.length, 'parser asked for bytes past the end');
          const next = new Uint8Array(size);
          next.set(buf);
          await readFully(fh, next.subarray(buf.length), buf.length, path);
          buf = next;
        }
      }
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  private get byName(): Map<string, GgufTensorInfo> {
    if (!this.byNameMap) {
      const m = new Map<string, GgufTensorInfo>();
      for (const t of this.header.tensors) m.set(t.name, t);
      this.byNameMap = m;
    }
    return this.byNameMap;
  }

  /** The tensor called name; a one-line error naming it if absent. */
  tensor(name: string): GgufTensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new Error(`tensor ${quote(name)} is not in ${this.path}`);
    return t;
  }

  /** The tensor called name, or undefined (an indexed lookup: linear in the names asked for). */
  find(name: string): GgufTensorInfo | undefined {
    return this.byName.get(name);
  }

  private handle(): FileHandle {
    if (!this.fh) throw new Error(`${this.path} is closed`);
    return this.fh;
  }

  private resolve(t: GgufTensorInfo | string): GgufTensorInfo {
    const info = typeof t === 'string' ? this.tensor(t) : t;
    if (info.nbytes === 0) {
      throw new Error(
        `tensor ${quote(info.name)}: ${info.unsupportedReason ?? 'size unknown'}; cannot read its data`,
      );
    }
    return info;
  }

  /** All bytes of a tensor (exactly nbytes). */
  async readTensor(t: GgufTensorInfo | string): Promise<Uint8Array> {
    const info = this.resolve(t);
    const fh = this.handle();
    let dst: Uint8Array;
    try {
      // a large tensor is read into shared memory, so the worker threads compute on it in place
      // (no copy per chunk posted to them)
      dst =
        info.nbytes >= SHARED_TENSOR_BYTES
          ? new Uint8Array(new SharedArrayBuffer(info.nbytes))
          : new Uint8Array(info.nbytes);
    } catch {
      throw new Error(
        `tensor ${quote(info.name)}: ${info.nbytes} bytes cannot be allocated at once; use readRows`,
      );
    }
    await readFully(fh, dst, info.offset, `tensor ${quote(info.name)}`);
    return dst;
  }

  /** Rows [rowStart, rowStart + rowCount) of the tensor's 2-D view (k columns x n rows). */
  async readRows(t: GgufTensorInfo | string, rowStart: number, rowCount: number): Promise<Uint8Array> {
    const info = this.resolve(t);
    if (
      !Number.isSafeInteger(rowStart) ||
      !Number.isSafeInteger(rowCount) ||
      rowStart < 0 ||
      rowCount < 0 ||
      rowStart + rowCount > info.n
    ) {
      throw new Error(
        `tensor ${quote(info.name)}: rows [${rowStart}, ${rowStart + rowCount}) are outside 0..${info.n}`,
      );
    }
    const rb = info.nbytes / info.n;
    const fh = this.handle();
    const dst = new Uint8Array(rowCount * rb);
    await readFully(fh, dst, info.offset + rowStart * rb, `tensor ${quote(info.name)}`);
    return dst;
  }

  /** Bytes [position, position + length) of the file (inside it), e.g. a run of adjacent tensors. */
  async readBytes(position: number, length: number): Promise<Uint8Array> {
    const size = this.header.fileSize;
    if (
      !Number.isSafeInteger(position) ||
      !Number.isSafeInteger(length) ||
      position < 0 ||
      length < 0 ||
      position + length > size
    )
      throw new Error(`bytes [${position}, ${position + length}) are outside the file (${size} bytes)`);
    const dst = new Uint8Array(length);
    await readFully(this.handle(), dst, position, `bytes at ${position}`);
    return dst;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }
}

export function openGguf(path: string): Promise<GgufFile> {
  return GgufFile.open(path);
}
