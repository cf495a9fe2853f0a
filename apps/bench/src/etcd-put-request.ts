/**
 * The protobuf bytes of etcd's `etcdserverpb.PutRequest { bytes key = 1; bytes value = 2; }`,
 * the only message the bench sends. Two length-delimited fields need no protobuf library: a tag
 * byte (field number << 3 | wire type 2), a varint length, then the bytes.
 */
export function encodePutRequest(key: Uint8Array, value: Uint8Array): Buffer {
  return Buffer.concat([lengthDelimitedField(1, key), lengthDelimitedField(2, value)]);
}

/**
 * A gRPC message on the wire (gRPC over HTTP/2, "Length-Prefixed-Message"): one byte that says
 * "not compressed", the message's length as 4 bytes big-endian, then the message.
 */
export function grpcFrame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([header, message]);
}

function lengthDelimitedField(fieldNumber: number, bytes: Uint8Array): Buffer {
  const wireTypeLengthDelimited = 2;
  return Buffer.concat([varint((fieldNumber << 3) | wireTypeLengthDelimited), varint(bytes.byteLength), bytes]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
