import type { Metadata } from "next";
import type { ReactNode } from "react";
import "@cellar/ui/styles.css";
import "./globals.css";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: "Cellar",
  description: "Notebooks with kernels in sandboxes",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
