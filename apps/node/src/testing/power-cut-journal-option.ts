import { PowerCutFileSystem, type FileSystem } from "@lockstep/storage";
import type { ListenAddress } from "../config/load-config.js";
import { isLoopbackHost } from "../config/loopback-host.js";

/**
 * TEST ONLY. Names a power-cut journal: the node's storage then runs on `PowerCutFileSystem`
 * (node:fs plus an undo journal), so that a test can SIGKILL the process and cut the power
 * (`cutPower`) as if the machine had lost every write no fsync covered. This is the one place
 * that reads it. Never set it in production: a journal on every write halves the disk's speed
 * and is meant to be consumed by a test.
 */
export const powerCutJournalVariable = "LOCKSTEP_TEST_POWER_CUT_JOURNAL";

export type PowerCutJournalOption =
  | { ok: true; fileSystem: FileSystem | undefined; journalPath: string | null }
  | { ok: false; message: string };

/**
 * The file system the node's storage uses: node:fs (undefined: storage's default) unless the
 * variable is set. Refused loudly when either listener is reachable from another machine, since
 * a test-only layer on a real deployment is a mistake that would otherwise pass unnoticed.
 */
export function powerCutJournalOption(environment: NodeJS.ProcessEnv, listen: { peerListen: ListenAddress; clientListen: ListenAddress }): PowerCutJournalOption {
  const journalPath = environment[powerCutJournalVariable];
  if (journalPath === undefined || journalPath === "") return { ok: true, fileSystem: undefined, journalPath: null };
  for (const [name, address] of [["peerListenAddress", listen.peerListen], ["clientListenAddress", listen.clientListen]] as const) {
    if (!isLoopbackHost(address.host)) {
      return {
        ok: false,
        message: `${powerCutJournalVariable} is set (a test-only power-cut journal), but ${name} ${address.host}:${address.port} is not a loopback address; refusing to start (unset it: it is for tests on this machine only)`,
      };
    }
  }
  try {
    return { ok: true, fileSystem: new PowerCutFileSystem({ journalPath }), journalPath };
  } catch (error) {
    return { ok: false, message: `${powerCutJournalVariable}=${journalPath}: ${error instanceof Error ? error.message : String(error)}` };
  }
}
