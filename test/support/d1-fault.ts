import { env } from "cloudflare:workers";

// A real D1 failure, scoped to one user so that other tests are not affected: a trigger that aborts the
// INSERT of that user's chunks, as a D1 outage or a constraint error would. Tests that need a full buffer hold
// the flush this way (a commit that fills a batch starts the flush itself).
const triggerName = (userId: string) => `fail_${userId.replaceAll("-", "_")}`;

export async function breakD1For(userId: string): Promise<void> {
  await env.DB.exec(
    `CREATE TRIGGER IF NOT EXISTS ${triggerName(userId)} BEFORE INSERT ON sample_chunks WHEN NEW.user_id = '${userId}' BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
  );
}

export async function repairD1For(userId: string): Promise<void> {
  await env.DB.exec(`DROP TRIGGER IF EXISTS ${triggerName(userId)}`);
}
