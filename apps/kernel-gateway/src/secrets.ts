// The browser token and the worker secret. Kept in CELLAR_HOME (mode 0600) so the printed URL
// stays valid across restarts, like a bookmarked Jupyter URL with a token.
import { randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface Secrets {
  token: string;
  workerSecret: string;
}

export function loadSecrets(home: string, overrides: Partial<Secrets> = {}): Secrets {
  const file = path.join(home, "secrets.json");
  let stored: Partial<Secrets> = {};
  try {
    stored = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    /* first start */
  }
  const secrets: Secrets = {
    token: stored.token ?? randomBytes(24).toString("hex"),
    workerSecret: stored.workerSecret ?? randomBytes(24).toString("hex"),
  };
  if (stored.token !== secrets.token || stored.workerSecret !== secrets.workerSecret) {
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return { token: overrides.token ?? secrets.token, workerSecret: overrides.workerSecret ?? secrets.workerSecret };
}

export function secretMatches(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
