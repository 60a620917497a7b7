import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { outcome } from "../../test/support/outcome";
import { type TokenPolicy, verifyToken } from "./tokens";

const policy: TokenPolicy = { secret: "tokens-test-secret", maxLifetimeS: 3_600 };
const now = 1_800_000_000;

/** An HS256 token with exactly these claims, signed with the policy's secret. */
function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(policy.secret));
}

const good = { sub: "u1", role: "relay", exp: now + 600 };
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe("verifyToken", () => {
  it("accepts a token of the policy's secret and reads sub, role and exp", async () => {
    const checked = await outcome(async () => verifyToken(await sign(good), policy, now));
    expect(checked).toEqual({ ok: true, value: { userId: "u1", role: "relay", exp: now + 600 } });
  });

  it("refuses every other spelling of a valid signature (padding, unused bits, whitespace)", async () => {
    const token = await sign(good);
    const signature = token.slice(token.lastIndexOf(".") + 1);
    expect(signature).toHaveLength(43); // 32 bytes: the last character carries 2 unused bits
    const last = BASE64URL.indexOf(signature.at(-1) as string);
    const spellings = [
      `${token}=`,
      `${token.slice(0, -1)}${BASE64URL[last ^ 1]}`,
      `${token.slice(0, 20)} ${token.slice(20)}`,
      `${token.replace(".", "=.")}`,
    ];
    for (const spelling of spellings) {
      const checked = await outcome(async () => verifyToken(spelling, policy, now));
      expect(checked, spelling).toMatchObject({
        ok: false,
        error: { status: 401, code: "unauthorized", message: expect.stringMatching(/^invalid token: /) },
      });
    }
  });

  it("refuses an exp further than maxLifetimeS from now, 1e300 included, and accepts one just within", async () => {
    for (const exp of [1e300, now + 3_601]) {
      const checked = await outcome(async () => verifyToken(await sign({ ...good, exp }), policy, now));
      expect(checked).toEqual({
        ok: false,
        error: {
          status: 401,
          code: "unauthorized",
          message: 'token lifetime too long: "exp" is more than MAX_TOKEN_LIFETIME_S (3600 s) from now',
        },
      });
    }
    expect(
      await outcome(async () => verifyToken(await sign({ ...good, exp: now + 3_600 }), policy, now)),
    ).toMatchObject({
      ok: true,
    });
  });

  it("refuses an exp that is not whole seconds, a sub that is not a string, and a missing role", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, exp: now + 60.5 }, 'invalid token: claim "exp" must be whole epoch seconds'],
      [{ ...good, sub: 42 }, 'invalid token: claim "sub" must be a string'],
      [{ sub: "u1", exp: now + 60 }, 'invalid token: claim "role" must be relay, consumer or admin'],
    ];
    for (const [claims, message] of cases) {
      const checked = await outcome(async () => verifyToken(await sign(claims), policy, now));
      expect(checked, JSON.stringify(claims)).toMatchObject({ ok: false, error: { status: 401, message } });
    }
  });

  it("says expired for a token past its exp", async () => {
    const checked = await outcome(async () =>
      verifyToken(await sign({ ...good, exp: now - 1 }), policy, now),
    );
    expect(checked).toMatchObject({ ok: false, error: { message: "token expired" } });
  });
});
