/**
 * A shell's handlers for the whole method table: each method either forwards its arguments to the
 * engine untouched (the engine validates them) or runs the shell's hook for it. A hook receives
 * the arguments parsed by the table's schema and a function that forwards them, so it can check a
 * path before the engine opens it, or show a save dialog after the engine built a report.
 * Shell-only methods must have a hook; the type says so and createApiHandlers checks it.
 */
import { API_METHOD_NAMES, API_METHODS } from './methods';
import type { ApiArgs, ApiMethod, ApiResult, EngineMethod, ShellOnlyMethod } from './methods';
import { parseApiArgs } from './schemas';

export type ShellHook<M extends ApiMethod> = (
  args: ApiArgs<M>,
  forward: (args: ApiArgs<M>) => Promise<ApiResult<M>>,
) => Promise<ApiResult<M>>;

export type ShellHooks = { [M in ShellOnlyMethod]: ShellHook<M> } & {
  [M in EngineMethod]?: ShellHook<M>;
};

/** Calls the engine's method with raw arguments (an in-process engine, or a relay to another process). */
export type ForwardToEngine = (method: EngineMethod, args: unknown[]) => Promise<unknown>;

/** Takes the raw arguments of one call, as they arrived. */
export type ApiHandler = (args: unknown[]) => Promise<unknown>;

export function createApiHandlers(
  forward: ForwardToEngine,
  hooks: ShellHooks,
): Record<ApiMethod, ApiHandler> {
  const out = {} as Record<ApiMethod, ApiHandler>;
  for (const method of API_METHOD_NAMES) {
    const hook = (hooks as Partial<Record<ApiMethod, ShellHook<ApiMethod>>>)[method];
    const toEngine = (args: unknown[]) => {
      if (API_METHODS[method].shellOnly)
        throw new Error(`${method} is answered by the shell, not the engine`);
      return forward(method as EngineMethod, args);
    };
    if (!hook) {
      if (API_METHODS[method].shellOnly) throw new Error(`the shell has no handler for ${method}`);
      out[method] = (args) => toEngine(args);
    } else {
      out[method] = async (args) =>
        hook(parseApiArgs(method, args), (parsed) => toEngine(parsed as unknown[]) as Promise<never>);
    }
  }
  return out;
}
