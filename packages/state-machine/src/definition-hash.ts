import { compareStrings } from "./compare-strings.js";
import type { Definition } from "./definition.js";
import { sha256Hex } from "./sha256.js";

// Bumped if the canonical form below ever changes, so that old and new nodes refuse each other
// instead of silently disagreeing.
const canonicalFormat = "lockstep-definition-v1";

/**
 * The canonical JSON of a definition: states sorted, transitions sorted by (from, to), fixed key
 * order. Two files that list the same definition in a different order give the same text.
 */
export function canonicalDefinitionJson(definition: Definition): string {
  const states = [...definition.states].sort(compareStrings);
  const transitions = definition.transitions
    .map((transition): [string, string] => [transition.from, transition.to])
    .sort((left, right) => compareStrings(left[0], right[0]) || compareStrings(left[1], right[1]));
  return JSON.stringify({ format: canonicalFormat, name: definition.name, initial: definition.initial, states, transitions });
}

/**
 * SHA-256 of the canonical JSON, 64 lowercase hex characters. Nodes compare it when they connect
 * (`Hello.definitionHash`) and snapshots carry it, so that no node applies entries under another
 * definition. The name is part of the hash: two clusters that call the same machine by different
 * names are treated as running different definitions.
 */
export function definitionHash(definition: Definition): string {
  return sha256Hex(new TextEncoder().encode(canonicalDefinitionJson(definition)));
}
