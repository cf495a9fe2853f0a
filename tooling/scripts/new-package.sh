#!/usr/bin/env bash
# Lays out the files every workspace package shares. Usage: new-package.sh DIR NAME "description"
set -euo pipefail
dir=$1; name=$2; description=$3
mkdir -p "$dir/src"
cat > "$dir/tsconfig.json" <<JSON
{ "extends": "@lockstep/tsconfig/base.json", "include": ["src", "test"] }
JSON
cat > "$dir/tsconfig.build.json" <<JSON
{ "extends": "@lockstep/tsconfig/build.json" }
JSON
cat > "$dir/eslint.config.js" <<JS
import { lockstepConfig } from "@lockstep/eslint-config";

export default lockstepConfig(import.meta.dirname);
JS
cat > "$dir/vitest.config.ts" <<TS
import { lockstepProject } from "@lockstep/vitest-config";

export default lockstepProject("$name");
TS
