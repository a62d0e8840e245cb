// The page's one HTTP client for the gateway (@cellar/kernel-client's GatewayClient): same
// origin, relative URLs, the session cookie authenticates (and a share link the page was opened
// with, if any); a 401 sends the page to sign in.
import { GatewayClient } from "@cellar/kernel-client";
import { markAuthRequired } from "./auth-store";
import { pageShareLink } from "./share-link";

export const gateway = new GatewayClient({ onUnauthorized: markAuthRequired, shareLink: pageShareLink });
