import { describe, it, expect } from 'vitest';
import { createAppStore } from '../../src-renderer/src/store';
import type { QuantScopeClient } from '../../src-renderer/src/api';
import type { UploadOptions } from '../../src-shared/contract';
import { PROGRESS_EVERY_MS } from '../../src-renderer/src/lib/upload';
import { FakeApi, fakeModel } from './fakeApi';

/**
 * A client whose uploadModel works like the browser client's: the files go one after another, each
 * reporting its bytes as they go; an abort of the signal rejects the file in flight with an
 * AbortError and sends no other. Files pass at once, or, after holdNext(), each waits for the test:
 * progress(n) reports n bytes of the file in flight, finishFile() lets it through, failFile(msg)
 * refuses it as the server would.
 */
function uploadingClient(api: FakeApi) {
  const sent: string[][] = [];
  /** the files whose request started, in order */
  const started: string[] = [];
  let held = false;
  let current: {
    report: (n: number) => void;
    resolve: () => void;
    reject: (e: Error) => void;
  } | null = null;
  const abortError = () => new DOMException('the upload was cancelled', 'AbortError');
  const client = Object.assign(api, {
    uploadModel: async (files: readonly File[], opts: UploadOptions = {}) => {
      sent.push(files.map((f) => `${f.name}:${f.size}`));
      const total = files.reduce((n, f) => n + f.size, 0);
      let done = 0;
      for (const f of files) {
        if (opts.signal?.aborted) throw abortError();
        started.push(f.name);
        if (held)
          await new Promise<void>((resolve, reject) => {
            const onAbort = () => reject(abortError());
            opts.signal?.addEventListener('abort', onAbort, { once: true });
            current = {
              report: (n) => opts.onProgress?.(done + n, total),
              resolve: () => {
                opts.signal?.removeEventListener('abort', onAbort);
                resolve();
              },
              reject: (e) => {
                opts.signal?.removeEventListener('abort', onAbort);
                reject(e);
              },
            };
          });
        done += f.size;
        opts.onProgress?.(done, total);
      }
      if (files[0].name.startsWith('bad')) throw new Error(`cannot open ${files[0].name}: not a GGUF file`);
      return fakeModel(2, { modelId: `up${sent.length}`, fileName: files[0].name });
    },
  }) as unknown as QuantScopeClient;
  /** lets the pending promise callbacks run */
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return {
    client,
    sent,
    started,
    holdNext() {
      held = true;
    },
    progress: (n: number) => current!.report(n),
    async finishFile() {
      current!.resolve();
      await settle();
    },
    async failFile(message: string) {
      current!.reject(new Error(message));
      await settle();
    },
    settle,
  };
}

function setup() {
  const api = new FakeApi();
  const up = uploadingClient(api);
  /** the store's clock, moved by the tests */
  const clock = { now: 1000 };
  const store = createAppStore(up.client, { schedule: (cb) => queueMicrotask(cb), now: () => clock.now });
  return { api, store, clock, ...up };
}

const file = (name: string, size: number) => new File([new Uint8Array(size)], name);

describe('opening models by path and by upload', () => {
  it('completes through the contract and refuses outside the folders', async () => {
    const { api } = setup();
    expect((await api.completePath('/models/b')).map((c) => c.name)).toEqual([
      'models/big.gguf',
      'models/broken.gguf',
    ]);
    await expect(api.completePath('/etc/')).rejects.toThrow(/outside the model folders/);
  });

  it('opens an uploaded file like any model, and names it in a failure', async () => {
    const { store, sent } = setup();
    await store.getState().init();
    await store.getState().uploadFiles([file('mine.gguf', 10)]);
    expect(sent).toEqual([['mine.gguf:10']]);
    expect(store.getState().model?.fileName).toBe('mine.gguf');
    expect(store.getState().opening).toBeNull();
    expect(store.getState().uploading).toBeNull();

    await store.getState().uploadFiles([file('bad.gguf', 3)]);
    expect(store.getState().openError).toBe('cannot open bad.gguf: not a GGUF file');
    // the model that was open stays open
    expect(store.getState().model?.fileName).toBe('mine.gguf');
  });

  it('sends the files of a split model together, first file first, and says what is uploading', async () => {
    const { store, sent, holdNext, progress, finishFile } = setup();
    await store.getState().init();
    holdNext();
    const done = store
      .getState()
      .uploadFiles([
        file('m-00003-of-00003.gguf', 1024),
        file('m-00001-of-00003.gguf', 2048),
        file('m-00002-of-00003.gguf', 1024),
      ]);
    await Promise.resolve();
    expect(sent).toEqual([
      ['m-00001-of-00003.gguf:2048', 'm-00002-of-00003.gguf:1024', 'm-00003-of-00003.gguf:1024'],
    ]);
    expect(store.getState().opening).toBe('m-00001-of-00003.gguf');
    expect(store.getState().uploading).toBe('Uploading 3 files of m-00001-of-00003.gguf (4.00 KiB)…');
    progress(2048);
    expect(store.getState().uploading).toBe(
      'Uploading 3 files of m-00001-of-00003.gguf: 2.00 KiB of 4.00 KiB (50%)',
    );
    expect(store.getState().uploadBytes).toEqual({ sent: 2048, total: 4096 });
    // a second upload meanwhile is refused in one line; the first goes on
    await store.getState().uploadFiles([file('other.gguf', 5)]);
    expect(store.getState().openError).toBe(
      'an upload is in progress: wait for it to finish before starting another',
    );
    expect(sent).toHaveLength(1);
    for (let i = 0; i < 3; i++) await finishFile();
    await done;
    expect(store.getState().model?.fileName).toBe('m-00001-of-00003.gguf');
    expect(store.getState().uploading).toBeNull();
    expect(store.getState().uploadBytes).toBeNull();
  });

  it('draws the byte progress a few times a second, however often the uploader reports', async () => {
    const { store, clock, holdNext, progress, finishFile } = setup();
    await store.getState().init();
    holdNext();
    let draws = 0;
    store.subscribe((now, before) => {
      if (now.uploadBytes !== before.uploadBytes) draws++;
    });
    const done = store.getState().uploadFiles([file('big.gguf', 100_000)]);
    await Promise.resolve();
    draws = 0;
    // a report every millisecond for one second: 1000 reports
    for (let i = 1; i <= 1000; i++) {
      clock.now += 1;
      progress(i * 10);
    }
    expect(draws).toBeGreaterThanOrEqual(1000 / PROGRESS_EVERY_MS - 1);
    expect(draws).toBeLessThanOrEqual(1000 / PROGRESS_EVERY_MS + 1);
    // after a few seconds the line has the rate and the time left: 10 KB/s, 50 KB to go
    for (let i = 1; i <= 5000; i += 50) {
      clock.now += 50;
      progress(10_000 + i * 10);
    }
    expect(store.getState().uploading).toMatch(
      /^Uploading big\.gguf: 5\d\.\d KiB of 97\.7 KiB \(5\d%\), 9\.\d\d KiB\/s, about [45] s left$/,
    );
    await finishFile();
    await done;
    expect(store.getState().model?.fileName).toBe('big.gguf');
  });

  it('cancel stops the file in flight and the files after it, says "Upload cancelled", and keeps the open model', async () => {
    const { store, clock, started, holdNext, progress, finishFile } = setup();
    await store.getState().init();
    await store.getState().uploadFiles([file('mine.gguf', 10)]);
    expect(store.getState().model?.fileName).toBe('mine.gguf');
    const view = store.getState().view;
    holdNext();
    const done = store
      .getState()
      .uploadFiles([
        file('m-00001-of-00003.gguf', 1000),
        file('m-00002-of-00003.gguf', 1000),
        file('m-00003-of-00003.gguf', 1000),
      ]);
    await Promise.resolve();
    await finishFile();
    clock.now += PROGRESS_EVERY_MS;
    progress(500);
    expect(store.getState().uploadBytes).toEqual({ sent: 1500, total: 3000 });
    store.getState().cancelUpload();
    await done;
    // the third file never started
    expect(started).toEqual(['mine.gguf', 'm-00001-of-00003.gguf', 'm-00002-of-00003.gguf']);
    expect(store.getState().notice).toEqual({ kind: 'info', text: 'Upload cancelled' });
    expect(store.getState().openError).toBeNull();
    expect(store.getState().uploading).toBeNull();
    expect(store.getState().uploadBytes).toBeNull();
    expect(store.getState().opening).toBeNull();
    expect(store.getState().model?.fileName).toBe('mine.gguf');
    expect(store.getState().view).toBe(view);
    // nothing is left to cancel, and the next upload goes
    store.getState().cancelUpload();
    const next = store.getState().uploadFiles([file('next.gguf', 10)]);
    await Promise.resolve();
    await finishFile();
    await next;
    expect(store.getState().model?.fileName).toBe('next.gguf');
  });

  it("an upload the server refuses shows the server's message, not a cancel, and keeps the open model", async () => {
    const { store, holdNext, progress, failFile } = setup();
    await store.getState().init();
    await store.getState().uploadFiles([file('mine.gguf', 10)]);
    holdNext();
    const done = store.getState().uploadFiles([file('huge.gguf', 1000)]);
    await Promise.resolve();
    progress(10);
    await failFile('huge.gguf is larger than the upload limit of 100 bytes (--max-upload)');
    await done;
    expect(store.getState().openError).toBe(
      'huge.gguf is larger than the upload limit of 100 bytes (--max-upload)',
    );
    expect(store.getState().notice).toBeNull();
    expect(store.getState().uploading).toBeNull();
    expect(store.getState().model?.fileName).toBe('mine.gguf');
  });

  it('refuses a choice that is not one complete split model before sending anything', async () => {
    const { store, sent } = setup();
    await store.getState().init();
    await store.getState().uploadFiles([file('mine.gguf', 10)]);
    await store.getState().uploadFiles([file('m-00001-of-00003.gguf', 1), file('m-00003-of-00003.gguf', 1)]);
    expect(store.getState().openError).toBe(
      'm-00001-of-00003.gguf is a split model of 3 files, but file 2 (m-00002-of-00003.gguf) is missing: upload all 3 files together',
    );
    expect(sent).toEqual([['mine.gguf:10']]);
    expect(store.getState().opening).toBeNull();
    expect(store.getState().uploading).toBeNull();
    expect(store.getState().model?.fileName).toBe('mine.gguf');
  });

  it('says so where the app cannot upload', async () => {
    const store = createAppStore(new FakeApi(), { schedule: (cb) => queueMicrotask(cb) });
    await store.getState().uploadFiles([file('x.gguf', 0)]);
    expect(store.getState().openError).toMatch(/cannot upload/);
  });
});
