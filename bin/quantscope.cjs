#!/usr/bin/env node
// The `quantscope` command: runs the bundled CLI built by `npm run build`.
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'quantscope.cjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write('quantscope: error: dist/quantscope.cjs is missing; run `npm run build` first\n');
  process.exit(2);
}
require(bundle);
