import Link from "next/link";
import type { ReactNode } from "react";

export function AppHeader({ children }: { children?: ReactNode }) {
  return (
    <header className="app-header">
      <Link href="/" className="brand" aria-label="All notebooks">
        <span className="brand-mark" aria-hidden="true">
          ◆
        </span>
        <span className="brand-name">Cellar</span>
      </Link>
      {children}
    </header>
  );
}
