"use client";
import { useState, type ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { GatewayError } from "@cellar/kernel-client";
import { OutputFrameProvider, type OutputFrameSettings } from "@cellar/ui";
import { AuthNotice } from "../shared/AuthNotice";

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 401 or 404 will not change by asking again.
        retry: (count, error) => !(error instanceof GatewayError && (error.status === 401 || error.status === 404)) && count < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
}

/** Outputs that run code (plotly, vega, JavaScript, HTML with scripts) are shown in sandboxed
 * frames of the gateway's /output-frame/ page; with CELLAR_OUTPUT_ORIGIN set the gateway
 * redirects that path to the output host, so the page needs no setting of its own. */
const OUTPUT_FRAMES: OutputFrameSettings = { src: "/output-frame/frame.html" };

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  return (
    <QueryClientProvider client={client}>
      <OutputFrameProvider settings={OUTPUT_FRAMES}>
        <AuthNotice />
        {children}
      </OutputFrameProvider>
    </QueryClientProvider>
  );
}
