import { describe, expect, it } from "vitest";
import { apiRoutes } from "./routes";

describe("the gateway's route table", () => {
  const routes = Object.values(apiRoutes);

  it("names each method and URL once", () => {
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("declares a params schema for every URL parameter, and a reply for every route", () => {
    for (const r of routes) {
      const schema: { params?: unknown; response: object } = r.schema;
      expect(schema.params !== undefined, `${r.method} ${r.url}`).toBe(r.url.includes("/:"));
      expect(Object.keys(schema.response).length, `${r.method} ${r.url}`).toBeGreaterThan(0);
    }
  });

  it("gives every notebook route (and only those) the least role it needs", () => {
    for (const r of routes) {
      const route: { role?: string; url: string } = r;
      expect(route.role !== undefined, `${r.method} ${r.url}`).toBe(r.url.startsWith("/api/notebooks/:id"));
    }
  });
});
