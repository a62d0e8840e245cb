"use client";
import { Fragment, useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { AppHeader } from "../../shared/AppHeader";
import { gateway } from "../../shared/gateway";
import { AccountMenu } from "../account/AccountMenu";
import { NoticesBell } from "../notices/NoticesBell";
import { BuildLog } from "./BuildLog";
import { formatBytes, imageRows, sharingText, type ImageKind } from "./image-rows";
import "./images.css";

const KIND_LABELS: Record<ImageKind, string> = { root: "root image", layer: "layer", notebook: "%pip in a notebook" };

/** `/images/`: every image this gateway offers, as a tree of layers: what each adds (Debian or
 * pip packages), its layer's size, its id, which images' files it reads, and its last build log. */
export function ImagesPage() {
  const images = useQuery({ queryKey: ["images"], queryFn: gateway.images.list });
  const rows = useMemo(() => imageRows(images.data ?? []), [images.data]);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (name: string) =>
    setOpen((was) => {
      const next = new Set(was);
      if (!next.delete(name)) next.add(name);
      return next;
    });

  return (
    <div className="page">
      <AppHeader>
        <div className="header-spacer" />
        <a href="/jobs/" className="button" data-testid="jobs-link">
          Jobs
        </a>
        <NoticesBell />
        <AccountMenu />
      </AppHeader>
      <main className="list-page images-page" data-testid="images-page">
        <div className="list-heading">
          <h1>Images</h1>
        </div>
        <p className="muted">
          A notebook runs on one of these. Layers read their parent's files and add only their own; a notebook's <code>%pip install</code>{" "}
          makes a layer for it, which its toolbar can save under a name.
        </p>
        {images.isPending && <p className="muted">Loading images…</p>}
        {images.error && <p className="error-text">Could not load images: {images.error.message}</p>}
        {rows.length > 0 && (
          <table className="notebook-table images-table">
            <thead>
              <tr>
                <th>Image</th>
                <th>Packages</th>
                <th>Shares</th>
                <th>Layer</th>
                <th>Id</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <Fragment key={row.name}>
                  <tr data-testid="image-row" data-image={row.name} data-kind={row.kind} data-parent={row.parent ?? ""}>
                    <td style={{ paddingLeft: 16 + row.depth * 18 }}>
                      <strong data-testid="image-name">{row.name}</strong>{" "}
                      <span className={`image-kind image-kind-${row.kind}`} data-testid="image-kind">
                        {KIND_LABELS[row.kind]}
                      </span>
                      <br />
                      <span className="muted" data-testid="image-description">
                        {row.description}
                      </span>
                    </td>
                    <td data-testid="image-packages" data-package-kind={row.packageKind ?? ""}>
                      {row.packageKind && <span className="muted">{row.packageKind === "pip" ? "pip: " : "Debian: "}</span>}
                      {row.packages.map((p) => (
                        <code key={p} className="image-package" data-testid="image-package">
                          {p}
                        </code>
                      ))}
                    </td>
                    <td data-testid="image-shares">{sharingText(row)}</td>
                    <td data-testid="image-size">{row.kind === "root" ? "whole tree" : formatBytes(row.layerBytes)}</td>
                    <td>
                      <code data-testid="image-id">{row.shortId ?? "—"}</code>
                    </td>
                    <td>
                      <button
                        type="button"
                        className="button button-small"
                        data-testid="image-log-toggle"
                        aria-expanded={open.has(row.name)}
                        onClick={() => toggle(row.name)}
                      >
                        Build log
                      </button>
                    </td>
                  </tr>
                  {open.has(row.name) && (
                    <tr data-testid="image-log-row" data-image={row.name}>
                      <td colSpan={6}>
                        <BuildLog name={row.name} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
      </main>
    </div>
  );
}
