import { z } from "zod";

/**
 * The multiplexed client protocol: one WebSocket on the client port (`GET /v1/rpc`, upgraded)
 * carries many API requests at once. A request frame names the HTTP method and path it stands
 * for and carries the JSON body; the node routes it through the same handlers as the plain HTTP
 * API and answers with the status and body that HTTP request would have got, tagged with the
 * request's `id`. Answers come in any order.
 */
export const rpcPath = "/v1/rpc";

/** Bytes a request frame may add to its body (id, method, path): frames are bounded by `requestBodyBytesMax` plus this. */
export const rpcFrameOverheadBytes = 4096;
/** A path (with its query) in a frame, at most. */
export const rpcPathLengthMax = 2048;

export const RpcMethodSchema = z.enum(["GET", "POST", "DELETE"]);
export type RpcMethod = z.infer<typeof RpcMethodSchema>;

const RpcIdSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** `{"id":1,"method":"POST","path":"/v1/machines/web-1/transition","body":{"to":"Running"}}` */
export const RpcRequestFrameSchema = z.strictObject({
  id: RpcIdSchema,
  method: RpcMethodSchema,
  path: z.string().min(1).max(rpcPathLengthMax).startsWith("/", "path must start with /"),
  body: z.unknown().optional(),
});
export type RpcRequestFrame = z.infer<typeof RpcRequestFrameSchema>;

/**
 * `{"id":1,"status":200,"body":{...}}`: the HTTP status and JSON body the same request gets over
 * HTTP. `id` is null only for an answer to a frame whose id could not be read. A non-JSON answer
 * (none of the routes served over this protocol has one) would come as `text`.
 */
export const RpcAnswerFrameSchema = z.object({
  id: RpcIdSchema.nullable(),
  status: z.number().int().min(100).max(599),
  body: z.unknown().optional(),
  text: z.string().optional(),
});
export type RpcAnswerFrame = z.infer<typeof RpcAnswerFrameSchema>;

export type RpcFrameDecodeResult<T> = { ok: true; frame: T } | { ok: false; id: number | null; reason: string };

/** Decodes one request frame; never throws. On failure `id` is the frame's id when it was readable. */
export function decodeRpcRequestFrame(text: string): RpcFrameDecodeResult<RpcRequestFrame> {
  return decodeFrame(text, RpcRequestFrameSchema, wellFormedRequestFrame);
}

const requestFrameKeys = new Set(["id", "method", "path", "body"]);
const requestMethods = new Set<unknown>(RpcMethodSchema.options);

/**
 * The frame when `json` is a well-formed request frame, checked by hand: every frame of
 * `/v1/rpc` passes here, and the schema's parse cost about 3 us a frame on a leader's profile.
 * It accepts exactly what `RpcRequestFrameSchema` accepts (a property test holds the two
 * together) and returns undefined for anything else, which then goes through the schema for the
 * error message.
 */
export function wellFormedRequestFrame(json: unknown): RpcRequestFrame | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const record = json as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!requestFrameKeys.has(key)) return undefined;
  const { id, method, path } = record;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) return undefined;
  if (!requestMethods.has(method)) return undefined;
  if (typeof path !== "string" || path.length < 1 || path.length > rpcPathLengthMax || !path.startsWith("/")) return undefined;
  const frame: RpcRequestFrame = { id, method: method as RpcMethod, path };
  if ("body" in record) frame.body = record.body;
  return frame;
}

/** Decodes one answer frame; never throws. */
export function decodeRpcAnswerFrame(text: string): RpcFrameDecodeResult<RpcAnswerFrame> {
  return decodeFrame(text, RpcAnswerFrameSchema);
}

function decodeFrame<T>(text: string, schema: z.ZodType<T>, wellFormed?: (json: unknown) => T | undefined): RpcFrameDecodeResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, id: null, reason: `frame is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const frame = wellFormed?.(json);
  if (frame !== undefined) return { ok: true, frame };
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length === 0 ? "frame" : issue.path.map(String).join(".");
  return { ok: false, id: readableId(json), reason: `${field}: ${issue.message}` };
}

function readableId(json: unknown): number | null {
  if (typeof json !== "object" || json === null || !("id" in json)) return null;
  return RpcIdSchema.safeParse(json.id).success ? (json.id as number) : null;
}
