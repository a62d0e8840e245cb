// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { renderWithQueries, stubGateway } from "../../test-support/render-with-gateway";
import { MACHINES_REFRESH_MS } from "./machine-queries";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { MachinesButton } = await import("./MachinesPanel");

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const GIB = 2 ** 30;
const cpu = {
  id: "cpu-1",
  resources: { cpus: 8, memoryBytes: 32 * GIB, gpus: [], labels: { zone: "eu-1" } },
  sessions: 3,
  workerClass: "CPU",
  freeGpus: [],
  draining: false,
  local: true,
};
const h200 = {
  id: "gpu-1",
  resources: {
    cpus: 16,
    memoryBytes: 128 * GIB,
    gpus: [{ index: 0, model: "NVIDIA H200", memoryBytes: 143771 * 2 ** 20, driver: "580.95.05", cuda: "13.0", source: "nvidia-smi" }],
    labels: {},
    gpuIsolation: "crun-passthrough",
    gpuIsolationNote: "driver 580.95.05 is outside runsc 20240729's nvproxy range (535.104.12–550.90.07)",
  },
  sessions: 1,
  workerClass: "H200",
  freeGpus: [],
  draining: false,
  local: false,
};
const declared = {
  id: "stand-in",
  resources: {
    cpus: 2,
    memoryBytes: 4 * GIB,
    gpus: [0, 1].map((index) => ({ index, model: "H100", memoryBytes: 0, source: "label" })),
    labels: { gpu: "H100", gpus: "2" },
    gpuIsolation: "gvisor",
  },
  sessions: 0,
  workerClass: "2 × H100",
  freeGpus: [0, 1],
  draining: true,
  local: true,
};

const worker = (id: string) => screen.getAllByTestId("machines-worker").find((w) => w.dataset.workerId === id)!;
const text = (row: HTMLElement, testId: string) => within(row).getByTestId(testId).textContent;

describe("Machines panel", () => {
  it("shows each worker's class, CPUs and memory, GPUs, labels, kernels, free capacity and isolation", async () => {
    stubGateway({ "GET /api/workers": { status: 200, body: [cpu, h200, declared] } });
    renderWithQueries(<MachinesButton />);
    expect(screen.queryByTestId("machines-panel")).toBeNull();
    fireEvent.click(screen.getByTestId("machines-open"));
    await waitFor(() => expect(screen.getByTestId("machines-summary").textContent).toBe("3 workers: 1 × CPU, 1 × H200, 1 × 2 × H100"));

    const c = worker("cpu-1");
    expect(text(c, "machines-class")).toBe("CPU");
    expect(text(c, "machines-cpu")).toBe("8 cores · 32 GiB");
    expect(text(c, "machines-kernels")).toBe("3");
    expect(text(c, "machines-free")).toBe("takes CPU kernels");
    expect(
      within(c)
        .getAllByTestId("machines-label")
        .map((l) => l.textContent),
    ).toEqual(["zone=eu-1"]);
    expect(within(c).queryByTestId("machines-isolation")).toBeNull();
    expect(within(c).queryByTestId("machines-gpu")).toBeNull();

    const g = worker("gpu-1");
    expect(text(g, "machines-class")).toBe("H200");
    expect(within(g).getByTestId("machines-gpu").textContent).toBe("GPU 0 NVIDIA H200 · 140 GiB · driver 580.95.05 · CUDA 13.0 · in use");
    expect(text(g, "machines-free")).toBe("0 of 1 GPU free");
    expect(text(g, "machines-isolation")).toBe("crun (devices passed through)");
    expect(within(g).getByTestId("machines-isolation").title).toMatch(/outside runsc 20240729's nvproxy range/);

    const d = worker("stand-in");
    expect(d.dataset.draining).toBe("true");
    expect(within(d).getByTestId("machines-draining")).toBeTruthy();
    expect(text(d, "machines-free")).toBe("draining: takes nothing new");
    expect(
      within(d)
        .getAllByTestId("machines-gpu")
        .map((x) => x.textContent),
    ).toEqual(["GPU 0 H100 · declared by a label", "GPU 1 H100 · declared by a label"]);
    expect(text(d, "machines-isolation")).toBe("gVisor");

    fireEvent.click(screen.getByTestId("machines-close"));
    expect(screen.queryByTestId("machines-panel")).toBeNull();
  });

  it("says when no worker is connected, and shows the gateway's error", async () => {
    let reply: { status: number; body: unknown } = { status: 200, body: [] };
    stubGateway({ "GET /api/workers": () => reply });
    renderWithQueries(<MachinesButton />);
    fireEvent.click(screen.getByTestId("machines-open"));
    await waitFor(() => expect(screen.getByTestId("machines-summary").textContent).toBe("No worker is connected."));
    cleanup();

    reply = { status: 503, body: { error: "Not ready: the database does not answer" } };
    renderWithQueries(<MachinesButton />);
    fireEvent.click(screen.getByTestId("machines-open"));
    await waitFor(() => expect(screen.getByTestId("machines-error").textContent).toContain("the database does not answer"));
  });

  it("reads the fleet again while open, so a kernel starting shows without a reload", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let kernels = 0;
    const requests = stubGateway({ "GET /api/workers": () => ({ status: 200, body: [{ ...cpu, sessions: kernels }] }) });
    renderWithQueries(<MachinesButton />);
    fireEvent.click(screen.getByTestId("machines-open"));
    await waitFor(() => expect(text(worker("cpu-1"), "machines-kernels")).toBe("0"));
    kernels = 1;
    await act(() => vi.advanceTimersByTimeAsync(MACHINES_REFRESH_MS));
    await waitFor(() => expect(text(worker("cpu-1"), "machines-kernels")).toBe("1"));
    expect(requests.filter((r) => r.path === "/api/workers").length).toBeGreaterThanOrEqual(2);
  });
});
