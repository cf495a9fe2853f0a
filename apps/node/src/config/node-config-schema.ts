import { z } from "zod";
import { nodeOptionNames, nodeOptions, type NodeOptionName, type NodeOptionSchemas } from "./node-options.js";

export { ClientUrlSchema, HostPortSchema, MemberSchema, type MemberConfig } from "./node-options.js";

function schemaShape(): NodeOptionSchemas {
  const shape: Record<string, z.ZodType> = {};
  for (const name of nodeOptionNames) shape[name] = nodeOptions[name].schema;
  return shape as NodeOptionSchemas;
}

/**
 * Every option of `lockstep start`, built from the declarations in node-options.ts. The file, the
 * `LOCKSTEP_*` environment and the flags all fill this one flat object.
 */
export const NodeConfigSchema = z.strictObject(schemaShape());

export type NodeConfigInput = z.input<typeof NodeConfigSchema>;
export type ParsedNodeConfig = z.infer<typeof NodeConfigSchema>;
export type ConfigFieldName = NodeOptionName;

/** What each option expects, in words, for error messages that a user can act on. */
export const configFieldExpectations: Record<ConfigFieldName, string> = Object.fromEntries(
  nodeOptionNames.map((name) => [name, nodeOptions[name].expects]),
) as Record<ConfigFieldName, string>;

export const configFieldNames: readonly ConfigFieldName[] = nodeOptionNames;

export type ConfigFieldKind = "string" | "number" | "boolean" | "json";

/** How a text value (from the environment or a flag) is turned into the type the field wants. */
export function configFieldKind(name: ConfigFieldName): ConfigFieldKind {
  let def = (nodeOptions[name].schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
  // Defaults and optionals wrap the real type; unwrap them (bounded: schemas nest a few levels at most).
  for (let depth = 0; depth < 8 && (def.type === "default" || def.type === "optional") && def.innerType; depth++) {
    def = def.innerType._zod.def;
  }
  switch (def.type) {
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array":
    case "object":
      return "json";
    default:
      return "string";
  }
}

interface ZodDefLike {
  type: string;
  innerType?: { _zod: { def: ZodDefLike } };
}
