import type { ServerResponse } from "node:http";
import { encodeBackup } from "../backup/backup-file.js";
import type { ApiContext } from "./api-context.js";
import { sendError } from "./send-json.js";

/**
 * `GET /v1/snapshot`: a consistent, checksummed backup of the replicated state. The store is
 * read right after a linearizable read barrier, in the same turn, so the backup holds every
 * write acknowledged before the request and nothing half-applied.
 */
export async function getSnapshot(context: ApiContext, response: ServerResponse): Promise<void> {
  const barrier = await context.node.readBarrier();
  if (!barrier.ok) {
    const leader = context.node.summary().leader;
    return sendError(response, barrier.code, `snapshot not taken: ${barrier.code}`, leader === null ? {} : { leader });
  }
  const store = context.node.localStore;
  const members = context.membership.members();
  const bytes = encodeBackup(
    {
      cluster: context.identity.cluster,
      clusterUuid: context.identity.clusterUuid,
      index: store.appliedIndex,
      members,
      takenBy: context.selfId,
      takenAtMs: Date.now(),
      definitionHash: store.definitionHash,
      definition: store.definition,
    },
    store.snapshot(),
  );
  response.statusCode = 200;
  response.setHeader("Content-Type", "application/octet-stream");
  response.setHeader("Content-Length", bytes.byteLength);
  response.setHeader("Content-Disposition", `attachment; filename="lockstep-${context.identity.cluster}-${store.appliedIndex}.backup"`);
  response.setHeader("Cache-Control", "no-store");
  response.end(bytes);
}
