import { defineConfig } from "vitest/config";

// Every package and app that has tests is one vitest project; `pnpm test` runs them all.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "deploy"],
  },
});
