export { MemoryStorage } from "./memory-storage.js";
export { FileStorage } from "./file-storage.js";
export type { FileStorageStatus } from "./file-storage.js";
export type { FileStorageOptions } from "./file-storage-options.js";
export type { FsyncPolicy } from "./wal-writer.js";
export { StorageError } from "./storage-error.js";
export type { StorageErrorCode } from "./storage-error.js";
