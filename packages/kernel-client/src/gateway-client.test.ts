import { describe, expect, it, vi } from "vitest";
import { GatewayClient, GatewayError, isNotFound } from "./gateway-client";

function recording(respond: (url: string, init: RequestInit) => Response) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return respond(url, init);
  }) as unknown as typeof globalThis.fetch;
  return { calls, fetch };
}

const json = (status: number, value: unknown) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

describe("GatewayClient", () => {
  it("sends the token, JSON bodies as JSON and .ipynb text as is", async () => {
    const { calls, fetch } = recording(() => json(201, { id: "n1", url: "/notebook/?id=n1" }));
    const client = new GatewayClient({ baseUrl: "http://h:1", token: "tok", fetch });
    await client.notebooks.create("T");
    const stored = await client.notebooks.import('{"cells": []}', "my file.ipynb");
    expect(client.url(stored.url)).toBe("http://h:1/notebook/?id=n1");
    expect(calls[0]!.url).toBe("http://h:1/api/notebooks");
    expect(new Headers(calls[0]!.init.headers).get("authorization")).toBe("Bearer tok");
    expect(new Headers(calls[0]!.init.headers).get("content-type")).toBe("application/json");
    expect(calls[0]!.init.body).toBe('{"title":"T"}');
    expect(calls[1]!.url).toBe("http://h:1/api/notebooks/import?title=my%20file.ipynb");
    expect(calls[1]!.init.body).toBe('{"cells": []}');
    expect(new Headers(calls[1]!.init.headers).has("content-type")).toBe(false);
  });

  it("sends the share link the page holds, and fills a route's two params", async () => {
    const { calls, fetch } = recording(() => new Response(null, { status: 204 }));
    let link: string | undefined = "s3cret";
    const client = new GatewayClient({ baseUrl: "http://h:1", fetch, shareLink: () => link });
    await client.shares.removeGrant("n1", "u 2");
    link = undefined;
    await client.shares.revokeLink("n1", "l1");
    expect(calls[0]!.url).toBe("http://h:1/api/notebooks/n1/grants/u%202");
    expect(new Headers(calls[0]!.init.headers).get("x-cellar-link")).toBe("s3cret");
    expect(calls[1]!.url).toBe("http://h:1/api/notebooks/n1/links/l1");
    expect(new Headers(calls[1]!.init.headers).has("x-cellar-link")).toBe(false);
  });

  it("throws the gateway's error with its problems, and tells a 401 to onUnauthorized", async () => {
    const onUnauthorized = vi.fn();
    const { fetch } = recording((url) =>
      url.endsWith("import?title=x")
        ? json(400, { error: "Invalid notebook", problems: ["cell 1: missing outputs"] })
        : url.endsWith("/api/notebooks")
          ? json(401, { error: "Missing or invalid token" })
          : json(404, { error: "No such notebook" }),
    );
    const client = new GatewayClient({ fetch, onUnauthorized });
    await expect(client.notebooks.import("{}", "x")).rejects.toMatchObject({
      status: 400,
      message: "Invalid notebook",
      problems: ["cell 1: missing outputs"],
    });
    await expect(client.notebooks.list()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(isNotFound(await client.notebooks.get("gone").catch((e) => e))).toBe(true);
  });

  it("says where the gateway could not be reached", async () => {
    const fetch = (async () => {
      throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") });
    }) as unknown as typeof globalThis.fetch;
    const err = await new GatewayClient({ baseUrl: "http://127.0.0.1:9", fetch }).notebooks.list().catch((e) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/^Cannot reach the Cellar gateway at http:\/\/127\.0\.0\.1:9 \(.*ECONNREFUSED\)\.$/);
    expect((await new GatewayClient({ fetch }).notebooks.list().catch((e) => e)).message).toBe("Cannot reach the Cellar gateway.");
  });

  it("reads exports as text and files as bytes, and builds file URLs", async () => {
    const { calls, fetch } = recording((url) => new Response(url.includes("/export") ? "{nb}" : new Uint8Array([1, 2])));
    const client = new GatewayClient({ fetch });
    expect(await client.notebooks.export("a b")).toBe("{nb}");
    expect(await client.files.read("n", "d/f.bin")).toEqual(new Uint8Array([1, 2]));
    expect(calls.map((c) => c.url)).toEqual(["/api/notebooks/a%20b/export", "/api/notebooks/n/files/content?path=d%2Ff.bin"]);
    expect(client.files.downloadPath("n", "x y")).toBe("/api/notebooks/n/files/content?path=x%20y");
    // A page opened by a share link: what the browser downloads by itself carries the link.
    const guest = new GatewayClient({ fetch, shareLink: () => "s/cret" });
    expect(guest.files.downloadPath("n", "x y")).toBe("/api/notebooks/n/files/content?path=x%20y&link=s%2Fcret");
    expect(guest.notebooks.exportPath("n")).toBe("/api/notebooks/n/export?link=s%2Fcret");
  });
});
