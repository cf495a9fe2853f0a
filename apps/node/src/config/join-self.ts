const wildcardHosts = new Set(["0.0.0.0", "::", ""]);

/** The host of `host:port`, IPv6 brackets removed. */
function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
}

export type JoinSelf = { ok: true; self: { id: string; peerAddress: string; clientUrl: string } } | { ok: false; field: "peerListenAddress" | "clientListenAddress" | "advertisePeerAddress" | "advertiseClientUrl" | "joinToken" | "join"; reason: string };

/**
 * The member a joining node announces: its advertised addresses, which default to its listen
 * addresses unless those are wildcards (the other nodes cannot dial `0.0.0.0`). A config file
 * whose `members` names this node (the file it ran with before its data was lost) supplies the
 * addresses the flags leave out, so the same file works for a rejoin.
 */
export function joinSelf(parsed: {
  nodeId: string;
  members?: readonly { id: string; peerAddress: string; clientUrl: string }[] | undefined;
  join?: string | undefined;
  joinDns?: string | undefined;
  joinToken?: string | undefined;
  peerListenAddress?: string | undefined;
  clientListenAddress?: string | undefined;
  advertisePeerAddress?: string | undefined;
  advertiseClientUrl?: string | undefined;
}): JoinSelf {
  if (parsed.join !== undefined && parsed.joinDns !== undefined) return { ok: false, field: "join", reason: "give join or joinDns, not both" };
  if (parsed.joinToken === undefined) return { ok: false, field: "joinToken", reason: "required with join or joinDns (lockstep member join-token creates one)" };
  const listed = parsed.members?.find((member) => member.id === parsed.nodeId);
  if (listed !== undefined) {
    return {
      ok: true,
      self: {
        id: parsed.nodeId,
        peerAddress: parsed.advertisePeerAddress ?? advertisable(parsed.peerListenAddress) ?? listed.peerAddress,
        clientUrl: parsed.advertiseClientUrl ?? (advertisable(parsed.clientListenAddress) === undefined ? listed.clientUrl : `${new URL(listed.clientUrl).protocol}//${parsed.clientListenAddress!}`),
      },
    };
  }
  if (parsed.peerListenAddress === undefined && parsed.advertisePeerAddress === undefined) {
    return { ok: false, field: "peerListenAddress", reason: "required with join or joinDns: the address this node's peer port listens on" };
  }
  if (parsed.clientListenAddress === undefined && parsed.advertiseClientUrl === undefined) {
    return { ok: false, field: "clientListenAddress", reason: "required with join or joinDns: the address this node's client API listens on" };
  }
  const peerAddress = parsed.advertisePeerAddress ?? parsed.peerListenAddress!;
  if (parsed.advertisePeerAddress === undefined && wildcardHosts.has(hostOf(peerAddress))) {
    return { ok: false, field: "advertisePeerAddress", reason: `required: peerListenAddress ${peerAddress} is a wildcard the other members cannot dial` };
  }
  const clientListen = parsed.clientListenAddress;
  if (parsed.advertiseClientUrl === undefined && wildcardHosts.has(hostOf(clientListen!))) {
    return { ok: false, field: "advertiseClientUrl", reason: `required: clientListenAddress ${clientListen} is a wildcard clients cannot reach` };
  }
  return { ok: true, self: { id: parsed.nodeId, peerAddress, clientUrl: parsed.advertiseClientUrl ?? `http://${clientListen}` } };
}

/** A listen address others can dial as it is: given, and not a wildcard. */
function advertisable(listenAddress: string | undefined): string | undefined {
  return listenAddress === undefined || wildcardHosts.has(hostOf(listenAddress)) ? undefined : listenAddress;
}
