// Shared vitest settings. The `source` condition resolves `@lockstep/*` imports to the
// other package's `src/index.ts`, so tests run from sources with no build step.
import { defineProject } from "vitest/config";

export function lockstepProject(name, overrides = {}) {
  return defineProject({
    resolve: { conditions: ["source"] },
    ssr: { resolve: { conditions: ["source"] } },
    test: {
      name,
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      environment: "node",
      testTimeout: 20_000,
      ...overrides,
    },
  });
}
