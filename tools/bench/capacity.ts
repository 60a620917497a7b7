import type { Layout, StorageFigure, StorageResult } from "./storage.ts";

/**
 * Cloudflare's D1 list prices and limits (Workers Paid), from developers.cloudflare.com/d1/platform/pricing/
 * and /d1/platform/limits/ (limits page last updated 21 Apr 2026), as read on 30 Nov 2026. GB = 10^9 bytes.
 */
export const D1_PRICES = {
  read: "30 Nov 2026",
  maxDatabaseBytes: 10e9,
  rowsWrittenIncludedPerMonth: 50e6,
  usdPerMillionRowsWritten: 1.0,
  storageIncludedGb: 5,
  usdPerGbMonth: 0.75,
} as const;

/** Sustained ingest rates of the "days until full" columns, samples/s. */
export const RATES = [1_000, 10_000, 100_000] as const;

export interface Capacity {
  shape: string;
  layout: Layout;
  bytesPerSample: number;
  rowsWrittenPerSample: number;
  samplesPerDatabase: number;
  /** Seconds until one database is full, per rate of RATES. */
  secondsUntilFull: number[];
  /** USD of rows written per billion samples, beyond the included rows. */
  usdRowsPerBillion: number;
  /** USD per month of storing a billion samples, beyond the included storage. */
  usdStoragePerBillionMonth: number;
}

export function capacity(f: StorageFigure): Capacity {
  const samplesPerDatabase = D1_PRICES.maxDatabaseBytes / f.bytesPerSample;
  return {
    shape: f.shape,
    layout: f.layout,
    bytesPerSample: f.bytesPerSample,
    rowsWrittenPerSample: f.rowsWrittenPerSample,
    samplesPerDatabase,
    secondsUntilFull: RATES.map((rate) => samplesPerDatabase / rate),
    usdRowsPerBillion: ((f.rowsWrittenPerSample * 1e9) / 1e6) * D1_PRICES.usdPerMillionRowsWritten,
    usdStoragePerBillionMonth: ((f.bytesPerSample * 1e9) / 1e9) * D1_PRICES.usdPerGbMonth,
  };
}

/** "3.2 h", "41 d", "12 min": the time a database takes to fill. */
export function duration(seconds: number): string {
  const days = seconds / 86_400;
  if (days >= 365) return `${(days / 365).toFixed(1)} years`;
  if (days >= 1) return `${days >= 10 ? Math.round(days) : days.toFixed(1)} d`;
  const hours = seconds / 3_600;
  if (hours >= 1) return `${hours.toFixed(1)} h`;
  return `${Math.round(seconds / 60)} min`;
}

function usd(x: number): string {
  return x >= 100 ? `$${Math.round(x).toLocaleString("en-US")}` : `$${x.toFixed(2)}`;
}

/** The capacity and cost table, old layout beside new per data shape, with its price note. */
export function capacityTable(storage: StorageResult): string {
  const header = [
    "data",
    "layout",
    "B/sample on disk",
    "rows written/sample",
    "samples per 10 GB D1",
    ...RATES.map((r) => `full at ${r.toLocaleString("en-US")}/s`),
    "$ rows written per 10⁹ samples",
    "$ storage per 10⁹ samples per month",
  ];
  const rows = storage.figures.map((f) => {
    const c = capacity(f);
    return [
      c.shape,
      c.layout,
      c.bytesPerSample.toFixed(2),
      c.rowsWrittenPerSample.toPrecision(2),
      `${(c.samplesPerDatabase / 1e9).toFixed(c.samplesPerDatabase >= 1e10 ? 0 : 2)} billion`,
      ...c.secondsUntilFull.map(duration),
      usd(c.usdRowsPerBillion),
      usd(c.usdStoragePerBillionMonth),
    ];
  });
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    `Prices: Cloudflare D1 list prices on the Workers Paid plan (developers.cloudflare.com/d1/platform/pricing/ and ` +
      `/d1/platform/limits/, read ${D1_PRICES.read}): ${D1_PRICES.maxDatabaseBytes / 1e9} GB per database; rows ` +
      `written $${D1_PRICES.usdPerMillionRowsWritten.toFixed(2)} per million beyond ` +
      `${D1_PRICES.rowsWrittenIncludedPerMonth / 1e6} M per month included; storage $${D1_PRICES.usdPerGbMonth} ` +
      `per GB-month beyond ${D1_PRICES.storageIncludedGb} GB included. The dollar columns leave out the included ` +
      "amounts (they matter only for small deployments) and count GB as 10⁹ bytes; a billion samples of the old " +
      "layout does not fit one database at all. Rows written count each row and each index entry, as D1 bills them " +
      "(meta.rows_written).",
  ].join("\n");
}
