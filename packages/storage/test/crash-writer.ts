/**
 * The child process of the crash tests: writes entries to a FileStorage with several concurrent
 * writers until it is killed, and prints one line per write whose persist() resolved.
 *
 *   node --conditions=source --import tsx test/crash-writer.ts DIRECTORY TERM WRITERS
 *
 * Lines: `hard TERM`, `durable FIRST_INDEX TERM COUNT TAG` (entries FIRST_INDEX.. with keys
 * `key-TAG-INDEX`), `snapshot INDEX`, `ready`. The parent treats every printed line as a promise
 * the storage made and checks it after the kill.
 */
import type { Entry } from "@lockstep/protocol";
import { FileStorage } from "../src/index.js";

const [directory = "", termText = "1", writersText = "8"] = process.argv.slice(2);
const term = Number(termText);
const writerCount = Number(writersText);
const snapshotDistanceEntries = 150;

function entryAt(index: number, tag: string): Entry {
  return { index, term, command: { kind: "transition", key: `key-${tag}-${index}`, to: "Running" } };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const storage = await FileStorage.open({ directory, fsyncPolicy: "always", segmentBytesMax: 16 * 1024, entriesInMemoryMax: 64 });
const state = await storage.load();
const termOf = new Map<number, number>(state.entries.map((entry) => [entry.index, entry.term]));
let snapshotIndex = state.snapshot?.meta.index ?? 0;
let nextIndex = (state.entries.at(-1)?.index ?? snapshotIndex) + 1;
let durableIndex = nextIndex - 1;

await storage.persist({ hardState: { term, votedFor: "n1", commitIndex: 0 }, entries: [] });
say(`hard ${term}`);

// Every third round rewrites the newest two entries, as a node does when a new leader's log wins.
if (term % 3 === 0 && nextIndex - 2 > snapshotIndex + 1) {
  const first = nextIndex - 2;
  const tag = `r${term}`;
  await storage.persist({ entries: [entryAt(first, tag), entryAt(first + 1, tag)] });
  termOf.set(first, term).set(first + 1, term);
  say(`durable ${first} ${term} 2 ${tag}`);
}
say("ready");

async function writer(tag: string): Promise<void> {
  for (;;) {
    const index = nextIndex;
    nextIndex += 1;
    termOf.set(index, term);
    await storage.persist({ entries: [entryAt(index, tag)] });
    durableIndex = Math.max(durableIndex, index);
    say(`durable ${index} ${term} 1 ${tag}`);
  }
}

async function snapshotter(): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const index = durableIndex;
    const entryTerm = termOf.get(index);
    if (index - snapshotIndex < snapshotDistanceEntries || entryTerm === undefined) continue;
    const data = new TextEncoder().encode(JSON.stringify({ index }));
    await storage.saveSnapshot({ meta: { index, term: entryTerm, members: [{ id: "n1", peerAddress: "", clientUrl: "", voter: true }] }, data });
    await storage.compact(index);
    for (const known of termOf.keys()) if (known <= index) termOf.delete(known);
    snapshotIndex = index;
    say(`snapshot ${index}`);
  }
}

await Promise.all([...Array.from({ length: writerCount }, (_, writerNumber) => writer(`w${writerNumber}`)), snapshotter()]);
