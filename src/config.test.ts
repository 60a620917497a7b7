import { describe, expect, it } from "vitest";
import { ConfigError, getConfig } from "./config";
import type { Env } from "./env";

const vars = (values: Partial<Env>) => values as Env;

describe("getConfig", () => {
  it("has the documented defaults: a buffer of 100,000 samples, tokens of at most 30 days", () => {
    const config = getConfig(vars({}));
    expect(config).toMatchObject({
      bufferCapacity: 100_000,
      maxSamplesPerFrame: 10_000,
      maxTokenLifetimeS: 2_592_000,
    });
  });

  it("refuses a buffer smaller than twice the frame limit, naming both variables", () => {
    expect(() => getConfig(vars({ BUFFER_CAPACITY: "10000" }))).toThrow(
      new ConfigError(
        "Invalid configuration: BUFFER_CAPACITY (10000) must be at least twice MAX_SAMPLES_PER_FRAME (10000)",
      ),
    );
    expect(() => getConfig(vars({ BUFFER_CAPACITY: "19", MAX_SAMPLES_PER_FRAME: "10" }))).toThrow(
      /BUFFER_CAPACITY \(19\) must be at least twice MAX_SAMPLES_PER_FRAME \(10\)/,
    );
    expect(getConfig(vars({ BUFFER_CAPACITY: "20", MAX_SAMPLES_PER_FRAME: "10" })).bufferCapacity).toBe(20);
  });

  it("takes NEW_USER_DATABASES as bound user databases only, naming what is wrong", () => {
    const db = { prepare: () => null, batch: () => null } as unknown as D1Database;
    expect(getConfig(vars({})).newUserDatabases).toBeNull();
    expect(getConfig(vars({ NEW_USER_DATABASES: " " })).newUserDatabases).toBeNull();
    const bound = { DB: db, DB_2: db, DB_EU_1: db } as Partial<Env>;
    expect(getConfig(vars({ ...bound, NEW_USER_DATABASES: "DB_2, DB_EU_1" })).newUserDatabases).toEqual([
      "DB_2",
      "DB_EU_1",
    ]);
    expect(() => getConfig(vars({ ...bound, NEW_USER_DATABASES: "DB_2,,DB" }))).toThrow(
      'NEW_USER_DATABASES must list D1 bindings named DB or DB_<NAME>, separated by commas, got ""',
    );
    expect(() => getConfig(vars({ ...bound, NEW_USER_DATABASES: "COLD" }))).toThrow(
      'NEW_USER_DATABASES must list D1 bindings named DB or DB_<NAME>, separated by commas, got "COLD"',
    );
    expect(() => getConfig(vars({ ...bound, NEW_USER_DATABASES: "DB_3" }))).toThrow(
      new ConfigError(
        "Invalid configuration: NEW_USER_DATABASES names DB_3, which is not a D1 binding of this deployment",
      ),
    );
  });

  it("refuses a MAX_TOKEN_LIFETIME_S that is not a positive integer, naming it", () => {
    for (const bad of ["0", "1.5", "forever"]) {
      expect(() => getConfig(vars({ MAX_TOKEN_LIFETIME_S: bad })), bad).toThrow(
        `MAX_TOKEN_LIFETIME_S must be an integer from 1 to 315360000, got ${JSON.stringify(bad)}`,
      );
    }
    expect(getConfig(vars({ MAX_TOKEN_LIFETIME_S: "3600" })).maxTokenLifetimeS).toBe(3_600);
  });

  it("takes integers in plain decimal only, naming the variable", () => {
    for (const bad of ["0x10", "0b11", "1e3", " 5 ", "", "+5", "5.0", "99999999999999999"]) {
      expect(() => getConfig(vars({ FLUSH_BATCH_SIZE: bad })), bad).toThrow(
        `FLUSH_BATCH_SIZE must be an integer from 1 to 100000, got ${JSON.stringify(bad)}`,
      );
    }
    expect(getConfig(vars({ FLUSH_BATCH_SIZE: "0500" })).flushBatchSize).toBe(500);
    expect(getConfig(vars({ RETENTION_DAYS: "0" })).retentionDays).toBe(0);
    expect(() => getConfig(vars({ COLD_AFTER_S: "0" }))).toThrow(/COLD_AFTER_S must be an integer from 1/);
  });

  it("refuses secrets shorter than their minimum, naming them; unset or empty stays allowed (503)", () => {
    expect(() => getConfig(vars({ AUTH_SECRET: "x" }))).toThrow(
      /AUTH_SECRET .* must be at least 32 characters/,
    );
    expect(() => getConfig(vars({ METRICS_TOKEN: "tok" }))).toThrow(
      /METRICS_TOKEN .* must be at least 16 characters/,
    );
    expect(() =>
      getConfig(vars({ AUTH_SECRET: "a".repeat(32), METRICS_TOKEN: "m".repeat(16) })),
    ).not.toThrow();
    expect(() => getConfig(vars({ AUTH_SECRET: "", METRICS_TOKEN: "" }))).not.toThrow();
  });
});
