// socket.io on the HTTP server: browsers on the default namespace (the session cookie or token),
// workers on their own (checked in worker-sockets). engine.io answers /socket.io/ before the HTTP
// app sees the request.
import type http from "node:http";
import { Server, type Namespace } from "socket.io";
import { isShareLinkSecret, WORKER_NAMESPACE, type GatewayToWorker, type WorkerToGateway } from "@cellar/protocol";
import { type Identity, isCrossSite } from "../auth/identity";
import { attachRedisAdapter, type RedisLink } from "./redis-adapter";
import type { BrowserServer } from "./browser-sockets";
import { userRoom } from "./rooms";

export type WorkerNamespace = Namespace<WorkerToGateway, GatewayToWorker>;

/** A signed-out page's handshake may carry a share link of one notebook. */
export interface GuestLinks {
  /** The role the link gives a signed-out holder on the notebook; null if it gives none. */
  roleOf(notebookId: string, link: string): Promise<unknown>;
}

/** `redisUrl`: rooms span every gateway replica sharing that Redis; `log` takes what goes wrong with it. */
export function createSocketServer(
  server: http.Server,
  identity: Pick<Identity, "resolve">,
  guests: GuestLinks,
  redisUrl?: string,
  log?: (line: string) => void,
): { io: BrowserServer; workers: WorkerNamespace; redis: RedisLink | null } {
  // Short ping so a vanished worker is noticed within seconds, not the default ~45 s.
  const io: BrowserServer = new Server(server, { pingInterval: 2000, pingTimeout: 3000, maxHttpBufferSize: 64 * 1024 * 1024 });
  // Only the default namespace's middleware: workers authenticate with their secret instead.
  // A page of another site cannot open a socket with the user's cookie (cross-site websocket
  // hijacking): the handshake's origin must be this gateway's.
  io.use((socket, next) => {
    if (isCrossSite(socket.request.headers)) return next(new Error("cross-site connection refused"));
    socket.data.roles = new Map();
    socket.data.links = new Map();
    void admit(socket).then(
      (admitted) => (admitted ? next() : next(new Error("unauthorized"))),
      (error) => next(error instanceof Error ? error : new Error(String(error))),
    );
  });
  /** A signed-in user, or a signed-out holder of a valid share link (a guest, user null). */
  async function admit(socket: Parameters<Parameters<BrowserServer["use"]>[0]>[0]): Promise<boolean> {
    const caller = await identity.resolve(socket.request);
    if (caller) {
      socket.data.user = caller.user;
      void socket.join(userRoom(caller.user.id));
      return true;
    }
    const { link, notebookId } = (socket.handshake.auth ?? {}) as { link?: unknown; notebookId?: unknown };
    if (!isShareLinkSecret(link) || typeof notebookId !== "string" || notebookId.length > 64) return false;
    if (!(await guests.roleOf(notebookId, link))) return false;
    socket.data.user = null;
    socket.data.links.set(notebookId, link);
    return true;
  }
  // One server types one pair of event maps; the worker namespace speaks the worker protocol.
  const redis = redisUrl ? attachRedisAdapter(io, redisUrl, log) : null;
  const workers = io.of(WORKER_NAMESPACE) as unknown as WorkerNamespace;
  return { io, workers, redis };
}
