import { describe, expect, it } from "vitest";
import {
  CLI_OPTIONS,
  HARD_LIMITS,
  OptionsError,
  parseSimArgs,
  type SimOptions,
} from "../../tools/sim/options.ts";
import { runNpmScript } from "./support/npm-script";

const secret = () => "s3cret";
const parse = (...argv: string[]) => parseSimArgs(argv, secret) as SimOptions;
const rejects = (argv: string[], message: RegExp) =>
  expect(() => parseSimArgs(argv, secret)).toThrow(
    expect.objectContaining({ name: OptionsError.name, message: expect.stringMatching(message) }),
  );

describe("relay-sim options", () => {
  it("has defaults that run one relay against npm start for ten seconds with the loss check", () => {
    expect(parse()).toMatchObject({
      url: "http://127.0.0.1:8787",
      secret: "s3cret",
      users: 1,
      relays: 1,
      consumers: 0,
      samples: 10,
      rate: 0,
      window: 16,
      durationS: 10,
      frames: null,
      lossCheck: true,
      relayPath: "/v1/relay",
    });
  });

  it("reads every option, --no-loss-check and --secret", () => {
    const o = parse(
      "--url",
      "https://edge.example.com/ignored/path",
      "--secret",
      "other",
      "--users",
      "3",
      "--relays",
      "6",
      "--consumers",
      "2",
      "--samples",
      "100",
      "--rate",
      "500",
      "--window",
      "4",
      "--duration",
      "2.5",
      "--frames",
      "20",
      "--no-loss-check",
      "--json",
      "--quiet",
      "--user-prefix",
      "run1",
    );
    expect(o).toMatchObject({
      url: "https://edge.example.com",
      secret: "other",
      users: 3,
      relays: 6,
      consumers: 2,
      samples: 100,
      rate: 500,
      window: 4,
      durationS: 2.5,
      frames: 20,
      lossCheck: false,
      json: true,
      quiet: true,
      userPrefix: "run1",
    });
  });

  it("answers help", () => {
    expect(parseSimArgs(["--help"], secret)).toBe("help");
  });

  it("lists every option in `npm run sim -- --help`, --user-prefix included", async () => {
    const { code, stdout } = await runNpmScript("sim", ["--help"]);
    expect(code).toBe(0);
    // A boolean that defaults to true is written the way it is used: --no-<name>.
    const spelled = Object.entries(CLI_OPTIONS).map(([name, o]) =>
      o.type === "boolean" && o.default === true ? `--no-${name}` : `--${name}`,
    );
    expect(spelled).toContain("--user-prefix");
    expect(spelled.filter((flag) => !new RegExp(`^\\s+(-\\w, )?${flag}\\b`, "m").test(stdout))).toEqual([]);
  });

  it("names the option that is wrong", () => {
    rejects(["--users", "0"], /--users must be a whole number from 1 to/);
    rejects(["--users", "2", "--relays", "1"], /--relays must be a whole number from 2/);
    rejects(["--samples", "1.5"], /--samples/);
    rejects(["--samples", String(HARD_LIMITS.samples + 1)], /--samples/);
    rejects(["--window", "abc"], /--window/);
    rejects(
      ["--duration", String(HARD_LIMITS.durationS + 1)],
      /--duration must be a number from 0.1 to 3600/,
    );
    rejects(["--url", "ftp://x"], /--url must be an http\(s\) URL/);
    rejects(["--user-prefix", "a b"], /--user-prefix/);
    rejects(["--bogus"], /bogus/);
  });

  it("refuses to run without a secret", () => {
    expect(() => parseSimArgs([], () => undefined)).toThrow(/AUTH_SECRET is not set/);
  });

  it("refuses a frame-bounded run larger than the loss check can read back, unless it is skipped", () => {
    const huge = ["--relays", "1000", "--frames", "1000000", "--samples", "1000"];
    rejects(huge, /more than the loss check reads back/);
    expect(parse(...huge, "--no-loss-check").lossCheck).toBe(false);
  });
});
