// Renders a component with a fresh react-query client against a stand-in for the gateway's HTTP
// API: the page's real GatewayClient (shared/gateway.ts) calls `fetch`, which is stubbed here
// with a table of routes ("POST /api/auth/login" → a reply), and every request is recorded.
import { vi } from "vitest";
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";

export interface StubReply {
  status: number;
  body?: unknown;
}
export type StubRoutes = Record<string, StubReply | ((body: unknown) => StubReply | Promise<StubReply>)>;
export interface StubRequest {
  method: string;
  path: string;
  body: unknown;
}

export function stubGateway(routes: StubRoutes): StubRequest[] {
  const requests: StubRequest[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? "GET";
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    requests.push({ method, path: url, body });
    const route = routes[`${method} ${url}`];
    const reply =
      typeof route === "function" ? await route(body) : (route ?? { status: 404, body: { error: `no stub for ${method} ${url}` } });
    return new Response(reply.status === 204 ? null : JSON.stringify(reply.body ?? {}), {
      status: reply.status,
      headers: { "content-type": "application/json" },
    });
  });
  return requests;
}

export function renderWithQueries(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}
