/**
 * Judging an output made elsewhere (`quantscope check`): an (input, output) pair of raw float32 files
 * for one tensor of the open model, or the identity as input (the output is then the weights as that
 * kernel dequantizes them). The verdict is shown with the same detail as a run's result.
 */
import { useState } from 'react';
import { useApp } from '../context';
import { ARITHMETIC_SCHEMES } from '../../../src-shared/contract/types';
import type { PickFileKind, TensorResult } from '../../../src-shared/contract';
import { errorText } from '../store';
import { ResultDetailView } from './ResultDetail';

export function CheckPairPanel() {
  const s = useApp((s) => ({ api: s.api, model: s.model, mode: s.appInfo?.mode }));
  const tensors = s.model?.tensors.filter((t) => t.supported) ?? [];
  const [tensor, setTensor] = useState('');
  const [identity, setIdentity] = useState(true);
  const [input, setInput] = useState('');
  const [output, setOutput] = useState('');
  const [m, setM] = useState('');
  const [arithmetic, setArithmetic] = useState('f32');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ modelId: string | null; text: string } | null>(null);
  const error = failure && failure.modelId === (s.model?.modelId ?? null) ? failure.text : null;
  const setError = (text: string | null) =>
    setFailure(text === null ? null : { modelId: s.model?.modelId ?? null, text });
  // a verdict belongs to the model it was judged against: another model open, it is not shown
  const [judged, setJudged] = useState<{ modelId: string; r: TensorResult } | null>(null);
  const result = judged && judged.modelId === s.model?.modelId ? judged.r : null;
  const t = tensors.find((x) => x.name === tensor) ?? tensors[0];
  const electron = s.mode === 'electron';

  const browse = async (kind: PickFileKind, set: (p: string) => void) => {
    try {
      const p = await s.api.pickFile(kind);
      if (p) set(p);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const check = async () => {
    if (!s.model || !t) return setError('Open a model first (Ctrl+O).');
    if (!output.trim()) return setError('Name the output file to judge.');
    if (!identity && !input.trim()) return setError('Name the input file, or choose the identity.');
    const mv = identity ? t.k : Number(m);
    if (!identity && (!Number.isInteger(mv) || mv < 1))
      return setError(`m must be a whole number ≥ 1 (the rows of the input), got "${m}".`);
    setBusy(true);
    setError(null);
    try {
      const r = await s.api.checkPair({
        modelId: s.model.modelId,
        tensor: t.name,
        input: identity ? 'identity' : input.trim(),
        output: output.trim(),
        m: mv,
        arithmetic,
      });
      setJudged({ modelId: s.model.modelId, r });
    } catch (e) {
      setError(errorText(e));
      setJudged(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card check-pair" data-testid="check-pair-panel">
      <h2 className="card-title">Check a pair</h2>
      <p className="hint">
        Judge an output your kernel made elsewhere (PyTorch, Triton, an inference engine) against the
        reference of its declared arithmetic: raw little-endian float32, input [m][k], output [m][n] (
        <span className="mono">quantscope check</span>).
        {!electron && ' Paths are on the server, under the folders it serves.'}
      </p>
      {!s.model ? (
        <p className="muted" data-testid="check-no-model">
          Open a model first: the pair is judged against one of its tensors.
        </p>
      ) : (
        <div className="check-form">
          <label className="inline">
            Tensor
            <select
              value={t?.name ?? ''}
              data-testid="check-tensor"
              onChange={(e) => setTensor(e.target.value)}
            >
              {tensors.map((x) => (
                <option key={x.name} value={x.name}>
                  {x.name} ({x.typeName}, K×N {x.k}×{x.n})
                </option>
              ))}
            </select>
          </label>
          <div className="inline inline-wrap">
            <span>Input</span>
            <div className="seg" role="radiogroup" aria-label="Input">
              <button
                role="radio"
                aria-checked={identity}
                className={identity ? 'on' : ''}
                data-testid="check-identity"
                onClick={() => setIdentity(true)}
              >
                Identity
              </button>
              <button
                role="radio"
                aria-checked={!identity}
                className={!identity ? 'on' : ''}
                data-testid="check-input-file"
                onClick={() => setIdentity(false)}
              >
                File
              </button>
            </div>
            {identity ? (
              <span className="hint">
                the k × k identity: m = k = {t?.k}; the output is the weights as decoded, transposed [k][n]
              </span>
            ) : (
              <>
                <input
                  className="grow mono"
                  value={input}
                  placeholder="x.f32 (raw float32 [m][k], or .npy)"
                  aria-label="Input file"
                  data-testid="check-input"
                  onChange={(e) => setInput(e.target.value)}
                />
                {electron && (
                  <button className="btn small" onClick={() => void browse('float32', setInput)}>
                    Browse…
                  </button>
                )}
                <label className="inline">
                  m
                  <input
                    className="num narrow"
                    value={m}
                    placeholder="rows"
                    data-testid="check-m"
                    onChange={(e) => setM(e.target.value)}
                  />
                </label>
              </>
            )}
          </div>
          <div className="inline inline-wrap">
            <label className="inline grow">
              Output
              <input
                className="grow mono"
                value={output}
                placeholder="y.f32 (raw float32 [m][n])"
                aria-label="Output file"
                data-testid="check-output"
                onChange={(e) => setOutput(e.target.value)}
              />
            </label>
            {electron && (
              <button className="btn small" onClick={() => void browse('float32', setOutput)}>
                Browse…
              </button>
            )}
            <label className="inline">
              arithmetic
              <select
                value={arithmetic}
                data-testid="check-arithmetic"
                onChange={(e) => setArithmetic(e.target.value)}
              >
                {ARITHMETIC_SCHEMES.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
            </label>
            <button
              className="btn primary"
              disabled={busy}
              data-testid="check-run"
              onClick={() => void check()}
            >
              {busy ? 'Checking…' : 'Check'}
            </button>
          </div>
          {error && (
            <p className="error-text" role="alert" data-testid="check-error">
              {error}
            </p>
          )}
        </div>
      )}
      {result && (
        <div data-testid="check-result">
          <ResultDetailView r={result} />
        </div>
      )}
    </section>
  );
}
