// Storage benchmark: bytes on disk, D1 rows written and flush CPU per sample, 0.1's per-sample layout beside the
// chunk layout, on the real local D1 of the bench's `wrangler dev` (routes in storage-routes.ts).
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { STORAGE_SHAPES } from "./data-shapes.ts";
import type { BenchServer } from "./wrangler-server.ts";

export type Layout = "old" | "new";

/** The tables and indexes each layout writes (migrations/0001 and 0002). */
const LAYOUT_TABLES: Record<Layout, string[]> = {
  old: ["samples", "samples_by_user_time"],
  new: ["sample_chunks", "sample_chunks_by_time"],
};

export interface StorageFigure {
  shape: string;
  channels: number;
  layout: Layout;
  samples: number;
  /** Pages of the layout's table and index after VACUUM (dbstat pgsize). */
  bytes: number;
  bytesPerSample: number;
  /** D1's meta.rows_written summed over the flush batches (rows plus index entries: what Cloudflare bills). */
  rowsWritten: number;
  rowsWrittenPerSample: number;
  statements: number;
  /** Chunk rows written (new layout). */
  chunks: number;
  /** workerd CPU per sample of the write (building the frames subtracted). */
  cpuUsPerSample: number;
  /** New layout: the part of cpuUsPerSample spent building the chunk rows (parse, encode, statistics). */
  encodeCpuUsPerSample: number | null;
}

export interface StorageResult {
  samplesPerShape: number;
  framesSamples: number;
  flushBatchSize: number;
  figures: StorageFigure[];
}

interface WriteAnswer {
  samples: number;
  batchSize: number;
  rowsWritten: number;
  statements: number;
  chunks: number;
}

/**
 * For each data shape: writes `samples` samples in each layout (fresh tables), then copies the local D1 file
 * with VACUUM INTO and sums dbstat's page sizes per table and index. Local D1 itself has no dbstat ("no such
 * table"), so the file is read with Node's SQLite, read-only, while the server is idle.
 */
export async function measureStorage(
  server: BenchServer,
  samples: number,
  workDir: string,
): Promise<StorageResult> {
  const figures: StorageFigure[] = [];
  let flushBatchSize = 0;
  for (const [index, shape] of STORAGE_SHAPES.entries()) {
    await post(server, "/bench/storage-reset");
    const cpu: Record<string, number> = {};
    const answers: Partial<Record<Layout, WriteAnswer>> = {};
    for (const layout of ["none", "encode", "old", "new"] as const) {
      const before = server.cpuSeconds().workerd ?? 0;
      const answer = (await post(
        server,
        `/bench/storage?layout=${layout}&shape=${index}&samples=${samples}`,
      )) as WriteAnswer;
      cpu[layout] = (server.cpuSeconds().workerd ?? 0) - before;
      if (layout === "old" || layout === "new") answers[layout] = answer;
      flushBatchSize = answer.batchSize;
    }
    const bytes = tableBytes(server.persistTo, workDir, samples);
    const perSampleUs = (seconds: number) =>
      round((Math.max(0, seconds - (cpu.none ?? 0)) * 1e6) / samples, 2);
    for (const layout of ["old", "new"] as const) {
      const answer = answers[layout] as WriteAnswer;
      const layoutBytes = LAYOUT_TABLES[layout].reduce((sum, name) => sum + (bytes[name] ?? 0), 0);
      figures.push({
        shape: shape.name,
        channels: shape.channels,
        layout,
        samples,
        bytes: layoutBytes,
        bytesPerSample: round(layoutBytes / samples, 2),
        rowsWritten: answer.rowsWritten,
        rowsWrittenPerSample: answer.rowsWritten / samples,
        statements: answer.statements,
        chunks: answer.chunks,
        cpuUsPerSample: perSampleUs(cpu[layout] ?? 0),
        encodeCpuUsPerSample: layout === "new" ? perSampleUs(cpu.encode ?? 0) : null,
      });
    }
  }
  await post(server, "/bench/storage-reset");
  return { samplesPerShape: samples, framesSamples: 100, flushBatchSize, figures };
}

async function post(server: BenchServer, path: string): Promise<unknown> {
  const res = await fetch(new URL(path, server.url), { method: "POST" });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Bytes per table and index of the local D1 database after VACUUM, checking both layouts hold `samples`. */
function tableBytes(persistTo: string, workDir: string, samples: number): Record<string, number> {
  const dir = join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (!file) throw new Error(`no local D1 database file in ${dir}`);
  const copy = join(workDir, "storage-vacuumed.sqlite");
  rmSync(copy, { force: true });
  const live = new DatabaseSync(join(dir, file), { readOnly: true });
  try {
    const old = live.prepare("SELECT COUNT(*) AS n FROM samples").get() as { n: number };
    const chunked = live.prepare("SELECT COALESCE(SUM(n), 0) AS n FROM sample_chunks").get() as { n: number };
    if (old.n !== samples || chunked.n !== samples) {
      throw new Error(
        `D1 holds ${old.n} old-layout and ${chunked.n} chunked samples, expected ${samples} each`,
      );
    }
    live.exec(`VACUUM INTO '${copy.replaceAll("'", "''")}'`);
  } finally {
    live.close();
  }
  const vacuumed = new DatabaseSync(copy, { readOnly: true });
  try {
    const rows = vacuumed.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name").all() as {
      name: string;
      bytes: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.bytes]));
  } finally {
    vacuumed.close();
    rmSync(copy, { force: true });
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
