import { FaultProxy, type FaultMode } from "../../../../packages/transport-tcp/test/fault-proxy.js";
import type { ProcessCluster } from "./process-cluster.js";

/**
 * Every peer link of the cluster through its own fault-injecting proxy, before the nodes start:
 * `proxies.get("n1>n2")` is what n1 dials to reach n2. The caller closes them after the cluster.
 */
export async function proxyEveryPeerLink(cluster: ProcessCluster): Promise<Map<string, FaultProxy>> {
  const proxies = new Map<string, FaultProxy>();
  for (const from of cluster.nodes) {
    for (const to of cluster.nodes) {
      if (from === to) continue;
      const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: to.peerPort } });
      proxies.set(`${from.id}>${to.id}`, proxy);
      cluster.dialThrough(from.id, to.id, `127.0.0.1:${proxy.address().port}`);
    }
  }
  return proxies;
}

/** Every link between `id` and the others, both ways, in `mode`. */
export function setLinksOf(proxies: ReadonlyMap<string, FaultProxy>, id: string, mode: FaultMode): void {
  for (const [key, proxy] of proxies) if (key.startsWith(`${id}>`) || key.endsWith(`>${id}`)) proxy.setMode(mode);
}
