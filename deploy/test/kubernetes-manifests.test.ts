/**
 * deploy/kubernetes: every object validates against the Kubernetes OpenAPI schema (the ajv
 * validators that kubernetes-models compiles from it), has no field the API does not know (the
 * manifests type-checked as object literals against kubernetes-models' API types, where a
 * misspelt field is an excess-property error), and wires lockstep the way it needs.
 */
import { describe, expect, it } from "vitest";
import ts from "typescript";
import { kubernetesManifests, deployDirectory, type Manifest } from "./support/manifests.js";
import { environmentNamesIn, knownEnvironmentNames } from "./support/option-names.js";

const models: Record<string, { module: string; type: string }> = {
  "v1/Namespace": { module: "kubernetes-models/v1/Namespace", type: "INamespace" },
  "v1/Service": { module: "kubernetes-models/v1/Service", type: "IService" },
  "v1/Secret": { module: "kubernetes-models/v1/Secret", type: "ISecret" },
  "v1/ConfigMap": { module: "kubernetes-models/v1/ConfigMap", type: "IConfigMap" },
  "apps/v1/StatefulSet": { module: "kubernetes-models/apps/v1/StatefulSet", type: "IStatefulSet" },
  "policy/v1/PodDisruptionBudget": { module: "kubernetes-models/policy/v1/PodDisruptionBudget", type: "IPodDisruptionBudget" },
};

const manifests = kubernetesManifests();
const byKind = (kind: string): Manifest[] => manifests.filter((manifest) => manifest.kind === kind);

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: string | number; scheme?: string } };
  livenessProbe?: { httpGet?: { path: string; port: string | number; scheme?: string } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
interface StatefulSetSpec {
  serviceName: string;
  replicas: number;
  volumeClaimTemplates?: Array<{ metadata: { name: string } }>;
  template: { spec: { containers: Container[]; securityContext?: { runAsNonRoot?: boolean } } };
}

describe("the Kubernetes manifests", () => {
  it("validate against the Kubernetes OpenAPI schemas", async () => {
    expect(manifests.length).toBeGreaterThanOrEqual(5);
    for (const manifest of manifests) {
      const model = models[`${manifest.apiVersion}/${manifest.kind}`];
      expect(model, `${manifest.file}: no schema for ${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
      const module = (await import(model!.module)) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = module[manifest.kind]!;
      const { file, ...object } = manifest;
      expect(() => new Model(object).validate(), file).not.toThrow();
    }
  });

  it("reject a wrong type, which shows the schema check can fail", async () => {
    const { StatefulSet } = await import("kubernetes-models/apps/v1/StatefulSet");
    const broken = structuredClone(byKind("StatefulSet")[0]!) as unknown as { file?: string; spec: { replicas: unknown } };
    delete broken.file;
    broken.spec.replicas = "three";
    expect(() => new StatefulSet(broken as never).validate()).toThrow(/replicas must be integer/);
  });

  it("name no field the Kubernetes API does not have", () => {
    const problems = typeCheckManifests(manifests);
    expect(problems).toEqual([]);
    const misspelt = structuredClone(byKind("StatefulSet")[0]!) as unknown as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
    misspelt.spec.template.spec.containers[0]!.readinesProbe = { httpGet: { path: "/readyz", port: "client" } };
    expect(typeCheckManifests([misspelt as unknown as Manifest]).join("\n")).toMatch(/readinesProbe/);
  });

  it("run a StatefulSet with a volume per member behind a headless service that publishes not-ready members", () => {
    const statefulSet = byKind("StatefulSet")[0]!;
    const spec = statefulSet.spec as StatefulSetSpec;
    expect(spec.replicas % 2, "an odd number of members").toBe(1);
    expect(spec.volumeClaimTemplates?.map((claim) => claim.metadata.name)).toEqual(["data"]);
    const headless = byKind("Service").find((service) => service.metadata.name === spec.serviceName);
    expect(headless, `the StatefulSet's serviceName ${spec.serviceName}`).toBeDefined();
    expect(headless!.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    const pdb = byKind("PodDisruptionBudget")[0]!;
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1 });
  });

  it("probe readiness on /readyz and liveness on /livez, as a non-root user with a read-only root", () => {
    const spec = (byKind("StatefulSet")[0]!.spec as StatefulSetSpec).template.spec;
    expect(spec.securityContext?.runAsNonRoot).toBe(true);
    const container = spec.containers[0]!;
    expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(container.livenessProbe?.httpGet?.path).toBe("/livez");
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  it("give each member its own peer certificate from the lockstep-peer-tls Secret", () => {
    const spec = (byKind("StatefulSet")[0]!.spec as StatefulSetSpec & { template: { spec: { volumes?: Array<{ name: string; secret?: { secretName: string } }> } } }).template.spec;
    const env = new Map((spec.containers[0]!.env ?? []).map((variable) => [variable.name, variable.value]));
    expect(env.get("LOCKSTEP_PEER_CERT_FILE")).toBe("/etc/lockstep/certs/$(LOCKSTEP_NODE_ID).crt");
    expect(env.get("LOCKSTEP_PEER_KEY_FILE")).toBe("/etc/lockstep/certs/$(LOCKSTEP_NODE_ID).key");
    expect(env.get("LOCKSTEP_PEER_CA_FILE")).toBe("/etc/lockstep/certs/ca.crt");
    expect(spec.volumes?.find((volume) => volume.name === "peer-tls")?.secret?.secretName).toBe("lockstep-peer-tls");
  });

  it("serve the client port over HTTPS with tokens, the first admin token from the lockstep-client-token Secret", () => {
    type Volume = { name: string; secret?: { secretName: string } };
    const spec = (byKind("StatefulSet")[0]!.spec as StatefulSetSpec & { template: { spec: { volumes?: Volume[] } } }).template.spec;
    const container = spec.containers[0]!;
    const env = new Map((container.env ?? []).map((variable) => [variable.name, variable.value]));
    expect(env.get("LOCKSTEP_CLIENT_TLS_CERT_FILE")).toBe("/etc/lockstep/certs/$(LOCKSTEP_NODE_ID).crt");
    expect(env.get("LOCKSTEP_CLIENT_TLS_KEY_FILE")).toBe("/etc/lockstep/certs/$(LOCKSTEP_NODE_ID).key");
    expect(env.get("LOCKSTEP_CLIENT_AUTHENTICATION")).toBe("tokens");
    expect(env.has("LOCKSTEP_INSECURE")).toBe(false);
    const tokenFile = String(env.get("LOCKSTEP_INITIAL_ADMIN_TOKEN_FILE"));
    expect(tokenFile).toBe("/etc/lockstep/token/initial-admin-token");
    const tokenMount = (container.volumeMounts ?? []).find((mount) => tokenFile.startsWith(`${mount.mountPath}/`));
    expect(tokenMount, `a volume mounted where ${tokenFile} is`).toBeDefined();
    expect(tokenMount!.readOnly).toBe(true);
    expect(spec.volumes?.find((volume) => volume.name === tokenMount!.name)?.secret?.secretName).toBe("lockstep-client-token");
    const members = JSON.parse(env.get("LOCKSTEP_MEMBERS")!) as Array<{ clientUrl: string }>;
    expect(members.map((member) => new URL(member.clientUrl).protocol)).toEqual(["https:", "https:", "https:"]);
    expect(container.readinessProbe?.httpGet?.scheme).toBe("HTTPS");
    expect(container.livenessProbe?.httpGet?.scheme).toBe("HTTPS");
  });

  it("set only options lockstep start knows", () => {
    const known = knownEnvironmentNames();
    const container = (byKind("StatefulSet")[0]!.spec as StatefulSetSpec).template.spec.containers[0]!;
    const names = (container.env ?? []).map((variable) => variable.name).filter((name) => name.startsWith("LOCKSTEP_"));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !known.has(name))).toEqual([]);
    expect(manifests.flatMap((manifest) => environmentNamesIn(JSON.stringify(manifest))).filter((name) => !known.has(name))).toEqual([]);
  });
});

/** Type-checks each manifest as an object literal of its kubernetes-models API type; returns the errors. */
function typeCheckManifests(list: readonly Manifest[]): string[] {
  const lines = list.map((manifest, index) => {
    const model = models[`${manifest.apiVersion}/${manifest.kind}`]!;
    const { file: _file, ...object } = manifest;
    return `import type { ${model.type} as T${index} } from ${JSON.stringify(model.module)};\nexport const m${index}: T${index} = ${JSON.stringify(object)};`;
  });
  const fileName = `${deployDirectory}test/kubernetes-manifests.generated.ts`;
  const source = lines.join("\n");
  const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === fileName ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
}
