export { MemoryStorage, type MemoryStorageOptions } from "./memory-storage.js";
export { FileStorage } from "./file-storage.js";
export type { FileStorageStatus } from "./file-storage.js";
export type { FileStorageOptions } from "./file-storage-options.js";
export type { FsyncPolicy } from "./wal-writer.js";
export { StorageError } from "./storage-error.js";
export type { StorageErrorCode } from "./storage-error.js";
export type { DirectoryLock, FileHandle, FileStat, FileSystem, OpenMode } from "./file-system.js";
export { FileSystemError } from "./file-system.js";
export { nodeFileSystem } from "./node-file-system.js";
export { SimulatedDisk } from "./simulated-disk.js";
export type { SimulatedDiskOptions, SimulatedDiskStats } from "./simulated-disk.js";
export { crashOnlyDiskFaults, describeDiskFaults, drawDiskFaults, perfectDiskFaults } from "./disk-faults.js";
export type { DiskFaults } from "./disk-faults.js";
// Test only: power cuts of real processes (an undo journal on the real file system, and the cut).
export { PowerCutFileSystem, journalBackupDirectory } from "./power-cut-file-system.js";
export type { PowerCutFileSystemOptions } from "./power-cut-file-system.js";
export { cutPower, describePowerCut, drawPowerCutFaults } from "./cut-power.js";
export type { CutPowerOptions, PowerCutFaults, PowerCutReport } from "./cut-power.js";
