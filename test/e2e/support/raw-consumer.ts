import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";

/**
 * A WebSocket consumer on a bare TCP socket, so that a test can stop reading (as a stalled phone would) and
 * later read what the server sent: its frames and its close code. Server frames are unmasked (RFC 6455 §5.1).
 */
export class RawConsumer {
  private bytes = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk]);
    });
  }

  static open(port: number, path: string): Promise<RawConsumer> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      let head = Buffer.alloc(0);
      const onHead = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onHead);
        const status = head.subarray(0, head.indexOf("\r\n")).toString();
        if (!status.includes(" 101 ")) return reject(new Error(`upgrade refused: ${head.toString()}`));
        const consumer = new RawConsumer(socket);
        consumer.bytes = head.subarray(end + 4);
        resolve(consumer);
      };
      socket.on("data", onHead);
      socket.once("error", reject);
    });
  }

  /** Stops reading: the kernel's buffers fill, then the server's. */
  stopReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Text frames received so far and the close code, if a close frame arrived. */
  frames(): { texts: number; closeCode: number | null; closeReason: string } {
    let offset = 0;
    let texts = 0;
    while (offset + 2 <= this.bytes.length) {
      const opcode = (this.bytes[offset] as number) & 0x0f;
      let length = (this.bytes[offset + 1] as number) & 0x7f;
      let header = 2;
      if (length === 126) {
        if (offset + 4 > this.bytes.length) break;
        length = this.bytes.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (offset + 10 > this.bytes.length) break;
        length = Number(this.bytes.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (offset + header + length > this.bytes.length) break;
      const payload = this.bytes.subarray(offset + header, offset + header + length);
      if (opcode === 0x1) texts++;
      if (opcode === 0x8) {
        return { texts, closeCode: payload.readUInt16BE(0), closeReason: payload.subarray(2).toString() };
      }
      offset += header + length;
    }
    return { texts, closeCode: null, closeReason: "" };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Resident memory of every process in a process group (from /proc), MiB. */
export function groupRssMiB(group: number): number {
  let kib = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== group) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      kib += Number(rss?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kib / 1024;
}
