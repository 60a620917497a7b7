import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";

describe("npm start (wrangler dev)", () => {
  let dev: WranglerDev;
  beforeAll(async () => {
    dev = await startWranglerDev({ port: 18787 });
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it("serves /health on 127.0.0.1 with no warning about fetching from the internet", async () => {
    const res = await fetch(`${dev.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(dev.log()).not.toMatch(/cf\.json|fetch.*request\.cf|Unable to fetch/i);
  });
});
