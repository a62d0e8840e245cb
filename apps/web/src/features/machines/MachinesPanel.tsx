"use client";
import { useState } from "react";
import { FormError } from "../account/AccountPage";
import { useModalDialog } from "../../shared/use-modal-dialog";
import { fleetSummary, formatMemory, freeCapacityText, gpuText, isolationOf } from "./machine-format";
import { type Machine, useMachines } from "./machine-queries";
import "./machines.css";

/** The header's "Machines" button and the panel it opens. */
export function MachinesButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="button" data-testid="machines-open" title="The workers kernels run on" onClick={() => setOpen(true)}>
        Machines
      </button>
      {open && <MachinesPanel onClose={() => setOpen(false)} />}
    </>
  );
}

/** The fleet: each worker's class, CPUs and memory, GPUs (model, memory, driver, CUDA), labels,
 * kernels, free capacity and GPU isolation; read again every 5 s while open. */
export function MachinesPanel({ onClose }: { onClose(): void }) {
  const ref = useModalDialog();
  const machines = useMachines();
  return (
    <dialog
      ref={ref}
      className="confirm-dialog machines-panel"
      data-testid="machines-panel"
      aria-labelledby="machines-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div className="machines-heading">
        <h2 id="machines-title">Machines</h2>
        <button type="button" className="icon-button" aria-label="Close" data-testid="machines-close" onClick={onClose}>
          ×
        </button>
      </div>
      <FormError error={machines.error} testId="machines-error" />
      {machines.data && (
        <p className="muted" data-testid="machines-summary">
          {fleetSummary(machines.data)}
        </p>
      )}
      {!machines.data && !machines.error && <p className="muted">Loading…</p>}
      <ul className="machines-list">
        {(machines.data ?? []).map((m) => (
          <MachineRow key={m.id} machine={m} />
        ))}
      </ul>
    </dialog>
  );
}

function MachineRow({ machine: m }: { machine: Machine }) {
  const labels = Object.entries(m.resources.labels);
  const isolation = isolationOf(m);
  const free = new Set(m.freeGpus);
  return (
    <li className="machines-worker" data-testid="machines-worker" data-worker-id={m.id} data-draining={m.draining}>
      <div className="machines-worker-bar">
        <strong data-testid="machines-worker-id">{m.id}</strong>
        <span className="machines-class" data-testid="machines-class">
          {m.workerClass}
        </span>
        {m.draining && (
          <span className="machines-draining" data-testid="machines-draining">
            draining
          </span>
        )}
      </div>
      <dl className="machines-facts">
        <dt>CPU</dt>
        <dd data-testid="machines-cpu">
          {m.resources.cpus} {m.resources.cpus === 1 ? "core" : "cores"} · {formatMemory(m.resources.memoryBytes)}
        </dd>
        <dt>Kernels</dt>
        <dd data-testid="machines-kernels">{m.sessions}</dd>
        <dt>Free</dt>
        <dd data-testid="machines-free">{freeCapacityText(m)}</dd>
        {isolation && (
          <>
            <dt>GPU isolation</dt>
            <dd data-testid="machines-isolation" title={m.resources.gpuIsolationNote}>
              {isolation}
            </dd>
          </>
        )}
      </dl>
      {m.resources.gpus.length > 0 && (
        <ul className="machines-gpus">
          {m.resources.gpus.map((g) => (
            <li key={g.index} data-testid="machines-gpu" data-free={free.has(g.index)}>
              <span className="machines-gpu-index">GPU {g.index}</span> {gpuText(g)}
              {!free.has(g.index) && <span className="muted"> · in use</span>}
            </li>
          ))}
        </ul>
      )}
      {labels.length > 0 && (
        <ul className="machines-labels" aria-label="Labels">
          {labels.map(([k, v]) => (
            <li key={k} data-testid="machines-label">
              {k}={v}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
