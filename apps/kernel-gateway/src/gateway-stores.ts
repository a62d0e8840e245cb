// The gateway's stores, all from one opened database: what main, the test gateways and the real
// stack pass to createGateway, stated once.
import type { Database } from "@cellar/db";
import type { GatewayOptions } from "./gateway";

export type GatewayStores = Pick<
  GatewayOptions,
  "store" | "sessions" | "accounts" | "accessTokens" | "shares" | "schedules" | "identities" | "documents" | "userId"
>;

export function gatewayStores(db: Database): GatewayStores {
  return {
    store: db.notebooks,
    sessions: db.kernels,
    accounts: db.accounts,
    accessTokens: db.accessTokens,
    shares: db.shares,
    schedules: db.schedules,
    identities: db.identities,
    documents: db.documents,
    userId: db.localUserId,
  };
}
