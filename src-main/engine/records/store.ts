/**
 * The record store: one JSON file per record in a folder, plus an index (`index.json`: one summary
 * line per record) so that listing thousands of records reads one small file.
 *
 * - Writes are atomic: the record goes to a temporary file in the same folder, is flushed to disk,
 *   then renamed into place; a crash or kill mid-write leaves at most a stray `.tmp-*` file, which
 *   listing ignores and the next write of the store removes once it is old.
 * - The index is a cache. It is rebuilt from the record files when it is missing, unreadable, or
 *   does not match the folder (a record added or deleted by hand); a damaged record file is reported
 *   in `skipped` and never stops a listing.
 * - Folder: `--records <dir>`, else QS_RECORDS_DIR, else `$XDG_CONFIG_HOME/quantscope/records`
 *   (`~/.config/quantscope/records`), which is also where the desktop app (Electron's userData) keeps them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NotFoundError, RECORD_ID_PATTERN } from '../../../src-shared/contract';
import { parseRecord, recordCounts, recordJson, type RunRecord } from './schema';

export interface RecordSummary {
  id: string;
  file: string;
  kind: RunRecord['kind'];
  createdAt: string;
  model: string | null;
  device: string | null;
  backend: string | null;
  status: string;
  counts: ReturnType<typeof recordCounts>;
  /** file size and mtime the summary was made from: a changed file is re-read */
  size: number;
  mtimeMs: number;
}

export interface Listing {
  records: RecordSummary[];
  /** files that could not be read as records, with the reason */
  skipped: { file: string; reason: string }[];
}

const INDEX = 'index.json';
const INDEX_VERSION = 1;
const STALE_TMP_MS = 60 * 60 * 1000;

export function defaultRecordsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QS_RECORDS_DIR) return env.QS_RECORDS_DIR;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'quantscope', 'records');
}

let lastIdMs = 0;

/**
 * A new record id: it starts with the UTC time to the millisecond, so ids sort by time, and
 * within one process each id's time is later than the one before (two runs in the same
 * millisecond still sort in the order they were made). The random tail keeps ids from
 * separate processes apart.
 */
export function newRecordId(kind: string, date = new Date()): string {
  const ms = Math.max(date.getTime(), lastIdMs + 1);
  lastIdMs = ms;
  const t = new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d+)Z$/, '$1Z');
  return `${t}-${kind}-${Math.random().toString(36).slice(2, 8)}`;
}

function cmpDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

function summarize(r: RunRecord, file: string, st: fs.Stats): RecordSummary {
  return {
    id: r.id,
    file,
    kind: r.kind,
    createdAt: r.createdAt,
    model: r.model?.fileName ?? null,
    device: r.device ? `${r.device.backend}:${r.device.index} ${r.device.name}` : null,
    backend: r.device?.backend ?? null,
    status: r.status,
    counts: recordCounts(r),
    size: st.size,
    mtimeMs: st.mtimeMs,
  };
}

/** Writes `data` to `file` atomically (temporary file in the same folder, fsync, rename). */
export function writeFileAtomic(file: string, data: string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${path.basename(file)}-${process.pid}-${Date.now()}`);
  const fd = fs.openSync(tmp, 'wx', 0o644);
  try {
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    // a full disk or a failed rename leaves no partial temporary behind
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export class RecordStore {
  constructor(readonly dir: string) {}

  /** Saves a record; returns its file path. The record must pass the schema. */
  save(record: RunRecord): string {
    parseRecord(record); // never store what could not be read back
    fs.mkdirSync(this.dir, { recursive: true });
    this.removeStaleTemporaries();
    const file = path.join(this.dir, `${record.id}.json`);
    if (fs.existsSync(file)) throw new Error(`record ${record.id} already exists in ${this.dir}`);
    writeFileAtomic(file, recordJson(record) + '\n');
    // keep the index current when it is; otherwise the next listing rebuilds it
    const idx = this.readIndex();
    if (idx) {
      const st = fs.statSync(file);
      idx.push(summarize(record, path.basename(file), st));
      this.writeIndex(idx);
    }
    return file;
  }

  /** Every record, newest first. Uses the index when it matches the folder, else rebuilds it. */
  list(): Listing {
    let names: string[];
    try {
      names = fs
        .readdirSync(this.dir)
        .filter((f) => f.endsWith('.json') && f !== INDEX && !f.startsWith('.'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: [] };
      throw new Error(`records folder ${this.dir}: ${(e as Error).message}`);
    }
    const cached = new Map((this.readIndex() ?? []).map((s) => [s.file, s]));
    const records: RecordSummary[] = [];
    const skipped: Listing['skipped'] = [];
    let changed = cached.size !== names.length;
    for (const name of names) {
      const full = path.join(this.dir, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(full);
      } catch {
        continue; // removed meanwhile
      }
      if (!st.isFile()) {
        skipped.push({ file: name, reason: 'not a regular file' });
        continue;
      }
      const hit = cached.get(name);
      if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) {
        records.push(hit);
        continue;
      }
      changed = true;
      try {
        records.push(summarize(this.readFile(full), name, st));
      } catch (e) {
        skipped.push({ file: name, reason: (e as Error).message });
      }
    }
    // newest first; records made in the same millisecond fall back to their ids, which sort by time
    records.sort((a, b) => cmpDesc(a.createdAt, b.createdAt) || cmpDesc(a.id, b.id));
    if (changed || skipped.length > 0) {
      try {
        this.writeIndex(records);
      } catch {
        // a read-only store still lists
      }
    }
    return { records, skipped };
  }

  /** A record by id, id prefix (unique), `latest`/`latest~N`, or file path. */
  load(ref: string): RunRecord {
    return this.readFile(this.locate(ref));
  }

  /**
   * The file load(ref) reads: a path as given; `latest` (the newest record) or `latest~N` (the N-th
   * before it, as the listing orders them: `compare latest~1 latest` compares the last two runs);
   * else the record of that id or unique id prefix.
   */
  locate(ref: string): string {
    if (ref.includes('/') || ref.endsWith('.json')) return ref;
    const back = /^latest(?:~(\d{1,6}))?$/.exec(ref);
    if (back) {
      const { records } = this.list();
      const n = Number(back[1] ?? 0);
      if (n >= records.length)
        throw new NotFoundError(
          records.length === 0
            ? `no records in ${this.dir}, so '${ref}' names none`
            : `'${ref}' names none: ${this.dir} holds ${records.length} record${records.length === 1 ? '' : 's'} (latest to latest~${records.length - 1})`,
        );
      return path.join(this.dir, records[n].file);
    }
    const exact = path.join(this.dir, `${ref}.json`);
    if (fs.existsSync(exact)) return exact;
    const matches = this.list().records.filter((r) => r.id.startsWith(ref));
    if (matches.length === 1) return path.join(this.dir, matches[0].file);
    if (matches.length === 0) throw new NotFoundError(`no record '${ref}' in ${this.dir}`);
    throw new Error(`'${ref}' matches ${matches.length} records: give more of the id`);
  }

  /**
   * A record by its exact id, read from this store's folder only: the id must match the schema's id
   * pattern, so no path reaches the filesystem (the app and the browser mode name records this way).
   */
  byId(id: string): RunRecord {
    if (!RECORD_ID_PATTERN.test(id)) throw new Error(`'${id.slice(0, 40)}' is not a record id`);
    const exact = path.join(this.dir, `${id}.json`);
    let rec: RunRecord | null = null;
    if (fs.existsSync(exact)) rec = this.readFile(exact);
    if (rec?.id === id) return rec;
    // a file renamed by hand: the listing knows which file holds the id
    const hit = this.list().records.find((r) => r.id === id);
    if (!hit) throw new NotFoundError(`no record '${id}' in the records folder`);
    return this.readFile(path.join(this.dir, hit.file));
  }

  readFile(file: string): RunRecord {
    let text: string;
    try {
      // a FIFO or a device named as a record would block or never end
      const st = fs.statSync(file);
      if (!st.isFile()) throw new Error(`${file} is not a regular file`);
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if (!(e as NodeJS.ErrnoException).code) throw e;
      throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error(`${path.basename(file)}: damaged (not valid JSON)`);
    }
    try {
      return parseRecord(raw);
    } catch (e) {
      throw new Error(`${path.basename(file)}: ${(e as Error).message}`);
    }
  }

  private readIndex(): RecordSummary[] | null {
    try {
      const raw = JSON.parse(fs.readFileSync(path.join(this.dir, INDEX), 'utf8')) as {
        version?: number;
        records?: RecordSummary[];
      };
      return raw.version === INDEX_VERSION && Array.isArray(raw.records) ? raw.records : null;
    } catch {
      return null;
    }
  }

  private writeIndex(records: RecordSummary[]): void {
    writeFileAtomic(path.join(this.dir, INDEX), JSON.stringify({ version: INDEX_VERSION, records }));
  }

  private removeStaleTemporaries(): void {
    const now = Date.now();
    for (const f of fs.readdirSync(this.dir)) {
      if (!f.startsWith('.tmp-')) continue;
      const full = path.join(this.dir, f);
      try {
        if (now - fs.statSync(full).mtimeMs > STALE_TMP_MS) fs.rmSync(full, { force: true });
      } catch {
        // gone already
      }
    }
  }
}
