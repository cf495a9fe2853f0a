/**
 * Standard base64 (RFC 4648, with padding) for snapshot chunks. Written here because the core
 * imports no `node:*` module and must not depend on `Buffer`.
 */
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const decodeTable = new Int16Array(128).fill(-1);
for (let position = 0; position < alphabet.length; position++) decodeTable[alphabet.charCodeAt(position)] = position;

/** Characters are built in pieces of this many bytes so no single string concatenation grows huge. */
const encodePieceBytesMax = 3 * 8192;

export function encodeBase64(bytes: Uint8Array): string {
  const pieces: string[] = [];
  for (let pieceStart = 0; pieceStart < bytes.length; pieceStart += encodePieceBytesMax) {
    const pieceEnd = Math.min(bytes.length, pieceStart + encodePieceBytesMax);
    const characters: string[] = [];
    for (let position = pieceStart; position < pieceEnd; position += 3) {
      const byte0 = bytes[position] ?? 0;
      const byte1 = bytes[position + 1] ?? 0;
      const byte2 = bytes[position + 2] ?? 0;
      const remaining = pieceEnd - position;
      characters.push(
        alphabet[byte0 >> 2] ?? "",
        alphabet[((byte0 & 3) << 4) | (byte1 >> 4)] ?? "",
        remaining > 1 ? (alphabet[((byte1 & 15) << 2) | (byte2 >> 6)] ?? "") : "=",
        remaining > 2 ? (alphabet[byte2 & 63] ?? "") : "=",
      );
    }
    pieces.push(characters.join(""));
  }
  return pieces.join("");
}

export type DecodeBase64Result = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/** Decodes padded base64; never throws. */
export function decodeBase64(text: string): DecodeBase64Result {
  if (text.length % 4 !== 0) return { ok: false, reason: "length is not a multiple of 4" };
  let padding = 0;
  if (text.endsWith("==")) padding = 2;
  else if (text.endsWith("=")) padding = 1;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let written = 0;
  for (let position = 0; position < text.length; position += 4) {
    const isLastGroup = position + 4 === text.length;
    let group = 0;
    for (let offset = 0; offset < 4; offset++) {
      const code = text.charCodeAt(position + offset);
      const isPadding = code === 61 && isLastGroup && offset >= 4 - padding;
      const value = isPadding ? 0 : code < 128 ? (decodeTable[code] ?? -1) : -1;
      if (value < 0) return { ok: false, reason: `invalid character at ${position + offset}` };
      group = (group << 6) | value;
    }
    const groupBytes = isLastGroup ? 3 - padding : 3;
    if (groupBytes >= 1) bytes[written++] = (group >> 16) & 255;
    if (groupBytes >= 2) bytes[written++] = (group >> 8) & 255;
    if (groupBytes >= 3) bytes[written++] = group & 255;
  }
  return { ok: true, bytes };
}
