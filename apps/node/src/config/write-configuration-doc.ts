import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generatedBegin, generatedEnd, withGeneratedReference } from "./configuration-doc.js";

/**
 * `pnpm --filter node docs:config`: rewrites the generated part of docs/configuration.md from the
 * option declarations. configuration-doc.test.ts fails when the committed file is stale.
 */
const documentPath = fileURLToPath(new URL("../../../../docs/configuration.md", import.meta.url));
const updated = withGeneratedReference(readFileSync(documentPath, "utf8"));
if (updated === null) {
  process.stderr.write(`${documentPath}: the lines ${generatedBegin} and ${generatedEnd} are missing\n`);
  process.exit(1);
}
writeFileSync(documentPath, updated);
process.stdout.write(`wrote ${documentPath}\n`);
