/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import changelog from "../CHANGELOG.md?raw";
import pkg from "../package.json";
import { VERSION } from "./version";

describe("VERSION", () => {
  it("is package.json's version and the newest CHANGELOG.md release", () => {
    expect(VERSION).toBe(pkg.version);
    expect(changelog.match(/^## (\d+\.\d+\.\d+)/m)?.[1]).toBe(VERSION);
  });
});
