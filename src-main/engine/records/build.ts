/**
 * Making a record from a finished run, and saving it where the user keeps them. Every face (the
 * engine service behind the app and the browser mode, and the CLI's verify, check, bench and selftest)
 * builds its record here, so records look the same whoever made them.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { GgufFile } from '../gguf';
import { APP_COMMIT, APP_VERSION } from '../version';
import { RECORD_SCHEMA, RECORD_VERSION, type RecordKind, type RecordResult, type RunRecord } from './schema';
import type { DeviceRunEntry } from '../../../src-shared/devices';
import { RecordStore, defaultRecordsDir, newRecordId } from './store';

const CHUNK = 16 << 20;

/**
 * sha256 over the tensors' names, types, shapes and bytes, in name order: the same value for the
 * same weights whatever the file is called or where the tensors sit in it. Streams 16 MiB at a time.
 */
export async function tensorsHash(file: GgufFile, names: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const name of [...new Set(names)].sort()) {
    const t = file.tensor(name);
    h.update(`${t.name}\u0000${t.typeName}\u0000${t.dims.join('x')}\u0000`);
    if (t.nbytes === 0) continue;
    const rb = t.nbytes / t.n;
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK / rb));
    for (let r = 0; r < t.n; r += rowsPerChunk)
      h.update(await file.readRows(t, r, Math.min(rowsPerChunk, t.n - r)));
  }
  return h.digest('hex');
}

export interface RecordDevice {
  backend: string;
  index: number;
  name: string;
  arch: string;
  peakBandwidthGBs?: number | null;
  copyBandwidthGBs?: number | null;
  details?: Record<string, string>;
}

export function buildRecord(args: {
  kind: RecordKind;
  createdAt?: Date;
  device: RecordDevice | null;
  model: { fileName: string; path?: string; fileSize: number; tensorsHash: string | null } | null;
  request: RunRecord['request'];
  status: string;
  error?: string;
  results: RecordResult[];
  /** a run over several devices: each device's part (docs/records.md) */
  devices?: readonly DeviceRunEntry[];
  extra?: Record<string, unknown>;
}): RunRecord {
  const created = args.createdAt ?? new Date();
  const d = args.device;
  return {
    schema: RECORD_SCHEMA,
    version: RECORD_VERSION,
    id: newRecordId(args.kind, created),
    kind: args.kind,
    createdAt: created.toISOString(),
    app: { version: APP_VERSION, commit: APP_COMMIT },
    host: {
      os: `${os.type()} ${os.release()} (${process.platform}-${process.arch})`,
      hostname: os.hostname(),
      node: process.version,
    },
    device: d
      ? {
          ...d,
          driverVersion: d.details?.driverVersion ?? null,
          runtimeVersion: d.details?.runtimeVersion ?? null,
        }
      : null,
    model: args.model,
    request: args.request,
    status: args.status,
    ...(args.error ? { error: args.error } : {}),
    results: args.results,
    ...(args.devices ? { devices: args.devices.map((d) => ({ ...d })) } : {}),
    ...args.extra,
  };
}

/** Where records go: the --records / QS_RECORDS_DIR / default folder, or nowhere with --no-record (QS_NO_RECORD=1). */
export function recordStoreFor(opts: { dir?: string; disabled?: boolean }): RecordStore | null {
  if (opts.disabled || process.env.QS_NO_RECORD === '1') return null;
  return new RecordStore(opts.dir ?? defaultRecordsDir());
}
