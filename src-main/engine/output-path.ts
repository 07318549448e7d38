/**
 * Output files of the CLI: every path is checked before any work starts, and written through a
 * temporary file in the same folder that is renamed into place at the end (atomic: a failed or
 * interrupted command leaves the old file, or nothing, never half a file).
 *
 * Refused, with a one-line error naming the option: a missing parent folder, a folder that cannot
 * be written, a directory, anything that is not a regular file (a device such as /dev/full, a FIFO,
 * a socket), the same file as one of the command's inputs (by real path, and by device and inode so
 * hard links count), two outputs naming one file, and an existing model (a .gguf name or a file
 * starting with the GGUF magic) unless --force is given. Creating the temporary file up front also
 * proves that the folder accepts writes (read-only mounts, full quotas on open).
 */
import { constants as C } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeChunks } from './json-stream';

/** A bad output path: the CLI shows the message as a usage error (exit 2). */
export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

export interface OutputSpec {
  /** how the user named it, for messages: "--out", "--json" */
  option: string;
  path: string;
}

export interface OutputCheckOptions {
  /** files the command reads; an output may never be one of them */
  inputs?: string[];
  /** allow replacing an existing model file */
  force?: boolean;
}

export interface PlannedOutput {
  readonly option: string;
  /** the path the user gave */
  readonly path: string;
  /** where the data goes until commit() */
  readonly tempPath: string;
  /** the open temporary file */
  readonly handle: FileHandle;
  /** close the temporary file and rename it onto the final path */
  commit(): Promise<void>;
  /** close and remove the temporary file (safe to call after commit or twice) */
  discard(): Promise<void>;
}

interface FileId {
  real: string;
  dev: number;
  ino: number;
}

async function idOf(p: string): Promise<FileId | null> {
  try {
    const st = await fs.stat(p);
    return { real: await fs.realpath(p), dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

async function startsWithGgufMagic(p: string): Promise<boolean> {
  // The caller has checked that p is a regular file, so this open cannot block.
  const fh = await fs.open(p, C.O_RDONLY | C.O_NONBLOCK).catch(() => null);
  if (!fh) return false;
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b.toString('latin1') === 'GGUF';
  } finally {
    await fh.close();
  }
}

/** Checks one output path; returns the file it will finally replace (its real path when it exists). */
async function checkOne(spec: OutputSpec, inputs: FileId[], force: boolean): Promise<string> {
  const { option, path: p } = spec;
  if (!p) throw new OutputPathError(`${option}: empty path`);
  const abs = path.resolve(p);
  let st: Awaited<ReturnType<typeof fs.stat>> | null = null;
  try {
    st = await fs.stat(abs);
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw new OutputPathError(`${option} ${p}: ${errCode(e)}`);
  }
  let final = abs;
  if (st) {
    if (st.isDirectory()) throw new OutputPathError(`${option} ${p} is a directory; name a file`);
    if (!st.isFile())
      throw new OutputPathError(`${option} ${p} is not a regular file (a device, FIFO or socket)`);
    final = await fs.realpath(abs);
    for (const inp of inputs) {
      if (inp.real === final || (inp.dev === st.dev && inp.ino === st.ino))
        throw new OutputPathError(`${option} ${p} is the input file ${inp.real}; choose another path`);
    }
    if (!force && (/\.gguf$/i.test(final) || (await startsWithGgufMagic(final))))
      throw new OutputPathError(`${option} ${p} is an existing model file; pass --force to replace it`);
  }
  const dir = path.dirname(final);
  let dst;
  try {
    dst = await fs.stat(dir);
  } catch (e) {
    throw new OutputPathError(`${option} ${p}: folder ${dir} does not exist (${errCode(e)})`);
  }
  if (!dst.isDirectory()) throw new OutputPathError(`${option} ${p}: ${dir} is not a folder`);
  try {
    await fs.access(dir, C.W_OK);
  } catch {
    throw new OutputPathError(`${option} ${p}: folder ${dir} is not writable`);
  }
  return final;
}

/** An output path that passed the checks; `final` is the file it will replace or create. */
export interface CheckedOutput {
  readonly option: string;
  readonly path: string;
  readonly final: string;
}

/** Checks every output path (see the module comment); a one-line OutputPathError for the first bad one. */
export async function checkOutputs(
  specs: OutputSpec[],
  opts: OutputCheckOptions = {},
): Promise<CheckedOutput[]> {
  const inputs = (await Promise.all((opts.inputs ?? []).map(idOf))).filter((x): x is FileId => !!x);
  const checked: CheckedOutput[] = [];
  for (const s of specs) {
    const final = await checkOne(s, inputs, Boolean(opts.force));
    const dup = checked.find((c) => c.final === final);
    if (dup) throw new OutputPathError(`${s.option} ${s.path} names the same file as ${dup.option}`);
    checked.push({ option: s.option, path: s.path, final });
  }
  return checked;
}

/**
 * Checks every output before work starts and opens a temporary file for each. On any failure the
 * temporaries already made are removed and a one-line OutputPathError is thrown.
 */
export async function planOutputs(
  specs: OutputSpec[],
  opts: OutputCheckOptions = {},
): Promise<PlannedOutput[]> {
  const checked = await checkOutputs(specs, opts);
  const planned: PlannedOutput[] = [];
  try {
    for (const c of checked) planned.push(await openOutput(c));
  } catch (e) {
    await Promise.all(planned.map((o) => o.discard()));
    throw e;
  }
  return planned;
}

/** planOutputs for one path. */
export async function planOutput(spec: OutputSpec, opts: OutputCheckOptions = {}): Promise<PlannedOutput> {
  return (await planOutputs([spec], opts))[0];
}

/**
 * Writes text pieces to a checked output through a temporary file renamed into place, in writes of
 * about 1 MB: a report of a million rows is never one string.
 */
export async function writeOutputChunks(out: CheckedOutput, chunks: Iterable<string>): Promise<void> {
  const o = await openOutput(out);
  try {
    await writeNamed(out.option, out.path, async () => {
      const sink = handleSink(o);
      await writeChunks(sink, chunks);
      await sink.flush();
      await o.commit();
    });
  } finally {
    await o.discard();
  }
}

/** Writes data to a checked output through a temporary file renamed into place. */
export async function writeOutputAtomic(out: CheckedOutput, data: string | Uint8Array): Promise<void> {
  const o = await openOutput(out);
  try {
    await writeNamed(out.option, out.path, async () => {
      await writeAll(o.handle, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      await o.commit();
    });
  } finally {
    await o.discard();
  }
}

/**
 * Runs a write to an output; a file-system error (a full disk, a quota, an I/O error) is rethrown as
 * one line that names the option and the path, which the bare errno message does not.
 */
export async function writeNamed<T>(option: string, p: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
      throw new Error(`${option} ${p}: cannot write (${code}: ${errnoText(e as Error)})`);
    throw e;
  }
}

function errnoText(e: Error): string {
  // "ENOSPC: no space left on device, write" -> "no space left on device"
  return e.message.replace(/^E[A-Z]+:\s*/, '').replace(/,\s*\w+(\s.*)?$/, '');
}

/** Opens the temporary file of a checked output. */
export async function openOutput(c: CheckedOutput): Promise<PlannedOutput> {
  return openTemp({ option: c.option, path: c.path }, c.final);
}

async function openTemp(spec: OutputSpec, final: string): Promise<PlannedOutput> {
  const dir = path.dirname(final);
  const tempPath = path.join(
    dir,
    `.${path.basename(final)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  let handle: FileHandle;
  try {
    handle = await fs.open(tempPath, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o644);
  } catch (e) {
    throw new OutputPathError(`${spec.option} ${spec.path}: cannot create a file in ${dir} (${errCode(e)})`);
  }
  let closed = false;
  let done = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    option: spec.option,
    path: spec.path,
    tempPath,
    handle,
    async commit() {
      if (done) throw new Error(`${spec.option} ${spec.path}: already written`);
      await handle.sync().catch(() => undefined);
      await close();
      try {
        await fs.rename(tempPath, final);
      } catch (e) {
        await fs.unlink(tempPath).catch(() => undefined);
        throw new Error(`${spec.option} ${spec.path}: cannot move the output into place (${errCode(e)})`);
      }
      done = true;
    },
    async discard() {
      await close().catch(() => undefined);
      if (!done) {
        done = true;
        await fs.unlink(tempPath).catch(() => undefined);
      }
    },
  };
}

/** Writes all of data at the handle's position (a short write, as on a full disk, continues or fails). */
export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done);
    if (bytesWritten === 0)
      throw Object.assign(new Error('the file accepts no more bytes (disk full?)'), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

/** A Writable-like sink over a planned output, for streamed JSON (write + drain). */
export function handleSink(out: PlannedOutput): {
  write(chunk: string): boolean;
  once(event: 'drain', cb: () => void): unknown;
  flush(): Promise<void>;
} {
  let pending: Promise<unknown> = Promise.resolve();
  let error: unknown = null;
  let queued = 0;
  const waiters: (() => void)[] = [];
  return {
    write(chunk: string) {
      const data = Buffer.from(chunk, 'utf8');
      queued += data.length;
      pending = pending.then(async () => {
        if (error) return;
        try {
          await writeAll(out.handle, data);
        } catch (e) {
          error = e;
        }
        queued -= data.length;
        if (queued < 4 << 20) while (waiters.length) waiters.shift()!();
      });
      return queued < 4 << 20;
    },
    once(_event: 'drain', cb: () => void) {
      waiters.push(cb);
      return this;
    },
    async flush() {
      await pending;
      if (error) throw new Error(`${out.option} ${out.path}: write failed (${errCode(error)})`);
    },
  };
}
