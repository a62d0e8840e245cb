"use client";
import Link from "next/link";
import type { ApiReply } from "@cellar/kernel-client";
import { fullDate, timeAgo } from "../../shared/format-time";
import { notebookHref } from "./NotebookRow";

type SharedNotebook = ApiReply<"listNotebooks">[number];

const ROLE_LABELS = { viewer: "Can view", runner: "Can run", editor: "Can edit", owner: "Owner" } as const;

/** "Shared with me": notebooks others gave the user a role on, with whose they are. Renaming and
 * deleting are the owner's, so a row only opens the notebook. */
export function SharedNotebooks({ notebooks }: { notebooks: SharedNotebook[] }) {
  return (
    <section className="shared-notebooks" data-testid="shared-notebooks" aria-labelledby="shared-heading">
      <h2 id="shared-heading" className="list-subheading">
        Shared with me
      </h2>
      <table className="notebook-table">
        <thead>
          <tr>
            <th>Title</th>
            <th>Owner</th>
            <th>Your role</th>
            <th>Last updated</th>
          </tr>
        </thead>
        <tbody>
          {notebooks.map((nb) => (
            <tr key={nb.id} data-testid="shared-notebook-row" data-notebook-id={nb.id}>
              <td>
                <Link href={notebookHref(nb.id)} className="notebook-link" data-testid="shared-notebook-link">
                  {nb.title || "Untitled"}
                </Link>
              </td>
              <td data-testid="shared-notebook-owner">{nb.ownerName}</td>
              <td data-testid="shared-notebook-role">{ROLE_LABELS[nb.role]}</td>
              <td title={fullDate(nb.updatedAt)}>{timeAgo(nb.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
