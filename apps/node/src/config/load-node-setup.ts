import type { Definition } from "@lockstep/state-machine";
import { loadDefinition } from "../load-definition.js";
import { loadConfig, type LoadConfigInput, type NodeConfig } from "./load-config.js";

export type LoadNodeSetupResult = { ok: true; config: NodeConfig; definition: Definition; warnings: string[] } | { ok: false; message: string };

/**
 * What every command that opens a data directory needs first: the validated config and the
 * machine definition it names. Either failure is a config error the caller reports and exits 2 on.
 */
export function loadNodeSetup(input: LoadConfigInput): LoadNodeSetupResult {
  const loaded = loadConfig(input);
  if (!loaded.ok) return loaded;
  const definition = loadDefinition(loaded.config.definitionFile);
  if (!definition.ok) return { ok: false, message: definition.message };
  return { ok: true, config: loaded.config, definition: definition.definition, warnings: loaded.warnings };
}
