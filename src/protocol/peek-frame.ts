/**
 * The relay id and seq of a `samples` frame read from its text without parsing it: enough to refuse a frame
 * under backpressure for a few microseconds instead of a full parse (docs/architecture.md, "Backpressure").
 * Returns null when they cannot be read this way; the frame is then parsed as usual.
 */
const RELAY_ID = /"relay_id"\s*:\s*"([A-Za-z0-9_.-]{1,64})"/;
const SEQ = /"seq"\s*:\s*([1-9]\d{0,15})\s*[,}]/;
const SAMPLES_TYPE = /"type"\s*:\s*"samples"/;

export function peekSamplesHead(text: string): { relayId: string; seq: number } | null {
  const relay = RELAY_ID.exec(text);
  const seq = SEQ.exec(text);
  if (!relay || !seq || !SAMPLES_TYPE.test(text)) return null;
  const value = Number(seq[1]);
  if (!Number.isSafeInteger(value)) return null;
  return { relayId: relay[1] as string, seq: value };
}
