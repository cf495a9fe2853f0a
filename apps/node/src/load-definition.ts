import { readFileSync } from "node:fs";
import { lifecycleDefinition, parseDefinition, type Definition } from "@lockstep/state-machine";

export type LoadDefinitionResult = { ok: true; definition: Definition } | { ok: false; message: string };

/** The state-machine definition: the JSON file when one is named, the built-in lifecycle otherwise. */
export function loadDefinition(definitionFile: string | undefined): LoadDefinitionResult {
  if (definitionFile === undefined) return { ok: true, definition: lifecycleDefinition };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(definitionFile, "utf8"));
  } catch (error) {
    return { ok: false, message: `config: definitionFile: cannot read ${definitionFile}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = parseDefinition(json);
  if (!parsed.ok) return { ok: false, message: `config: definitionFile: ${definitionFile} is not a valid definition:\n  ${parsed.errors.join("\n  ")}` };
  return parsed;
}
