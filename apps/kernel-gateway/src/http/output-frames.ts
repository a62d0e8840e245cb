// The output frame's page (packages/ui's dist/output-frame: frame.html, its script, plotly and
// vega), served at /output-frame/ with headers of its own. The page frames it with
// sandbox="allow-scripts" and no allow-same-origin, so the frame's document has an opaque origin
// whatever host serves it; CELLAR_OUTPUT_ORIGIN moves it to a host of its own as well (as Colab
// serves outputs from googleusercontent.com), which also keeps it apart should a browser or a
// future change of the sandbox attribute ever give the frame the gateway's origin.
import type { FastifyReply, FastifyRequest } from "fastify";
import sirv from "sirv";

export const OUTPUT_FRAME_PREFIX = "/output-frame/";

export interface OutputFrameDeps {
  /** The built files (packages/ui/dist/output-frame). */
  dir: string;
  /** CELLAR_OUTPUT_ORIGIN (`https://outputs.example.com`): frames are served from there; this
   * gateway sends its own /output-frame/ requests there. Unset: served here. */
  origin?: string;
  /** Where the app's pages live (CELLAR_PUBLIC_URL), the one ancestor a frame served from the
   * output origin accepts; unset there, any. */
  appOrigin?: string;
}

/**
 * What the frame may do. connect-src 'none': no fetch, XHR, WebSocket or beacon reaches anywhere
 * (the gateway's API included). Scripts, styles, images and fonts may come from https: hosts
 * because bokeh and folium load their libraries and map tiles from CDNs; the frame holds nothing
 * worth sending there (its output came from the kernel, which has it already). 'unsafe-eval':
 * vega compiles its expressions, and `application/javascript` is run as a function. No
 * frame-ancestors 'none' (the page's own policy has it): the app's pages must be able to frame it.
 */
export function outputFramePolicy(deps: Pick<OutputFrameDeps, "origin" | "appOrigin">): string {
  const ancestors = deps.origin ? (deps.appOrigin ?? "*") : "'self'";
  return [
    "default-src 'none'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' https:",
    "style-src 'self' 'unsafe-inline' https:",
    "img-src 'self' data: blob: https:",
    "font-src 'self' data: https:",
    "media-src data: blob:",
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
    `frame-ancestors ${ancestors}`,
  ].join("; ");
}

/** The onRequest hook for /output-frame/: serves it (open: it is static, and a frame's requests
 * carry no session cookie) or, with an output origin, redirects there. */
export function outputFrameHook(deps: OutputFrameDeps) {
  const policy = outputFramePolicy(deps);
  const outputHost = deps.origin ? new URL(deps.origin).host : null;
  const serve = sirv(deps.dir, { dev: false, etag: true });
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { pathname } = new URL(request.url, "http://x");
    if (!pathname.startsWith(OUTPUT_FRAME_PREFIX)) return;
    if (request.method !== "GET" && request.method !== "HEAD")
      return reply.code(405).header("allow", "GET, HEAD").send({ error: "Method not allowed" });
    if (outputHost && request.headers.host !== outputHost) {
      return reply.code(302).header("location", new URL(request.url, deps.origin).href).send();
    }
    reply.hijack();
    const res = reply.raw;
    // helmet's answer for the app's pages does not apply: no frame-ancestors 'none', no
    // same-origin resource policy.
    // Set here, before sirv answers, so its 304s carry them too: a browser merges a 304's headers
    // into the cached response, and helmet's x-frame-options and frame-ancestors 'none' on a 304
    // made every revalidated frame a "refused to connect" page.
    res.setHeader("content-security-policy", policy);
    // The frame's document is opaque-origin: it loads its own script and libraries cross-origin.
    res.setHeader("cross-origin-resource-policy", "cross-origin");
    res.removeHeader("x-frame-options");
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");
    request.raw.url = request.raw.url!.slice(OUTPUT_FRAME_PREFIX.length - 1);
    serve(request.raw, res, () => {
      res.writeHead(404, { "content-type": "text/plain", "content-security-policy": policy });
      res.end("Not found");
    });
  };
}
