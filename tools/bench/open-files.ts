/**
 * Open files the one local runtime holds per fleet user: its socket and its object's SQLite database, WAL and
 * shared-memory files (4.7-4.9 measured, BENCHMARKS.md "Where per-user cost goes").
 */
const OPEN_FILES_PER_USER = 5;
/** A margin for the runtime's own (local D1 and R2, the metrics shards, listeners): under 100 measured. */
const OPEN_FILES_BASE = 200;

/** The hard "Max open files" of a `/proc/<pid>/limits` text: what a process and its children may raise to. */
export function hardOpenFilesLimit(limitsText: string): number | null {
  const line = limitsText.split("\n").find((l) => l.startsWith("Max open files"));
  const hard = line?.trim().split(/\s+/)[4];
  return hard && /^\d+$/.test(hard) ? Number(hard) : null; // "unlimited", or no such line: no bound known
}

/**
 * Why a fleet of `users` cannot run in one local runtime under `limit` open files per process, or null when it
 * fits. Checked before the cell starts: past the limit the runtime crashes on `accept()` mid-cell.
 */
export function fleetOpenFilesShortfall(users: number, limit: number | null): string | null {
  const needed = OPEN_FILES_BASE + users * OPEN_FILES_PER_USER;
  if (limit === null || needed <= limit) return null;
  const fits = Math.floor((limit - OPEN_FILES_BASE) / OPEN_FILES_PER_USER);
  return (
    `${users.toLocaleString("en-US")} users need about ${needed.toLocaleString("en-US")} open files ` +
    `in the one local runtime (${OPEN_FILES_PER_USER} per user: its socket and its object's SQLite files), and ` +
    `this machine allows ${limit.toLocaleString("en-US")} per process (raise the hard limit, ulimit -Hn, or ` +
    `pass --fleet-users ${Math.max(fits, 0)} or fewer)`
  );
}
