import { describe, expect, it } from "vitest";
import { type SocketState, Sockets } from "./sockets";

/** A socket as the runtime hands it back after hibernation: an attachment and a ready state. */
function fakeSocket(state: SocketState, open = true) {
  let attachment = structuredClone(state);
  const ws = {
    readyState: open ? WebSocket.OPEN : WebSocket.CLOSING,
    deserializeAttachment: () => attachment,
    serializeAttachment: (value: SocketState) => {
      attachment = value;
    },
    reads: 0,
  };
  return ws;
}

function sockets(list: ReturnType<typeof fakeSocket>[]) {
  const ctx = { getWebSockets: () => list } as unknown as DurableObjectState;
  return new Sockets(ctx);
}

const relay = (sessions: string[], exp = 2e9, open = true) =>
  fakeSocket({ role: "relay", exp, relays: ["r"], sessions }, open);

describe("Sockets", () => {
  it("tells which sessions a closing relay leaves uncarried, once, in work proportional to its own sessions", () => {
    const list = Array.from({ length: 4_000 }, (_, i) => relay([`s${i}`, "shared"]));
    const s = sockets(list);
    let reads = 0;
    for (const ws of list) {
      const original = ws.deserializeAttachment;
      ws.deserializeAttachment = () => {
        reads++;
        return original();
      };
    }
    const uncarried: string[] = [];
    for (const ws of list) {
      ws.readyState = WebSocket.CLOSED;
      uncarried.push(...s.release(ws as unknown as WebSocket));
      uncarried.push(...s.release(ws as unknown as WebSocket)); // a close after an error: nothing twice
    }
    expect(uncarried).toHaveLength(4_001);
    expect(uncarried.at(-1)).toBe("shared");
    // Each attachment is read once (when the index is built), not once per close: linear, not quadratic.
    expect(reads).toBe(4_000);
    expect(s.carriedSessions()).toEqual(new Set());
  });

  it("a socket already closing when the index is built hands back the sessions nobody else carries", () => {
    const closing = relay(["a", "b"], 2e9, false);
    const other = relay(["b"]);
    const s = sockets([closing, other]);
    expect(s.release(closing as unknown as WebSocket)).toEqual(["a"]);
  });

  it("counts sessions a socket starts carrying after the index was built", () => {
    const ws = relay([]);
    const s = sockets([ws]);
    expect(s.carriedSessions()).toEqual(new Set());
    s.carry(ws as unknown as WebSocket, "r", "late");
    expect(s.carriedSessions()).toEqual(new Set(["late"]));
    expect(s.release(ws as unknown as WebSocket)).toEqual(["late"]);
  });

  it("next token expiry ignores sockets already closing (an expired one that lingers re-armed the alarm at once)", () => {
    const s = sockets([relay([], 100, false), relay([], 200)]);
    expect(s.nextExpiry()).toBe(200_000);
    expect(sockets([relay([], 100, false)]).nextExpiry()).toBeNull();
  });
});
