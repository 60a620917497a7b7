import { describe, expect, it } from "vitest";
import { AlarmPlan } from "./alarm-plan";

function fakeStorage() {
  const set: number[] = [];
  return {
    set,
    storage: {
      setAlarm: async (at: number) => void set.push(at),
      getAlarm: async () => null,
    } as unknown as DurableObjectStorage,
  };
}

describe("AlarmPlan", () => {
  it("moves the alarm only earlier between runs, and plans the earliest deadline after a run", () => {
    const { set, storage } = fakeStorage();
    const plan = new AlarmPlan(storage);
    plan.ensure(5_000);
    plan.ensure(9_000); // later: ignored
    plan.ensure(3_000);
    plan.ensure(null);
    expect(set).toEqual([5_000, 3_000]);
    plan.fired();
    expect(plan.at).toBeNull();
    const now = Date.now();
    plan.plan([null, now + 60_000, now + 2_000]);
    expect(plan.at).toBe(now + 2_000);
    plan.fired();
    plan.plan([now - 10_000]); // never in the past
    expect(plan.at as number).toBeGreaterThanOrEqual(now);
    plan.fired();
    plan.plan([null, null]);
    expect(plan.at).toBeNull();
  });
});
