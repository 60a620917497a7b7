import { connect } from "node:net";
import { mintToken } from "../../../tools/lib/token.ts";

/**
 * Opens a relay WebSocket by hand over TCP and sends a frame with a reserved opcode, a protocol violation the
 * server must treat as a WebSocket error (RFC 6455 §5.2). Nothing in the platform's WebSocket client can
 * send a broken frame, which is why this speaks the handshake itself.
 */
export async function sendProtocolViolation(baseUrl: string, secret: string, userId: string): Promise<void> {
  const { hostname, port } = new URL(baseUrl);
  const token = await mintToken({ secret, userId, role: "relay" });
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const upgraded = new Promise<void>((resolve) =>
    socket.once("data", (d: Buffer) => {
      if (d.toString().startsWith("HTTP/1.1 101")) resolve();
    }),
  );
  socket.write(
    `GET /v1/relay?user_id=${userId}&token=${token} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\n` +
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await upgraded;
  // The server answers the violation with a close frame (opcode 0x8, code 1002): wait for it, not for a guess.
  const closeFrame = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no close frame after a protocol violation")), 10_000);
    socket.on("data", (d: Buffer) => {
      if (d[0] === 0x88) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // FIN + reserved opcode 0x3, unmasked, 2 bytes of payload.
  socket.write(Buffer.from([0x83, 0x02, 0x68, 0x69]));
  await closeFrame;
  socket.destroy();
}
