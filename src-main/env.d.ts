declare module '*?raw' {
  const content: string;
  export default content;
}

/** Set by the bundlers (scripts/build-cli.mjs, electron.vite.config.ts); undefined when running sources. */
declare const __QS_VERSION__: string | undefined;
declare const __QS_COMMIT__: string | undefined;
declare const __QS_BUNDLED__: boolean | undefined;
