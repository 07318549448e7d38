/**
 * The engine's one request validation: every engine method of the contract's table, on any object
 * that implements them (EngineService, or a fake in tests), is replaced by a function that parses
 * its arguments with the table's schema first. Every face reaches the engine through such an
 * object, so a request is validated once, here, by the same rules (one batch limit, one path rule).
 */
import { ENGINE_METHOD_NAMES, parseApiArgs, type EngineApi } from '../../src-shared/contract';

type Callable = (...args: unknown[]) => Promise<unknown>;

export function validateCalls<T extends EngineApi>(engine: T): T {
  const target = engine as unknown as Record<string, Callable>;
  for (const method of ENGINE_METHOD_NAMES) {
    const impl = target[method];
    if (typeof impl !== 'function') continue; // a partial fake in tests
    target[method] = async (...args: unknown[]) => impl.apply(engine, parseApiArgs(method, args));
  }
  return engine;
}
