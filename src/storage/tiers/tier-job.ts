import { moveUserToCold } from "./cold-move";
import { compactUser } from "./compaction";
import { sweepOrphans } from "./orphan-sweep";
import { applyRetention } from "./retention";

/** What the job needs: the database, the cold bucket and the two settings. */
export interface TierJobContext {
  db: D1Database;
  cold: R2Bucket;
  coldAfterS: number;
  retentionDays: number;
}

/** Users one run visits at most; the next run goes on from there (a round over every user). */
const USERS_PER_RUN = 50;
/** A run stops starting new users after this long: the cron fires every minute. */
const RUN_BUDGET_MS = 20_000;
/**
 * The lease outlives a run's budget, so a crashed run holds the job for at most this long. Runs that overlap
 * anyway (a step far slower than the budget) stay correct: deletes are guarded by the rows' content and the
 * cold index's unique key refuses a chunk indexed twice.
 */
const LEASE_MS = 30_000;
/** Compaction windows per user per run, and cold objects per user per run. */
const WINDOWS_PER_USER = 24;
const OBJECTS_PER_USER = 2;
/** Flush marks are kept this long: a flush retried later than that could duplicate merged chunks. */
export const FLUSH_MARK_DAYS = 7;

export type JobName = "compaction" | "cold_move" | "retention";

export interface TierRunReport {
  /** false: another run held the lease. */
  ran: boolean;
  users: number;
  results: { job: JobName; ok: boolean }[];
  merged: number;
  moved: number;
  deletedChunks: number;
  /** Cold objects a crashed move had left unindexed, deleted. */
  orphans: number;
  bytes: { d1: number; r2: number } | null;
}

/**
 * One run of the storage tier job (the Cron Trigger): for a bounded round of users, merge small chunks, move old
 * chunks to R2, apply retention; then measure what each tier holds. Each step is crash-safe on its own
 * (docs/storage-format.md, "Tiers"); a failing step is logged and counted, and the others still run.
 */
export async function runTierJob(ctx: TierJobContext, now = Date.now()): Promise<TierRunReport> {
  const report: TierRunReport = {
    ran: false,
    users: 0,
    results: [],
    merged: 0,
    moved: 0,
    deletedChunks: 0,
    orphans: 0,
    bytes: null,
  };
  const lease = await ctx.db
    .prepare("UPDATE tier_job SET lease_until = ?1 WHERE id = 1 AND lease_until < ?2 RETURNING user_cursor")
    .bind(now + LEASE_MS, now)
    .first<{ user_cursor: string }>();
  if (!lease) return report;
  report.ran = true;
  let cursor = lease.user_cursor;
  const started = Date.now();
  try {
    const { results: users } = await ctx.db
      .prepare("SELECT DISTINCT user_id FROM sessions WHERE user_id > ? ORDER BY user_id LIMIT ?")
      .bind(cursor, USERS_PER_RUN)
      .all<{ user_id: string }>();
    for (const { user_id: userId } of users) {
      if (Date.now() - started > RUN_BUDGET_MS) break;
      await step(report, "compaction", userId, async () => {
        report.merged += (await compactUser(ctx.db, userId, now, WINDOWS_PER_USER)).merged;
      });
      await step(report, "cold_move", userId, async () => {
        const coldBefore = now - ctx.coldAfterS * 1000;
        report.moved += (
          await moveUserToCold(ctx.db, ctx.cold, userId, coldBefore, now, OBJECTS_PER_USER)
        ).chunks;
      });
      if (ctx.retentionDays > 0) {
        await step(report, "retention", userId, async () => {
          const deleted = await applyRetention(
            ctx.db,
            ctx.cold,
            userId,
            now - ctx.retentionDays * 86_400_000,
          );
          report.deletedChunks += deleted.chunks + deleted.cold_chunks;
        });
      }
      cursor = userId;
      report.users++;
    }
    await step(report, "cold_move", "(orphan sweep)", async () => {
      report.orphans = await sweepOrphans(ctx.db, ctx.cold, now);
    });
    // A round ends when fewer users than asked were left: the next run starts again from the first.
    if (users.length < USERS_PER_RUN && report.users === users.length) cursor = "";
    await ctx.db
      .prepare("DELETE FROM flush_marks WHERE written_at < ?")
      .bind(now - FLUSH_MARK_DAYS * 86_400_000)
      .run();
    report.bytes = await storageBytes(ctx.db);
  } finally {
    await ctx.db
      .prepare("UPDATE tier_job SET lease_until = 0, user_cursor = ? WHERE id = 1")
      .bind(cursor)
      .run();
  }
  return report;
}

async function step(
  report: TierRunReport,
  job: JobName,
  userId: string,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
    report.results.push({ job, ok: true });
  } catch (err) {
    console.error(`storage job ${job} failed for user ${userId}: ${String(err)}`);
    report.results.push({ job, ok: false });
  }
}

/** D1's file size (as D1 reports it after a query) and the bytes of every cold object. */
export async function storageBytes(db: D1Database): Promise<{ d1: number; r2: number }> {
  const result = await db
    .prepare("SELECT COALESCE(SUM(bytes), 0) AS bytes FROM cold_objects")
    .all<{ bytes: number }>();
  return { d1: result.meta.size_after ?? 0, r2: result.results[0]?.bytes ?? 0 };
}
