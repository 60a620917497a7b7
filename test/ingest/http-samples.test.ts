import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { breakD1For, repairD1For } from "../support/d1-fault";
import { readSamples, runFlush } from "../support/user-object";
import { BASE, connect, postFrame, samplesFrame, tokenFor } from "../support/ws-client";

describe("POST /v1/users/:user_id/samples", () => {
  it("answers 200 with the ack once durable, acks a resend without storing it twice", async () => {
    const user = "http-post";
    const consumer = await connect("consumer", user);
    const frame = samplesFrame("gw1", "s1", 1, 3);
    const res = await postFrame(user, frame);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: "ack", seq: 1 });
    // Fanned out to live consumers like a socket relay's frame.
    expect(await consumer.next()).toEqual(frame);
    const again = await postFrame(user, frame);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ type: "ack", seq: 1 });
    await runFlush(user);
    expect((await readSamples(user)).body.count).toBe(3);
  });

  it("answers 429 buffer_full with Retry-After, and accepts the frame after a flush", async () => {
    const user = "http-full";
    await breakD1For(user); // the flush is held until the buffer has filled
    // vitest.config.ts: BUFFER_CAPACITY 20000.
    expect((await postFrame(user, samplesFrame("gw1", "s1", 1, 10_000))).status).toBe(200);
    expect((await postFrame(user, samplesFrame("gw1", "s1", 2, 10_000))).status).toBe(200);
    const full = await postFrame(user, samplesFrame("gw1", "s1", 3, 1));
    expect(full.status).toBe(429);
    const reply = (await full.json()) as { code: string; retry_after_ms: number; seq: number };
    expect(reply).toMatchObject({ type: "error", code: "buffer_full", seq: 3 });
    expect(Number(full.headers.get("Retry-After"))).toBe(Math.ceil(reply.retry_after_ms / 1000));
    await repairD1For(user);
    await runFlush(user);
    expect((await postFrame(user, samplesFrame("gw1", "s1", 3, 1))).status).toBe(200);
  });

  it("answers 413 from the declared Content-Length before reading the body", async () => {
    const res = await postFrame("http-413", "x".repeat(1_048_577));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      code: "too_large",
      message: "frame is larger than 1048576 bytes",
    });
  });

  it("answers 413 for a body without Content-Length once it grows past MAX_FRAME_BYTES", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 32) return controller.close(); // 2 MiB in all, never declared
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await exports.default.fetch(`${BASE}/v1/users/http-413-chunked/samples`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await tokenFor("http-413-chunked", "relay")}` },
      body,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      code: "too_large",
      message: "frame is larger than 1048576 bytes",
    });
    expect(sent).toBeLessThan(32);
  });
});
