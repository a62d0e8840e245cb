// Several gateways as one: with CELLAR_REDIS_URL set, socket.io rooms span every replica through
// Redis pub/sub (@socket.io/redis-adapter), so an event for a notebook's room reaches its pages
// on every gateway, and one for a worker's room reaches that worker wherever it is connected.
// Unset, the in-memory adapter stays: the one-machine default has no Redis.
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import type { Server } from "socket.io";
import { REPLICA_ANSWER_TIMEOUT_MS } from "../cluster/kernel-router";

export interface RedisLink {
  /** Null while both connections are up; otherwise why not, for /api/ready. */
  problem(): string | null;
  /** Resolves once both connections are up and the adapters' subscriptions are in place: before
   * that, the other replicas would not count this one when they ask around. */
  subscribed(): Promise<void>;
  /** Called each time both connections are up and subscribed again (the first time too): what
   * the replicas sent each other while they were not is lost, and this is when to catch up. */
  onConnected(listener: () => void): void;
  close(): Promise<void>;
}

export function attachRedisAdapter(io: Server, url: string, log: (line: string) => void = console.warn): RedisLink {
  // ioredis reconnects by itself with backoff; commands wait for the connection meanwhile.
  const pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: null });
  const sub = pub.duplicate();
  let lastError: string | null = null;
  const connected: Array<() => void> = [];
  for (const client of [pub, sub]) {
    client.on("error", (error: Error) => {
      // Once per distinct failure, not once per retry.
      if (error.message !== lastError) log(`gateway: Redis (${redact(url)}): ${error.message}`);
      lastError = error.message;
    });
    client.on("ready", () => {
      if (pub.status !== "ready" || sub.status !== "ready") return;
      lastError = null;
      // ioredis sends its SUBSCRIBEs again right after "ready"; subscribed() waits for them.
      void subscribed().then(
        () => {
          for (const listener of connected) listener();
        },
        () => {},
      );
    });
  }
  io.adapter(createAdapter(pub, sub, { requestsTimeout: REPLICA_ANSWER_TIMEOUT_MS }));
  const subscribed = async () => {
    await Promise.all([pub, sub].map((c) => (c.status === "ready" ? undefined : new Promise((r) => c.once("ready", r)))));
    // Commands on one connection are answered in order: once this is, the SUBSCRIBEs sent
    // before it (by every namespace's adapter) are done.
    await sub.ping();
  };
  return {
    problem: () =>
      pub.status === "ready" && sub.status === "ready"
        ? null
        : `Redis at ${redact(url)} is ${pub.status}${lastError ? ` (${lastError})` : ""}`,
    subscribed,
    onConnected: (listener) => connected.push(listener),
    // QUIT lets what the adapter still sends (its unsubscribes) finish; disconnect would fail it.
    close: async () => {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
