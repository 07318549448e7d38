/** The browser-safe part of the GGUF module (no node imports): types, header parser, encoder. */
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
