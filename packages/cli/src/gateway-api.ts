// The gateway's notebook HTTP API, as the CLI uses it.
import type { Notebook } from "@cellar/protocol";
import { gatewayUrl, type Connection } from "./connection";

export class GatewayError extends Error {
  override name = "GatewayError";
  constructor(message: string, readonly problems: string[] = []) {
    super(message);
  }
}

export type ImportedNotebook = Notebook & { url: string };

export function createGatewayApi(connection: Connection) {
  async function request(method: string, path: string, body?: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(gatewayUrl(connection, path), {
        method,
        headers: { authorization: `Bearer ${connection.token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body,
      });
    } catch (error) {
      throw new GatewayError(`Cannot reach the Cellar gateway at ${connection.baseUrl} (${(error as Error).cause ?? (error as Error).message}).`);
    }
    if (res.ok) return res;
    const text = await res.text();
    let parsed: { error?: string; problems?: string[] } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: use the status line */
    }
    if (res.status === 401) throw new GatewayError("The gateway refused the token (check --token or CELLAR_TOKEN).");
    throw new GatewayError(parsed.error ?? `The gateway answered ${res.status} ${res.statusText}`, parsed.problems ?? []);
  }

  return {
    /** Uploads .ipynb text; the gateway validates it and answers with the stored notebook. */
    async importNotebook(ipynb: string, title: string): Promise<ImportedNotebook> {
      const res = await request("POST", `/api/notebooks/import?title=${encodeURIComponent(title)}`, ipynb);
      return (await res.json()) as ImportedNotebook;
    },
    async exportNotebook(id: string): Promise<string> {
      return (await request("GET", `/api/notebooks/${encodeURIComponent(id)}/export`)).text();
    },
    async deleteNotebook(id: string): Promise<void> {
      await request("DELETE", `/api/notebooks/${encodeURIComponent(id)}`);
    },
    pageUrl: (path: string) => gatewayUrl(connection, path),
  };
}

export type GatewayApi = ReturnType<typeof createGatewayApi>;
