import type { FrameSource } from "./relay.ts";
import type { ReplayRow } from "./replay-csv.ts";

export interface ReplayFramesConfig {
  channels: readonly string[];
  /** Samples per frame at most (a frame may end inside a row: every sample carries its own t). */
  samplesPerFrame: number;
  /** Times the recorded speed; null sends each frame as soon as the relay's window allows. */
  speed: number | null;
  /** Shift every t by (now - the first row's t), now taken when the first row is read. */
  shiftToNow?: boolean;
}

/** What a sent frame held, for the exact loss check: sample i is (t[i], channels[ch[i]], v[i]). */
export interface SentFrame {
  t: Float64Array;
  ch: Uint32Array;
  v: Float64Array;
  /** The file line of the frame's last row. */
  lastLine: number;
}

interface QueuedFrame extends SentFrame {
  /** Wall time after the start when the frame is due (ms). */
  dueMs: number;
  samplesJson: string;
}

/** The default frame limit is 1 MiB; the rest of the frame (ids, seq) fits in the margin. */
const MAX_SAMPLES_JSON_CHARS = 1_048_576 - 1_024;
/** At recorded speed a frame also ends after this much wall time of recording: consumers see it live. */
const MAX_FRAME_WAIT_MS = 1_000;
/** Frames read ahead of the relay: enough to keep its window full, bounded whatever the file's size. */
const READ_AHEAD_FRAMES = 256;

/**
 * The frames of a recording (FrameSource for SimRelay): rows are read into frames of up to `samplesPerFrame`
 * samples, each due when its last row's time has come at `speed` (the recording's clock is the latest time
 * seen so far, so rows that go back in time are sent at once). Remembers every frame it hands out by seq.
 */
export class ReplayFrames implements FrameSource {
  private readonly config: ReplayFramesConfig;
  private readonly queue: QueuedFrame[] = [];
  private readonly sentBySeq = new Map<number, SentFrame>();
  private reading = true;
  private cancelled = false;
  private startedAt: number | null = null;
  private readerWaiting: (() => void) | null = null;
  /** Samples handed out so far, and the file line of the last of them. */
  samplesSent = 0;
  lastLineSent = 0;

  constructor(config: ReplayFramesConfig) {
    this.config = config;
  }

  /** The frames handed out, by the seq they were sent with. */
  get sent(): ReadonlyMap<number, SentFrame> {
    return this.sentBySeq;
  }

  /**
   * Reads `rows` into frames, staying at most READ_AHEAD_FRAMES ahead of the relay; `onQueued` is called
   * for each frame (the relay may send it). Rejects with the reader's error (a bad row).
   */
  async read(rows: AsyncIterable<ReplayRow>, onQueued: () => void): Promise<void> {
    const { channels, samplesPerFrame, speed, shiftToNow } = this.config;
    const names = channels.map((c) => JSON.stringify(c));
    let builder = new FrameBuilder();
    let firstT: number | null = null;
    let shift: number | null = null;
    let clock = 0;
    const push = async () => {
      if (builder.count === 0) return;
      this.queue.push(builder.finish(speed === null ? 0 : builder.lastClock / speed));
      builder = new FrameBuilder();
      onQueued();
      while (this.queue.length >= READ_AHEAD_FRAMES && !this.cancelled) {
        await new Promise<void>((resolve) => {
          this.readerWaiting = resolve;
        });
      }
    };
    try {
      for await (const row of rows) {
        if (this.cancelled) return;
        firstT ??= row.t;
        shift ??= shiftToNow ? Date.now() - firstT : 0;
        const t = row.t + shift;
        const rowClock = Math.max(clock, row.t - firstT);
        if (
          speed !== null &&
          builder.count > 0 &&
          rowClock - builder.firstClock >= MAX_FRAME_WAIT_MS * speed
        ) {
          await push();
        }
        clock = rowClock;
        for (let i = 0; i < row.values.length; i++) {
          const v = row.values[i];
          if (v === undefined) continue;
          const text = `{"t":${t},"ch":${names[i]},"v":${jsonNumber(v)}}`;
          if (builder.count >= samplesPerFrame || builder.chars + text.length + 1 > MAX_SAMPLES_JSON_CHARS) {
            await push();
          }
          builder.add(text, t, i, v, row.line, clock);
        }
      }
      await push();
    } finally {
      this.reading = false;
      onQueued();
    }
  }

  /** Stops reading (the run ended early): `read` resolves without queueing more. */
  cancel(): void {
    this.cancelled = true;
    this.readerWaiting?.();
    this.readerWaiting = null;
  }

  /** The recording's time 0 is now. */
  start(now: number): void {
    this.startedAt = now;
  }

  next(now: number, seq: number): { samplesJson: string; samples: number } | null {
    const head = this.queue[0];
    if (!head || this.startedAt === null || now < this.startedAt + head.dueMs) return null;
    this.queue.shift();
    this.readerWaiting?.();
    this.readerWaiting = null;
    this.sentBySeq.set(seq, { t: head.t, ch: head.ch, v: head.v, lastLine: head.lastLine });
    this.samplesSent += head.t.length;
    this.lastLineSent = head.lastLine;
    return { samplesJson: head.samplesJson, samples: head.t.length };
  }

  get more(): boolean {
    return this.reading || this.queue.length > 0;
  }

  /** Milliseconds until the next read frame is due (0: due now), or null when none is read yet. */
  dueIn(now: number): number | null {
    const head = this.queue[0];
    if (!head || this.startedAt === null) return null;
    return Math.max(0, this.startedAt + head.dueMs - now);
  }
}

class FrameBuilder {
  private readonly texts: string[] = [];
  private readonly t: number[] = [];
  private readonly ch: number[] = [];
  private readonly v: number[] = [];
  chars = 0;
  /** The recording's clock at the frame's first and last sample (ms since the first row). */
  firstClock = 0;
  lastClock = 0;
  private lastLine = 0;

  get count(): number {
    return this.texts.length;
  }

  add(text: string, t: number, ch: number, v: number, line: number, clock: number): void {
    if (this.texts.length === 0) this.firstClock = clock;
    this.texts.push(text);
    this.chars += text.length + 1;
    this.t.push(t);
    this.ch.push(ch);
    this.v.push(v);
    this.lastLine = line;
    this.lastClock = clock;
  }

  finish(dueMs: number): QueuedFrame {
    return {
      dueMs,
      samplesJson: this.texts.join(","),
      t: Float64Array.from(this.t),
      ch: Uint32Array.from(this.ch),
      v: Float64Array.from(this.v),
      lastLine: this.lastLine,
    };
  }
}

/** The float64 as JSON text that parses back to the same bits (JSON.stringify would write -0 as 0). */
export function jsonNumber(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}
