"use client";
import { useState, type ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { GatewayError } from "@cellar/kernel-client";
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

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  return (
    <QueryClientProvider client={client}>
      <AuthNotice />
      {children}
    </QueryClientProvider>
  );
}
