// Where the gateway is and how to prove we may use it: flags first, then CELLAR_URL/CELLAR_TOKEN.
// The URL `npm start` prints (…/?token=…) works as is.

export interface Connection {
  /** The gateway's origin (and path prefix, if any), without the token. */
  baseUrl: string;
  token: string;
}

export const DEFAULT_URL = "http://127.0.0.1:8800";

export class UsageError extends Error {
  override name = "UsageError";
}

export function resolveConnection(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const raw = flags.url ?? env.CELLAR_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`The gateway URL ${JSON.stringify(raw)} is not a URL (use --url or CELLAR_URL, e.g. ${DEFAULT_URL}).`);
  }
  const token = flags.token ?? env.CELLAR_TOKEN ?? url.searchParams.get("token") ?? undefined;
  if (!token) {
    throw new UsageError("No token: pass --token, set CELLAR_TOKEN, or use the URL with ?token=… that `npm start` printed.");
  }
  url.searchParams.delete("token");
  url.hash = "";
  return { baseUrl: url.toString().replace(/\/?(\?)?$/, ""), token };
}

/** What the CLI says when the gateway refuses the token, over HTTP or its socket. */
export const TOKEN_REFUSED = "The gateway refused the token (check --token or CELLAR_TOKEN).";
