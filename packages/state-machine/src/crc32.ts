// CRC-32 (IEEE 802.3, the polynomial zlib and PNG use), table-driven, eight bytes per step
// ("slicing-by-8"): a snapshot of a million keys is tens of megabytes, and the byte-at-a-time
// loop took longer than encoding it. It guards snapshots against torn writes and bit rot; it is
// not a defence against an adversary (the transport signs messages).

/** Eight tables of 256: `tables[k * 256 + b]` is the CRC of byte `b` followed by `k` zero bytes. */
const tables = buildTables();

function buildTables(): Uint32Array {
  const entries = new Uint32Array(8 * 256);
  for (let byte = 0; byte < 256; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    entries[byte] = value >>> 0;
  }
  for (let slice = 1; slice < 8; slice++) {
    for (let byte = 0; byte < 256; byte++) {
      const previous = entries[(slice - 1) * 256 + byte]!;
      entries[slice * 256 + byte] = (entries[previous & 0xff]! ^ (previous >>> 8)) >>> 0;
    }
  }
  return entries;
}

/**
 * The CRC-32 of `bytes` as an unsigned 32-bit integer. With `previous`, the CRC of what came
 * before: `crc32(b, crc32(a))` is the CRC of `a` followed by `b`, so a body written in pieces is
 * checksummed as it is written.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let crc = (previous ^ 0xffffffff) >>> 0;
  let offset = 0;
  const wholeEnd = bytes.length - (bytes.length % 8);
  while (offset < wholeEnd) {
    const low = (crc ^ (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24))) >>> 0;
    crc =
      tables[7 * 256 + (low & 0xff)]! ^
      tables[6 * 256 + ((low >>> 8) & 0xff)]! ^
      tables[5 * 256 + ((low >>> 16) & 0xff)]! ^
      tables[4 * 256 + (low >>> 24)]! ^
      tables[3 * 256 + bytes[offset + 4]!]! ^
      tables[2 * 256 + bytes[offset + 5]!]! ^
      tables[256 + bytes[offset + 6]!]! ^
      tables[bytes[offset + 7]!]!;
    offset += 8;
  }
  while (offset < bytes.length) crc = tables[(crc ^ bytes[offset++]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The CRC-32 of `bytes` as 8 lowercase hex characters. */
export function crc32Hex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, "0");
}
