import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const deployDirectory = fileURLToPath(new URL("../../", import.meta.url));

export interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  [field: string]: unknown;
}

/** Every Kubernetes object in deploy/kubernetes/*.yaml, with the file it came from. */
export function kubernetesManifests(): Manifest[] {
  const directory = `${deployDirectory}kubernetes/`;
  return readdirSync(directory)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .flatMap((name) =>
      parseAllDocuments(readFileSync(directory + name, "utf8")).map((document) => {
        if (document.errors.length > 0) throw new Error(`${name}: ${document.errors.map((error) => error.message).join("; ")}`);
        const object = document.toJS() as Omit<Manifest, "file">;
        return { ...object, file: name } as Manifest;
      }),
    );
}
