import { readFileSync } from "node:fs";

// The page lives in src/ as a plain HTML file (no build step); this path reaches it both from
// src/dashboard/ (tests) and from dist/dashboard/ (the built node), since the package ships src.
const pageUrl = new URL("../../src/dashboard/dashboard.html", import.meta.url);

let cached: string | null = null;

/** The dashboard page served at `/`: one self-contained HTML file, read once. */
export function dashboardHtml(): string {
  cached ??= readFileSync(pageUrl, "utf8");
  return cached;
}
