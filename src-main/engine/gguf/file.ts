/**
 * GgufFile: opens a GGUF model from local disk reading only its header (a 1 MiB prefix, grown geometrically
 * while the parser asks for more), then reads tensors on demand in chunks of at most 1 GiB. Positions are
 * plain numbers (exact up to 2^53), so files far past 4 GiB work. A split model (several files,
 * ./split.ts) opens as one. Node only (node:fs).
 */
import { constants as FS, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { oneLine } from '../../../src-shared/contract';
import { parseGgufHeader } from './parse';
import { SPLIT_TENSORS, splitKeys, splitPaths } from './split';
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

/** One file of a model: its path, its own header (its tensors' offsets point into it) and handle. */
export interface GgufShard {
  readonly path: string;
  readonly header: GgufHeader;
}

export interface GgufOpenOptions {
  /**
   * Called with the path of each further file of a split model before it is opened; throws (a
   * one-line error) to refuse it, as a server that may open only some folders does.
   */
  checkShard?: (path: string) => Promise<void>;
}

/** Opens one file and parses its header (a prefix, grown while the parser asks for more). */
async function openOne(path: string): Promise<{ fh: FileHandle; header: GgufHeader }> {
  const fh = await openRegularFile(path);
  try {
    const fileSize = (await fh.stat()).size;
    let buf = new Uint8Array(Math.min(FIRST_READ, fileSize));
    await readFully(fh, buf, 0, path);
    for (;;) {
      try {
        return { fh, header: parseGgufHeader(buf, fileSize) };
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

/**
 * The model of one GGUF file, or of every file of a split model (./split.ts) as one: `header` is then
 * the first file's header (its metadata, version and alignment) with the tensors of all files in file
 * order, numbered from 0 across them, each naming its file (`shard`), and `fileSize` the files' total.
 */
export class GgufFile {
  private fhs: (FileHandle | null)[];
  /** built on the first lookup: listing a million tensors never needs it */
  private byNameMap: Map<string, GgufTensorInfo> | null = null;

  private constructor(
    /** the model's path: its only file, or the first file of a split model */
    readonly path: string,
    readonly header: GgufHeader,
    /** the model's files, in order (one for a model in one file) */
    readonly shards: readonly GgufShard[],
    fhs: FileHandle[],
  ) {
    this.fhs = fhs;
  }

  /**
   * Open and validate; reads only the headers. Throws GgufError for a malformed file. Any file of a
   * split model opens the whole model, each further file checked as the first is, and the set as a
   * whole: every file present and in its place, one count of files, no tensor in two files, and the
   * tensor total the files declare.
   */
  static async open(path: string, opts: GgufOpenOptions = {}): Promise<GgufFile> {
    const first = await openOne(path);
    const fhs: FileHandle[] = [first.fh];
    try {
      const keys = splitKeys(first.header, basename(path));
      if (!keys) return new GgufFile(path, first.header, [{ path, header: first.header }], fhs);
      const paths = splitPaths(path, keys);
      const shards: GgufShard[] = [];
      const handles: FileHandle[] = [];
      for (let i = 0; i < paths.length; i++) {
        const p = paths[i];
        let one: { fh: FileHandle; header: GgufHeader };
        if (i === keys.no) {
          one = first;
        } else {
          await opts.checkShard?.(p);
          try {
            one = await openOne(p);
          } catch (e) {
            throw new Error(`file ${i + 1} of ${keys.count} of this split model: ${oneLine(e)}`);
          }
          fhs.push(one.fh);
        }
        handles.push(one.fh);
        shards.push({ path: p, header: one.header });
        const k = splitKeys(one.header, basename(p));
        if (!k || k.count !== keys.count || k.no !== i)
          throw new Error(
            `${basename(p)}: its split keys (${k ? `file ${k.no + 1} of ${k.count}` : 'none'}) do not make it file ${i + 1} of ${keys.count} of ${basename(paths[0])}'s model`,
          );
      }
      return new GgufFile(paths[0], mergeShards(shards, keys.tensors), shards, handles);
    } catch (e) {
      for (const fh of fhs) await fh.close().catch(() => undefined);
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

  private handle(shard: number): FileHandle {
    const fh = this.fhs[shard];
    if (!fh) throw new Error(`${this.path} is closed`);
    return fh;
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
    const fh = this.handle(info.shard);
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
    const fh = this.handle(info.shard);
    const dst = new Uint8Array(rowCount * rb);
    await readFully(fh, dst, info.offset + rowStart * rb, `tensor ${quote(info.name)}`);
    return dst;
  }

  /**
   * Bytes [position, position + length) of the model's file `shard` (inside it; the only file of a
   * model in one file), e.g. a run of adjacent tensors.
   */
  async readBytes(position: number, length: number, shard = 0): Promise<Uint8Array> {
    const s = this.shards[shard];
    if (!s) throw new Error(`file ${shard + 1} is not one of the model's ${this.shards.length} files`);
    const size = s.header.fileSize;
    if (
      !Number.isSafeInteger(position) ||
      !Number.isSafeInteger(length) ||
      position < 0 ||
      length < 0 ||
      position + length > size
    )
      throw new Error(`bytes [${position}, ${position + length}) are outside the file (${size} bytes)`);
    const dst = new Uint8Array(length);
    await readFully(this.handle(shard), dst, position, `bytes at ${position}`);
    return dst;
  }

  async close(): Promise<void> {
    const fhs = this.fhs;
    this.fhs = fhs.map(() => null);
    for (const fh of fhs) if (fh) await fh.close();
  }
}

/**
 * One header for the files of a split model: the first file's, with the tensors of all files (their
 * index counted across files, their `shard` set), the files' total size and every file's warnings.
 */
function mergeShards(shards: readonly GgufShard[], declaredTensors: number | null): GgufHeader {
  const names = new Map<string, number>();
  const tensors: GgufTensorInfo[] = [];
  const warnings: string[] = [];
  let fileSize = 0;
  shards.forEach((s, i) => {
    fileSize += s.header.fileSize;
    for (const w of s.header.warnings) warnings.push(i === 0 ? w : `${basename(s.path)}: ${w}`);
    for (const t of s.header.tensors) {
      const other = names.get(t.name);
      if (other !== undefined)
        throw new Error(
          `tensor ${quote(t.name)} is in both ${basename(shards[other].path)} and ${basename(s.path)}`,
        );
      names.set(t.name, i);
      tensors.push({ ...t, index: tensors.length, shard: i });
    }
  });
  if (declaredTensors !== null && declaredTensors !== tensors.length)
    throw new Error(
      `${basename(shards[0].path)}: ${SPLIT_TENSORS} is ${declaredTensors}, but the ${shards.length} files hold ${tensors.length} tensors`,
    );
  const h = shards[0].header;
  return { ...h, tensorCount: tensors.length, tensors, fileSize, warnings };
}

export function openGguf(path: string, opts?: GgufOpenOptions): Promise<GgufFile> {
  return GgufFile.open(path, opts);
}
