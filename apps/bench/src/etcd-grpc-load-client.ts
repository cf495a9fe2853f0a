import type { EtcdGrpcClient } from "./etcd-grpc-client.js";
import { lifecycleNext } from "./lockstep-load-client.js";
import type { LoadClient, OperationOutcome } from "./load-generator.js";

/**
 * A closed-loop etcd client on its own key through etcd's native gRPC API (`KV/Put`): the same
 * one-small-write-per-request shape as a lockstep transition and as the gateway client.
 */
export class EtcdGrpcLoadClient implements LoadClient {
  private state = "Init";
  private readonly key: Buffer;

  constructor(
    private readonly grpc: EtcdGrpcClient,
    runId: string,
    index: number,
  ) {
    this.key = Buffer.from(`bench-${runId}-${index}`);
  }

  async next(): Promise<OperationOutcome> {
    const to = lifecycleNext[this.state] ?? "Running";
    const result = await this.grpc.put(this.key, Buffer.from(to));
    if (result.ok) this.state = to;
    return result;
  }
}
