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
export type { GgufShard, GgufOpenOptions } from './file';
export {
  splitKeys,
  splitPaths,
  splitFileName,
  splitNameParts,
  collapseSplitFiles,
  SPLIT_NO,
  SPLIT_COUNT,
  SPLIT_TENSORS,
  MAX_SPLIT_FILES,
} from './split';
export type { SplitKeys } from './split';
export { GgufWriter } from './writer';
