// The socket.io connection to the gateway's browser namespace, from a page (same origin, the
// session cookie authenticates) or from Node (a URL and the token as a bearer header).
import { io, type Socket } from "socket.io-client";
import type { Ack, BrowserToGateway, GatewayToBrowser } from "@cellar/protocol";

export type GatewaySocket = Socket<GatewayToBrowser, BrowserToGateway>;

export type AckResult<T = object> = Parameters<Ack<T>>[0];

export interface GatewaySocketOptions {
  /** The gateway's origin (and path prefix); omitted in a page served by the gateway. */
  url?: string;
  /** The gateway's token; omitted in a page, where the session cookie does. */
  token?: string;
  /** false: do not reconnect by itself after a lost connection (a one-shot command). */
  reconnection?: boolean;
  /** A share link of one notebook: without a session it admits this page as a guest there. */
  shareLink?: { notebookId: string; link: string };
}

export function createGatewaySocket(options: GatewaySocketOptions = {}): GatewaySocket {
  const settings = {
    path: "/socket.io",
    // A gateway that died is back (restarted, or another replica) within seconds: try again
    // soon, at most a second apart (socket.io's default starts at 1 s and goes to 5 s; its
    // randomisation keeps many pages from redialling in step).
    reconnectionDelay: 250,
    reconnectionDelayMax: 1_000,
    ...(options.token ? { transports: ["websocket"], extraHeaders: { authorization: `Bearer ${options.token}` } } : {}),
    ...(options.reconnection === false ? { reconnection: false } : {}),
    ...(options.shareLink ? { auth: options.shareLink } : {}),
  };
  return (options.url === undefined ? io(settings) : io(options.url, settings)) as GatewaySocket;
}

/** Whether a connection error means the gateway refused our credentials. */
export const isAuthRefusal = (error: Error): boolean => /unauthori[sz]ed|forbidden|401|token|auth/i.test(error.message);
