import { MemoryStorage } from "./memory-storage.js";
import { describeStorageConformance } from "./testing/storage-conformance.js";

describeStorageConformance("MemoryStorage", {
  create: () => Promise.resolve(new MemoryStorage()),
  restart: (storage) => Promise.resolve(storage),
});
