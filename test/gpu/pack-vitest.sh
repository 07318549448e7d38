#!/usr/bin/env bash
# Packs vitest and what it needs at run time (dependencies, not peers; no type declarations, maps or docs)
# (and tsx, which the reference worker pool uses to load its TypeScript worker) into .device/vitest.tar.xz
# (~14 MB), so that the GPU machine, which has no package registry, can run the
# GPU test files through vitest (test/gpu/device-vitest.sh). Run here after `npm ci` and
# `bash ../shared/device/pack.sh`.
set -eu
cd "$(dirname "$0")/../.."
[ -d .device ] || { echo "no .device/: run bash ../shared/device/pack.sh first" >&2; exit 1; }
deps=$(node -e '
const fs = require("fs"), path = require("path");
const seen = new Set(), todo = ["vitest", "zod", "tsx"]; // tsx: the reference worker pool loads its TS worker with it
while (todo.length) {
  const n = todo.pop();
  const p = path.join("node_modules", n, "package.json");
  if (seen.has(n) || !fs.existsSync(p)) continue;
  seen.add(n);
  const j = JSON.parse(fs.readFileSync(p, "utf8"));
  todo.push(...Object.keys({ ...j.dependencies, ...j.optionalDependencies }));
}
console.log([...seen].join(" "));')
tar --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' --exclude='*.map' --exclude='*.md' \
  -C node_modules -cJf .device/vitest.tar.xz $deps
echo "packed $(echo $deps | wc -w) packages into .device/vitest.tar.xz ($(du -h .device/vitest.tar.xz | cut -f1))"
