import { ApiError } from "../../src/http/route-error";

/** A check's value, or the ApiError it threw as plain data, so a test compares refusals with toEqual. */
export async function outcome<T>(
  check: () => T | Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: { status: number; code: string; message: string } }> {
  try {
    return { ok: true, value: await check() };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { ok: false, error: { status: err.status, code: err.code, message: err.message } };
  }
}
