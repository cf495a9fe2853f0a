import { describe, expect, it } from "vitest";
import { decodeWatchMessage, watchUrl } from "./watch-message.js";

describe("decodeWatchMessage", () => {
  it("decodes events and errors", () => {
    expect(decodeWatchMessage('{"type":"transition","revision":3,"key":"a","from":"Init","to":"Running"}')).toEqual({
      kind: "event",
      event: { type: "transition", revision: 3, key: "a", from: "Init", to: "Running" },
    });
    expect(decodeWatchMessage('{"type":"error","code":"overloaded","message":"slow down"}')).toEqual({
      kind: "error",
      error: { type: "error", code: "overloaded", message: "slow down" },
    });
  });

  it("never throws on bad input", () => {
    for (const text of ["", "{", "null", "[]", '{"type":"transition","revision":-1,"key":"a","from":"Init","to":"Running"}']) {
      expect(decodeWatchMessage(text).kind).toBe("invalid");
    }
  });
});

describe("watchUrl", () => {
  it("maps http to ws and https to wss", () => {
    expect(watchUrl("http://127.0.0.1:8401", 7)).toBe("ws://127.0.0.1:8401/v1/watch?from=7");
    expect(watchUrl("https://example.org/base/", 1)).toBe("wss://example.org/base/v1/watch?from=1");
  });
});
