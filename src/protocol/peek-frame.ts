/**
 * The relay id and seq of a `samples` frame read from its text without parsing it: enough to refuse a frame
 * under backpressure for about half a JSON.parse and none of the validation (docs/architecture.md,
 * "Backpressure": ~1.3 ms for a 570 KB frame of 10,000 samples, where parse and validation take several).
 *
 * Only top-level keys count, as JSON.parse would read them (the last of a repeated key wins): nested values
 * (a per-sample "seq", an extra object) are skipped whole, strings with their escapes. Returns null when the
 * head cannot be read exactly this way (not an object, malformed, a key not as the parser would accept it);
 * the frame is then parsed as usual.
 */
const RELAY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const SEQ = /^[1-9]\d{0,15}$/;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function peekSamplesHead(text: string): { relayId: string; seq: number } | null {
  const scan = new TopLevelScan(text);
  let type: string | undefined;
  let relayId: string | undefined;
  let seqText: string | undefined;
  if (!scan.open()) return null;
  for (;;) {
    const key = scan.key();
    if (key === null) return null;
    const start = scan.at;
    if (!scan.skipValue()) return null;
    const raw = text.slice(start, scan.at);
    if (key === "type") type = raw;
    else if (key === "relay_id") relayId = raw;
    else if (key === "seq") seqText = raw;
    const next = scan.next();
    if (next === null) return null;
    if (next === "}") break;
  }
  if (type !== '"samples"' || relayId === undefined || seqText === undefined) return null;
  const id = relayId.slice(1, -1);
  if (!relayId.startsWith('"') || !RELAY_ID.test(id) || !SEQ.test(seqText)) return null;
  const seq = Number(seqText);
  return Number.isSafeInteger(seq) ? { relayId: id, seq } : null;
}

/** A cursor over a JSON object's top level; every method returns false/null on what it cannot read. */
class TopLevelScan {
  at = 0;
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  open(): boolean {
    this.#space();
    if (this.text[this.at] !== "{") return false;
    this.at++;
    return true;
  }

  /** The next key (escapes make it unreadable here: null), past its colon. */
  key(): string | null {
    this.#space();
    if (this.text.charCodeAt(this.at) !== QUOTE) return null;
    const end = this.text.indexOf('"', this.at + 1);
    if (end < 0) return null;
    const key = this.text.slice(this.at + 1, end);
    if (key.includes("\\")) return null;
    this.at = end + 1;
    this.#space();
    if (this.text[this.at] !== ":") return null;
    this.at++;
    this.#space();
    return key;
  }

  /** "," or "}" after a value, or null. */
  next(): "," | "}" | null {
    this.#space();
    const c = this.text[this.at];
    if (c !== "," && c !== "}") return null;
    this.at++;
    return c;
  }

  /** Skips one value: a string, an object or array (brackets counted, strings skipped), or a bare token. */
  skipValue(): boolean {
    const { text } = this;
    const c = text[this.at];
    if (c === '"') return this.#skipString();
    if (c === "{" || c === "[") {
      let depth = 0;
      while (this.at < text.length) {
        const ch = text.charCodeAt(this.at);
        if (ch === QUOTE) {
          if (!this.#skipString()) return false;
          continue;
        }
        if (ch === 0x7b || ch === 0x5b) depth++;
        else if (ch === 0x7d || ch === 0x5d) {
          depth--;
          if (depth === 0) {
            this.at++;
            return true;
          }
        }
        this.at++;
      }
      return false;
    }
    const start = this.at;
    while (this.at < text.length && !",}] \t\r\n".includes(text[this.at] as string)) this.at++;
    return this.at > start;
  }

  #skipString(): boolean {
    let end = this.at + 1;
    for (;;) {
      end = this.text.indexOf('"', end);
      if (end < 0) return false;
      // A quote preceded by an odd number of backslashes is escaped.
      let slashes = 0;
      while (this.text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
      if (slashes % 2 === 0) break;
      end++;
    }
    this.at = end + 1;
    return true;
  }

  #space(): void {
    while (" \t\r\n".includes(this.text[this.at] ?? "x")) this.at++;
  }
}
