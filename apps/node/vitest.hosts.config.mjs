import { defineConfig } from "vitest/config";

// `pnpm test:hosts`: the suites in test/hosts/*.hosts.ts, which build a network of namespaces and
// need root. Not part of `pnpm test` (its include is test/**/*.test.ts); CI runs both.
export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    name: "hosts",
    include: ["test/hosts/**/*.hosts.ts"],
    environment: "node",
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});
