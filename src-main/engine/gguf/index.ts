/** GGUF reader and writer: the public API of src-main/engine/gguf (see parse.ts for the hardening rules). */
export * from './types';
export {
  parseGgufHeader,
  metaValue,
  formatMetadataValue,
  LIMITS,
  DEFAULT_ALIGNMENT,
  MAX_ALIGNMENT,
} from './parse';
export { md, encodeGguf, encodeGgufHeader } from './encode';
export type { MetaInput, TensorInput, EncodeOptions, EncodedHeader, GgufLayoutTensor } from './encode';
export { GgufFile, openGguf } from './file';
export { GgufWriter } from './writer';
