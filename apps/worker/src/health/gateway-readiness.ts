// Readiness from the gateway link: a worker is ready only while its socket.io connection to a
// gateway is up, since that is the only way a kernel can reach it. The reason names what the
// socket last reported, so `kubectl describe pod` says why.
import type { Readiness } from "./health-server";

/** The parts of a socket.io client socket this reads. */
export interface GatewayLink {
  readonly connected: boolean;
  on(event: "connect", listener: () => void): unknown;
  on(event: "disconnect", listener: (reason: string) => void): unknown;
  on(event: "connect_error", listener: (err: Error) => void): unknown;
}

export function gatewayReadiness(link: GatewayLink, gatewayUrl: string): () => Readiness {
  let problem = `not connected to the gateway at ${gatewayUrl} yet`;
  link.on("connect", () => {
    problem = `not connected to the gateway at ${gatewayUrl}`;
  });
  link.on("disconnect", (reason) => {
    problem = `disconnected from the gateway at ${gatewayUrl} (${reason})`;
  });
  link.on("connect_error", (err) => {
    problem = `cannot reach the gateway at ${gatewayUrl}: ${err.message}`;
  });
  return () => (link.connected ? { ready: true } : { ready: false, reason: problem });
}
