import { z } from "zod";
import { compareStrings } from "./compare-strings.js";

/**
 * A state machine definition: the states, the state every key starts in, and the allowed
 * transitions. Every transition not listed is invalid, and so is staying in place: a
 * self-transition (`Running -> Running`) would change nothing but a revision, so a definition may
 * not list one and the store refuses one.
 */
export interface Definition {
  readonly name: string;
  readonly states: readonly string[];
  readonly initial: string;
  readonly transitions: readonly { readonly from: string; readonly to: string }[];
}

export const definitionStatesMax = 64;
export const definitionTransitionsMax = 1024;
export const definitionNameLengthMax = 64;
export const definitionStateNameLengthMax = 64;

/** The built-in default (DESIGN.md §1). */
export const lifecycleDefinition: Definition = Object.freeze({
  name: "lifecycle",
  states: Object.freeze(["Init", "Running", "Stopped"]),
  initial: "Init",
  transitions: Object.freeze([
    Object.freeze({ from: "Init", to: "Running" }),
    Object.freeze({ from: "Running", to: "Stopped" }),
    Object.freeze({ from: "Stopped", to: "Init" }),
  ]),
});

// The same spelling as protocol's StateNameSchema, so that every state a definition names can
// travel in a command.
const StateNameSchema = z
  .string()
  .min(1, { message: "must not be empty", abort: true })
  .max(definitionStateNameLengthMax, `must be at most ${definitionStateNameLengthMax} characters`)
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "must start with a letter and contain only letters, digits, '_' and '-'");

const DefinitionSchema = z.strictObject({
  name: z
    .string()
    .min(1, { message: "must not be empty", abort: true })
    .max(definitionNameLengthMax, `must be at most ${definitionNameLengthMax} characters`)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'"),
  states: z
    .array(StateNameSchema)
    .min(1, "must list at least one state")
    .max(definitionStatesMax, `must list at most ${definitionStatesMax} states`),
  initial: StateNameSchema,
  transitions: z
    .array(z.strictObject({ from: StateNameSchema, to: StateNameSchema }))
    .max(definitionTransitionsMax, `must list at most ${definitionTransitionsMax} transitions`),
});

export type ParseDefinitionResult = { ok: true; definition: Definition } | { ok: false; errors: string[] };

/**
 * Validates a definition read from JSON. Never throws: every problem found is reported, each as
 * one line that names where it is (`transitions[2] (Init -> Paused): ...`).
 */
export function parseDefinition(json: unknown): ParseDefinitionResult {
  const parsed = DefinitionSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`) };
  }
  const definition = parsed.data;
  const errors = [...stateErrors(definition), ...transitionErrors(definition)];
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, definition };
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "definition";
  let text = "";
  for (const part of path) text += typeof part === "number" ? `[${part}]` : `${text === "" ? "" : "."}${String(part)}`;
  return text;
}

function stateErrors(definition: Definition): string[] {
  const errors: string[] = [];
  const firstIndexByState = new Map<string, number>();
  definition.states.forEach((state, index) => {
    const first = firstIndexByState.get(state);
    if (first === undefined) firstIndexByState.set(state, index);
    else errors.push(`states[${index}]: duplicate state "${state}" (first at states[${first}])`);
  });
  if (!firstIndexByState.has(definition.initial)) {
    errors.push(`initial: "${definition.initial}" is not one of the states`);
  }
  return errors;
}

function transitionErrors(definition: Definition): string[] {
  const errors: string[] = [];
  const states = new Set(definition.states);
  const firstIndexByPair = new Map<string, number>();
  definition.transitions.forEach(({ from, to }, index) => {
    const where = `transitions[${index}] (${from} -> ${to})`;
    if (!states.has(from)) errors.push(`${where}: "from" state "${from}" is not one of the states`);
    if (!states.has(to)) errors.push(`${where}: "to" state "${to}" is not one of the states`);
    if (from === to) errors.push(`${where}: a self-transition is not allowed (a transition must change the state)`);
    const pair = `${from} -> ${to}`;
    const first = firstIndexByPair.get(pair);
    if (first === undefined) firstIndexByPair.set(pair, index);
    else errors.push(`${where}: duplicate of transitions[${first}]`);
  });
  return errors;
}

/** The states reachable from `from` in one transition, sorted; empty if `from` is not a state. */
export function allowedTargets(definition: Definition, from: string): string[] {
  return definition.transitions
    .filter((transition) => transition.from === from)
    .map((transition) => transition.to)
    .sort(compareStrings);
}
