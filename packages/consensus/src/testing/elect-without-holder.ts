import { transition, type Network } from "./network.js";

/**
 * n1 (the only node left holding the entry a scenario made n2 lose) goes away; n2 and n3 try to
 * elect, and n3 writes over the index whenever it leads (the network's state machine safety check
 * throws if that ever applies).
 */
export function electWithoutTheHolder(network: Network, rounds = 300): void {
  network.heal();
  network.isolate("n1");
  for (let round = 0; round < rounds; round++) {
    network.tick("n2");
    network.tick("n3");
    network.deliverAll();
    if (network.node("n3").summary().role === "leader") network.propose("n3", [transition("overwrites-3")]);
  }
}
