import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from "node:http2";
import { encodePutRequest, grpcFrame } from "./etcd-put-request.js";
import type { OperationOutcome } from "./load-generator.js";
import { requestTimeoutMs, responseBytesMax } from "./http-json-client.js";

/** gRPC status 0 is OK; anything else is an error named by `grpc-message`. */
const grpcStatusOk = "0";

/**
 * etcd's native API as its own clients use it: unary gRPC calls over one HTTP/2 connection with
 * many calls in flight (etcd's `benchmark` tool defaults to one connection as well). Written on
 * node:http2 for the one call the bench makes (`KV/Put`), so the generator pays only HTTP/2 and a
 * few bytes of protobuf per request, not a general gRPC stack; its CPU is reported in every table.
 */
export class EtcdGrpcClient {
  private readonly session: ClientHttp2Session;
  private failure: string | null = null;

  constructor(baseUrl: URL) {
    this.session = connect(baseUrl.origin);
    this.session.on("error", (error: NodeJS.ErrnoException) => {
      this.failure = error.code ?? "session_error";
    });
  }

  put(key: Uint8Array, value: Uint8Array): Promise<OperationOutcome> {
    if (this.failure !== null) return Promise.resolve({ ok: false, code: this.failure });
    const body = grpcFrame(encodePutRequest(key, value));
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: OperationOutcome): void => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const stream = this.session.request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: "/etcdserverpb.KV/Put",
        [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
        te: "trailers",
      });
      stream.setTimeout(requestTimeoutMs, () => stream.close(constants.NGHTTP2_CANCEL));
      let received = 0;
      let status: string | null = null;
      // A "trailers-only" answer (an error) carries grpc-status in the headers; a normal one in the trailers.
      stream.on("response", (headers: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
        const httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
        if (httpStatus !== 200) return settle({ ok: false, code: `http_${String(httpStatus)}` });
        const headerStatus = headers["grpc-status"];
        if (typeof headerStatus === "string") status = headerStatus;
      });
      stream.on("trailers", (trailers: IncomingHttpHeaders) => {
        const trailerStatus = trailers["grpc-status"];
        if (typeof trailerStatus === "string") status = trailerStatus;
      });
      stream.on("data", (chunk: Buffer) => {
        received += chunk.byteLength;
        if (received > responseBytesMax) stream.close(constants.NGHTTP2_CANCEL);
      });
      stream.on("error", (error: NodeJS.ErrnoException) => settle({ ok: false, code: error.code ?? "stream_error" }));
      stream.on("close", () => {
        if (received > responseBytesMax) return settle({ ok: false, code: "response_too_large" });
        if (status === null) return settle({ ok: false, code: "no_grpc_status" });
        settle(status === grpcStatusOk ? { ok: true } : { ok: false, code: `grpc_${status}` });
      });
      stream.end(body);
    });
  }

  close(): void {
    this.session.close();
  }
}
