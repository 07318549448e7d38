/**
 * The contract between the engine and its faces (Electron main and preload, the browser server,
 * the renderer, the CLI): data types, the method table, argument schemas, the wire encoding, the
 * one-line error rule and what the shells serve. It imports nothing outside this folder and no
 * node or electron module. The preload and the renderer import the zod-free files (types, methods,
 * limits, wire, errors, web) directly, so zod stays out of their bundles.
 */
export * from './types';
export * from './methods';
export * from './limits';
export * from './errors';
export * from './schemas';
export * from './dispatch';
export * from './wire';
export * from './web';
