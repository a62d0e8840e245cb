// Several gateways as one: with CELLAR_REDIS_URL set, socket.io rooms span every replica through
// Redis pub/sub (@socket.io/redis-adapter), so an event for a notebook's room reaches its pages
// on every gateway, and one for a worker's room reaches that worker wherever it is connected.
// Unset, the in-memory adapter stays: the one-machine default has no Redis.
import { createAdapter } from "@socket.io/redis-adapter";
import { type Command, Redis, type RedisOptions } from "ioredis";
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
  let lastError: string | null = null;
  // The adapter publishes without awaiting; what was still queued when the connection closes
  // for good (at close() while Redis is away) would reject with nobody listening, and an
  // unhandled rejection ends a Node process. Say it once instead.
  const unsent = (error: Error) => {
    if (error.message !== lastError) log(`gateway: Redis (${redact(url)}): a message to the other replicas was not sent: ${error.message}`);
    lastError = error.message;
  };
  // ioredis reconnects by itself with backoff; commands wait for the connection meanwhile.
  // disableClientInfo: Debian's redis-server 7.0 refuses CLIENT SETINFO, which ioredis sends.
  const options: RedisOptions = { lazyConnect: false, maxRetriesPerRequest: null, disableClientInfo: true };
  const pub = new AnsweredRedis(url, options, unsent);
  const sub = new AnsweredRedis(url, options, unsent);
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
    // While Redis is away a QUIT would wait in the queue for ever: then what is queued is dropped.
    close: async () => {
      await Promise.allSettled([pub, sub].map((c) => (c.status === "ready" ? c.quit() : c.disconnect())));
    },
  };
}

/** A connection whose every command has a rejection handler; awaiting callers still get it. */
class AnsweredRedis extends Redis {
  constructor(
    url: string,
    options: RedisOptions,
    private readonly onUnanswered: (error: Error) => void,
  ) {
    super(url, options);
  }

  override sendCommand(...args: [Command, ...unknown[]]): unknown {
    const answer = (super.sendCommand as (...a: unknown[]) => unknown)(...args);
    if (answer instanceof Promise) answer.catch((error: Error) => this.onUnanswered(error));
    return answer;
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
