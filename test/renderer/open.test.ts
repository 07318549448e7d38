import { describe, it, expect } from 'vitest';
import { createAppStore } from '../../src-renderer/src/store';
import { uploadAndOpen } from '../../src-renderer/src/components/OpenByPath';
import type { QuantScopeClient } from '../../src-renderer/src/api';
import { FakeApi, fakeModel } from './fakeApi';

function setup() {
  const api = new FakeApi();
  const store = createAppStore(api, { schedule: (cb) => queueMicrotask(cb) });
  return { api, store };
}

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
    const { api, store } = setup();
    await store.getState().init();
    const sent: string[] = [];
    const client = Object.assign(api, {
      uploadModel: async (file: File) => {
        sent.push(`${file.name}:${file.size}`);
        if (file.name.startsWith('bad')) throw new Error('cannot open bad.gguf: not a GGUF file');
        return fakeModel(2, { modelId: 'up1', fileName: file.name });
      },
    }) as unknown as QuantScopeClient;
    await uploadAndOpen(client, store.getState().openWith, new File([new Uint8Array(10)], 'mine.gguf'));
    expect(sent).toEqual(['mine.gguf:10']);
    expect(store.getState().model?.fileName).toBe('mine.gguf');
    expect(store.getState().opening).toBeNull();

    await uploadAndOpen(client, store.getState().openWith, new File([new Uint8Array(3)], 'bad.gguf'));
    expect(store.getState().openError).toBe('cannot open bad.gguf: not a GGUF file');
    // the model that was open stays open
    expect(store.getState().model?.fileName).toBe('mine.gguf');
  });

  it('says so where the app cannot upload', async () => {
    const { api, store } = setup();
    await expect(
      uploadAndOpen(api as unknown as QuantScopeClient, store.getState().openWith, new File([], 'x.gguf')),
    ).rejects.toThrow(/cannot upload/);
  });
});
