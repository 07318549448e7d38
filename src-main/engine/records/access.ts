/**
 * The records as the app sees them: listing, opening by id, exporting one's report, comparing two
 * and exporting the comparison. EngineService answers its contract methods through these, over its own RecordStore;
 * records are named by id only (the schema's id pattern), so no path from a client reaches the
 * filesystem. Without a store (recording is off) the listing is empty and says why, and the rest
 * refuse with the same sentence.
 */
import type {
  CompareRequest,
  Comparison,
  ComparisonExportRequest,
  RecordListing,
  RecordReportRequest,
  ReportResult,
  RunRecordData,
} from '../../../src-shared/contract';
import { comparisonFileName, renderComparison } from '../report/compare-report';
import { recordReport } from '../report/record-report';
import { compareRecords } from './compare';
import type { RunRecord } from './schema';
import type { RecordStore } from './store';

export const RECORDING_OFF =
  'runs are not recorded by this engine (recording is off: QS_NO_RECORD=1 or --no-record)';

function need(store: RecordStore | null | undefined): RecordStore {
  if (!store) throw new Error(RECORDING_OFF);
  return store;
}

export function listRecordsIn(store: RecordStore | null | undefined): RecordListing {
  if (!store) return { recording: false, note: RECORDING_OFF, records: [], skipped: [] };
  const { records, skipped } = store.list();
  return {
    recording: true,
    records: records.map((r) => ({
      id: r.id,
      kind: r.kind,
      createdAt: r.createdAt,
      model: r.model,
      device: r.device,
      backend: r.backend,
      status: r.status,
      counts: r.counts,
    })),
    skipped,
  };
}

export function openRecordIn(store: RecordStore | null | undefined, id: string): RunRecordData {
  const rec: RunRecord = need(store).byId(id);
  return rec;
}

/** A saved run's report (../report/record-report.ts), by the record's id. */
export function exportRecordReportIn(
  store: RecordStore | null | undefined,
  req: RecordReportRequest,
): ReportResult {
  return recordReport(need(store).byId(req.id), req.format);
}

function pair(store: RecordStore | null | undefined, req: CompareRequest): [RunRecord, RunRecord] {
  const s = need(store);
  if (req.baseline === req.candidate) throw new Error('pick two different records to compare');
  return [s.byId(req.baseline), s.byId(req.candidate)];
}

export function compareRecordsIn(store: RecordStore | null | undefined, req: CompareRequest): Comparison {
  const [b, c] = pair(store, req);
  return compareRecords(b, c, req.speedTolerance);
}

export function exportComparisonIn(
  store: RecordStore | null | undefined,
  req: ComparisonExportRequest,
  now = new Date(),
): ReportResult {
  const [baseline, candidate] = pair(store, req);
  const input = {
    comparison: compareRecords(baseline, candidate, req.speedTolerance),
    baseline,
    candidate,
    createdAt: now.toISOString(),
  };
  return { fileName: comparisonFileName(input, req.format), content: renderComparison(input, req.format) };
}
