/**
 * The record options every run command shares (verify, check, bench, selftest): where the run's
 * record goes (`--records <dir>`, else QS_RECORDS_DIR, else the default folder), or nowhere
 * (`--no-record`, QS_NO_RECORD=1), and the one stderr line that says what happened to it.
 */
import fs from 'node:fs';
import { oneLine } from '../../../src-shared/contract';
import { recordStoreFor } from '../records/build';
import type { RunRecord } from '../records/schema';
import type { RecordStore } from '../records/store';
import { UsageError, stringOption, type CliContext, type OptionSpec } from './framework';
import { termSafe } from './term';

export const RECORD_OPTIONS: OptionSpec = {
  records: { type: 'string' },
  'no-record': { type: 'boolean' },
};

export const RECORD_HELP = `  --records    the folder the run's record is saved in (default: $QS_RECORDS_DIR or
               ~/.config/quantscope/records);  --no-record  do not save one (docs/records.md)`;

/**
 * The store the run's record goes to, or null when recording is off. A folder named by --records (or
 * QS_RECORDS_DIR) is checked (and made if missing) before any work: one that cannot hold records is
 * bad input, not a note after the run.
 */
export function recordStoreOption(values: CliContext['values']): RecordStore | null {
  const dir = stringOption(values, 'records');
  const store = recordStoreFor({ dir, disabled: Boolean(values['no-record']) });
  if (store && dir !== undefined) checkRecordsFolder(store, `--records ${dir}`);
  // a folder the environment names is checked the same way; the default one is left to the save
  else if (store && process.env.QS_RECORDS_DIR)
    checkRecordsFolder(store, `QS_RECORDS_DIR ${process.env.QS_RECORDS_DIR}`);
  return store;
}

/** A usage error naming `what` unless the store's folder exists (made if missing) and is writable. */
export function checkRecordsFolder(store: RecordStore, what: string): void {
  try {
    fs.mkdirSync(store.dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'EEXIST' || code === 'ENOTDIR'
        ? `${what}: not a folder`
        : `${what}: cannot make the folder (${code ?? oneLine(e)})`,
    );
  }
  const st = fs.statSync(store.dir);
  if (!st.isDirectory()) throw new UsageError(`${what}: not a folder`);
  try {
    fs.accessSync(store.dir, fs.constants.W_OK);
  } catch {
    throw new UsageError(`${what}: the folder is not writable`);
  }
}

/**
 * Builds and saves the run's record. A record that cannot be made or saved is reported on stderr and
 * never changes the command's exit code: the run itself is the result.
 */
export async function saveRunRecord(
  ctx: Pick<CliContext, 'stderr'>,
  store: RecordStore | null,
  make: () => RunRecord | Promise<RunRecord>,
): Promise<string | null> {
  if (!store) return null;
  try {
    const file = store.save(await make());
    ctx.stderr.write(`record saved: ${termSafe(file)}\n`);
    return file;
  } catch (e) {
    ctx.stderr.write(`record not saved: ${termSafe(oneLine(e))}\n`);
    return null;
  }
}
