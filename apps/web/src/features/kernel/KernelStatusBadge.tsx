"use client";
import { useNotebookContext, useNotebookState } from "../notebook/notebook-context";
import type { KernelDisplayStatus } from "./kernel-slice";
import { useMay } from "../notebook/page-roles";
import { placementLabel } from "../devices/cell-device";

// Keyed by the protocol's statuses (plus "connecting"), so a new status cannot go unlabelled.
const LABEL: Record<KernelDisplayStatus, string> = {
  connecting: "connecting",
  starting: "starting",
  idle: "idle",
  busy: "busy",
  dead: "dead",
  restarting: "restarting",
  disconnected: "disconnected",
  suspended: "suspended",
  resuming: "resuming…",
};

const TITLE: Partial<Record<KernelDisplayStatus, string>> = {
  suspended: "The idle kernel was saved and stopped to free memory; running a cell resumes it with its variables.",
  resuming: "Restoring the suspended kernel with its variables; your cell runs as soon as it is back.",
};

export function KernelStatusBadge() {
  const { commands } = useNotebookContext();
  const kernel = useNotebookState((s) => s.kernel);
  const mayRestart = useMay("restart");
  const showReason = (kernel.status === "dead" || kernel.status === "disconnected") && kernel.reason;
  const placement = useNotebookState((s) => s.placement);
  return (
    <div
      className={`kernel-status kernel-status-${kernel.status}`}
      data-testid="kernel-status"
      data-status={kernel.status}
      role="status"
      title={kernel.reason ?? TITLE[kernel.status]}
    >
      <span className="kernel-dot" aria-hidden="true" />
      <span className="kernel-label">
        Kernel <strong>{LABEL[kernel.status]}</strong>
      </span>
      {showReason && <span className="kernel-reason">— {kernel.reason}</span>}
      {placement && (
        <span
          className="kernel-placement"
          data-testid="kernel-placement"
          data-device={placement.device.kind}
          data-worker={placement.workerId}
          data-isolation={placement.isolation}
          title={`The kernel runs on worker ${placement.workerId} (${placement.workerClass})`}
        >
          {placementLabel(placement)}
        </span>
      )}
      {kernel.status === "dead" && mayRestart && (
        <button
          type="button"
          className="button button-small button-danger"
          data-testid="kernel-status-restart"
          onClick={() => void commands.restart()}
        >
          Restart
        </button>
      )}
    </div>
  );
}

export function WorkerStatus() {
  const workers = useNotebookState((s) => s.workers);
  if (workers === null) return <span className="worker-status muted" data-testid="worker-status" data-count="" />;
  return (
    <span className={`worker-status${workers === 0 ? " worker-status-none" : ""}`} data-testid="worker-status" data-count={workers}>
      {workers === 0 ? "No worker connected" : `${workers} worker${workers === 1 ? "" : "s"}`}
    </span>
  );
}
