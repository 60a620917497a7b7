import { describe, expect, it } from "vitest";
import { fleetOpenFilesShortfall, hardOpenFilesLimit } from "../../tools/bench/open-files.ts";

// /proc/self/limits of a machine whose processes may open 20,000 files (soft and hard).
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 20000                files
Max locked memory         8388608              8388608              bytes
`;

describe("the fleet cell's open files", () => {
  it("reads the hard limit, which a process and its children may raise their own to", () => {
    expect(hardOpenFilesLimit(LIMITS)).toBe(20_000);
    expect(hardOpenFilesLimit(LIMITS.replace("20000 ", "unlimited"))).toBeNull();
    expect(hardOpenFilesLimit("")).toBeNull();
  });

  it("runs 3,000 users under 20,000 files and refuses 10,000, naming the need, the limit and what fits", () => {
    expect(fleetOpenFilesShortfall(3_000, 20_000)).toBeNull();
    expect(fleetOpenFilesShortfall(10_000, null)).toBeNull();
    expect(fleetOpenFilesShortfall(10_000, 20_000)).toBe(
      "10,000 users need about 50,200 open files in the one local runtime (5 per user: its socket and its " +
        "object's SQLite files), and this machine allows 20,000 per process (raise the hard limit, ulimit -Hn, " +
        "or pass --fleet-users 3960 or fewer)",
    );
  });
});
