import { describe, it, expect } from 'vitest';
import { createAppStore } from '../../src-renderer/src/store';
import type { QuantScopeClient } from '../../src-renderer/src/api';
import { FakeApi, fakeModel } from './fakeApi';

/** A client whose uploadModel records what it is sent, and may be held until released. */
function uploadingClient(api: FakeApi) {
  const sent: string[][] = [];
  let hold: Promise<void> | null = null;
  let release = () => {};
  const client = Object.assign(api, {
    uploadModel: async (files: readonly File[], onProgress?: (sent: number, total: number) => void) => {
      sent.push(files.map((f) => `${f.name}:${f.size}`));
      if (hold) {
        onProgress?.(
          files[0].size,
          files.reduce((n, f) => n + f.size, 0),
        );
        await hold;
      }
      if (files[0].name.startsWith('bad')) throw new Error(`cannot open ${files[0].name}: not a GGUF file`);
      return fakeModel(2, { modelId: `up${sent.length}`, fileName: files[0].name });
    },
  }) as unknown as QuantScopeClient;
  return {
    client,
    sent,
    holdNext() {
      hold = new Promise<void>((r) => (release = r));
    },
    release: () => release(),
  };
}

function setup() {
  const api = new FakeApi();
  const up = uploadingClient(api);
  const store = createAppStore(up.client, { schedule: (cb) => queueMicrotask(cb) });
  return { api, store, ...up };
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
    const { store, sent, holdNext, release } = setup();
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
    expect(store.getState().uploading).toBe(
      'Uploading 3 files of m-00001-of-00003.gguf (4.00 KiB, 2.00 KiB sent)…',
    );
    // a second upload meanwhile is refused in one line; the first goes on
    await store.getState().uploadFiles([file('other.gguf', 5)]);
    expect(store.getState().openError).toBe(
      'an upload is in progress: wait for it to finish before starting another',
    );
    expect(sent).toHaveLength(1);
    release();
    await done;
    expect(store.getState().model?.fileName).toBe('m-00001-of-00003.gguf');
    expect(store.getState().uploading).toBeNull();
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
