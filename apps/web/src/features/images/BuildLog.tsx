"use client";
import { useQuery } from "@tanstack/react-query";
import { isNotFound } from "@cellar/kernel-client";
import { gateway } from "../../shared/gateway";

/** The last build's lines of one image, fetched when shown (and again while it builds). */
export function BuildLog({ name }: { name: string }) {
  const log = useQuery({
    queryKey: ["image-log", name],
    queryFn: () => gateway.images.log(name),
    retry: false,
    refetchInterval: (q) => (q.state.data?.status === "building" ? 2000 : false),
  });
  if (log.isPending) return <p className="muted">Loading the build log…</p>;
  if (log.error)
    return (
      <p className="muted" data-testid="image-log-none">
        {isNotFound(log.error) ? "No build of this image since the gateway started." : `Could not load the log: ${log.error.message}`}
      </p>
    );
  const { status, startedAt, finishedAt, lines, dropped } = log.data;
  return (
    <div className="image-log" data-testid="image-log" data-status={status}>
      <p className="muted">
        {status === "building" ? "Building since" : status === "built" ? "Built" : "Failed"}{" "}
        {new Date(finishedAt ?? startedAt).toLocaleString()}
        {dropped > 0 && ` · ${dropped} earlier lines not kept`}
      </p>
      {lines.length === 0 ? (
        <p className="muted" data-testid="image-log-empty">
          Nothing to print: the gateway found it built already (a cache hit).
        </p>
      ) : (
        <pre data-testid="image-log-lines">{lines.join("\n")}</pre>
      )}
    </div>
  );
}
