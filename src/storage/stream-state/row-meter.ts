/**
 * Counts the rows the object's SQLite writes: a SQLite-backed Durable Object is billed per row written like D1
 * (an index entry, a DELETE and AUTOINCREMENT's `sqlite_sequence` each count), and every cursor reports its own
 * `rowsWritten` (https://developers.cloudflare.com/durable-objects/platform/pricing/). The stores run on
 * `meter.sql`; `take()` sums the cursors since the last call.
 */
export class RowMeter {
  readonly sql: SqlStorage;
  readonly #cursors: { rowsWritten: number }[] = [];

  constructor(sql: SqlStorage) {
    const cursors = this.#cursors;
    this.sql = new Proxy(sql, {
      get(target, prop) {
        if (prop === "exec") {
          return (query: string, ...bindings: unknown[]) => {
            const cursor = target.exec(query, ...bindings);
            cursors.push(cursor);
            return cursor;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  /** Rows written since the last call (a cursor counts what it has run so far: read results before this). */
  take(): number {
    let rows = 0;
    for (const cursor of this.#cursors) rows += cursor.rowsWritten;
    this.#cursors.length = 0;
    return rows;
  }
}
