import * as zlib from "node:zlib";

/**
 * CRC-32 (IEEE 802.3, the zlib polynomial) of `bytes`. Uses `zlib.crc32` where the runtime has it
 * (Node 20.15+, 22.2+) and a table-driven version otherwise, since package.json allows Node 20.10.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return nativeCrc32 === undefined ? tableCrc32(bytes, previous) : nativeCrc32(bytes, previous);
}

const nativeCrc32: ((data: Uint8Array, value?: number) => number) | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === "function" ? zlib.crc32 : undefined;

const crcTable: Uint32Array = buildCrcTable();

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let value = byte;
    for (let bit = 0; bit < 8; bit += 1) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[byte] = value >>> 0;
  }
  return table;
}

/** The portable fallback; exported so that tests can compare it with the native one. */
export function tableCrc32(bytes: Uint8Array, previous = 0): number {
  let value = (previous ^ 0xffffffff) >>> 0;
  for (const byte of bytes) value = (crcTable[(value ^ byte) & 0xff] ?? 0) ^ (value >>> 8);
  return (value ^ 0xffffffff) >>> 0;
}
