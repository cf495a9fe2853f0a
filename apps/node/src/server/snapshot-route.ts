import type { ServerResponse } from "node:http";
import { encodeBackup } from "../backup/backup-file.js";
import type { ApiContext } from "./api-context.js";
import { sendError } from "./send-json.js";

/**
 * `GET /v1/snapshot`: a consistent, checksummed backup of the replicated state. The store is
 * encoded after a linearizable read barrier, so the backup holds every write acknowledged before
 * the request; the node encodes it in steps between two rounds of its consensus loop (heartbeats
 * keep flowing at a million keys) with nothing applied meanwhile, so it is of one index and
 * nothing is half-applied.
 */
export async function getSnapshot(context: ApiContext, response: ServerResponse): Promise<void> {
  const barrier = await context.node.readBarrier();
  if (!barrier.ok) {
    const leader = context.node.summary().leader;
    return sendError(response, barrier.code, `snapshot not taken: ${barrier.code}`, leader === null ? {} : { leader });
  }
  const encoding = await context.node.encodeStore();
  if (!encoding.ok) return sendError(response, encoding.code, `snapshot not taken: ${encoding.code}`);
  const bytes = encodeBackup(
    {
      cluster: context.identity.cluster,
      clusterUuid: context.identity.clusterUuid,
      index: encoding.index,
      members: encoding.members,
      takenBy: context.selfId,
      takenAtMs: Date.now(),
      definitionHash: encoding.definitionHash,
      definition: encoding.definition,
    },
    encoding.data,
  );
  response.statusCode = 200;
  response.setHeader("Content-Type", "application/octet-stream");
  response.setHeader("Content-Length", bytes.byteLength);
  response.setHeader("Content-Disposition", `attachment; filename="lockstep-${context.identity.cluster}-${encoding.index}.backup"`);
  response.setHeader("Cache-Control", "no-store");
  response.end(bytes);
}
