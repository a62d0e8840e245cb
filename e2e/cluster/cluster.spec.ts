// Issue 12 end to end on the scaled-out layout: three gateway replicas behind HAProxy sharing
// PostgreSQL, Redis and an S3 bucket, two workers running gVisor sandboxes, Chromium as the user.
// Replicas are killed with SIGKILL; their supervisor starts them again, as Kubernetes would.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test, expect, type Page } from "@playwright/test";
import { cells, login, newNotebook, runInCell, setSource, token, waitIdle } from "../tests/helpers";

/** What scripts/cluster-local.ts --info writes once the cluster is up. */
interface ClusterInfo {
  url: string;
  gateways: Array<{ name: string; url: string; home: string }>;
}
type Replica = ClusterInfo["gateways"][number] & { pid(): number | null; kill(): void };

const GATEWAY = "apps/kernel-gateway/src/main.ts";
let launcher: ChildProcess;
let cluster: { url: string; gateways: Replica[] };
let dir: string;

test.describe.configure({ mode: "serial" });

// The cluster runs in its own process, the launcher of `npm run cluster`, which supervises the
// replicas: a replica killed here is started again by it.
test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-e2e-cluster-"));
  // PostgreSQL runs as its own user, which must reach its data directory inside.
  fs.chmodSync(dir, 0o755);
  const infoFile = path.join(dir, "info.json");
  const port = process.env.CELLAR_E2E_CLUSTER_PORT ?? "8950";
  launcher = spawn(process.execPath, ["--import", "tsx", "../scripts/cluster-local.ts", "--dir", dir, "--port", port, "--info", infoFile], {
    env: { ...process.env, CELLAR_TOKEN: token() },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<never>((_, reject) =>
    launcher.once("exit", (code) => reject(new Error(`the cluster launcher exited (${code})`))),
  );
  const up = (async () => {
    while (!fs.existsSync(infoFile)) await new Promise((r) => setTimeout(r, 500));
  })();
  await Promise.race([up, exited]);
  const info = JSON.parse(fs.readFileSync(infoFile, "utf8")) as ClusterInfo;
  cluster = { url: info.url, gateways: info.gateways.map((g) => replica(g)) };
});

test.afterAll(async () => {
  if (launcher && launcher.exitCode === null) {
    const done = new Promise((r) => launcher.once("exit", r));
    launcher.kill("SIGTERM");
    await done;
  }
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

/** A replica's process, found by its home (other gateways on this machine are not ours). */
function replica(g: ClusterInfo["gateways"][number]): Replica {
  const pid = () => {
    for (const p of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
      try {
        if (!fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(GATEWAY)) continue;
        if (fs.readFileSync(`/proc/${p}/environ`, "utf8").split("\0").includes(`CELLAR_HOME=${g.home}`)) return Number(p);
      } catch {
        /* exited meanwhile */
      }
    }
    return null;
  };
  return {
    ...g,
    pid,
    kill: () => {
      const p = pid();
      if (p === null) throw new Error(`${g.name} is not running`);
      process.kill(p, "SIGKILL");
    },
  };
}

const api = (base: string, route: string, init: RequestInit = {}) =>
  fetch(`${base}${route}`, { ...init, headers: { authorization: `Bearer ${token()}`, ...init.headers } });

/** The replica HAProxy sends this page to (its stickiness cookie names it). */
async function replicaOf(page: Page): Promise<Replica> {
  const cookie = (await page.context().cookies(cluster.url)).find((c) => c.name === "cellar-replica");
  const replica = cluster.gateways.find((g) => g.name === cookie?.value);
  if (!replica) throw new Error(`no replica named by the cookie ${JSON.stringify(cookie)}`);
  return replica;
}

async function ready(g: Replica): Promise<void> {
  await expect.poll(async () => (await api(g.url, "/api/ready").catch(() => null))?.status, { timeout: 90_000 }).toBe(200);
}

async function savedText(base: string, id: string, cell = 0): Promise<string> {
  const notebook = await (await api(base, `/api/notebooks/${id}`)).json();
  return (notebook.cells[cell].outputs as Array<{ text?: string }>).map((o) => o.text ?? "").join("");
}

test("a cell printing for 20 s while the browser's replica is killed ends with all 200 lines, in order, none twice, on the page and saved", async ({
  page,
}) => {
  const id = await newNotebook(page, "printing through a replica kill", cluster.url);
  const replica = await replicaOf(page);
  const cell = cells(page).first();
  await runInCell(cell, "import time\nfor i in range(200):\n    print(f'line {i}', flush=True)\n    time.sleep(0.1)");
  await expect(cell.getByTestId("output-stream")).toContainText("line 30", { timeout: 60_000 });
  const killedPid = replica.pid();
  replica.kill();
  const expected = Array.from({ length: 200 }, (_, i) => `line ${i}`).join("\n");
  await expect(cell.getByTestId("output-stream")).toHaveText(expected, { timeout: 90_000 });
  await waitIdle(page);
  expect(replica.pid()).not.toBe(killedPid);
  await expect.poll(() => savedText(cluster.url, id), { timeout: 30_000 }).toBe(`${expected}\n`);
  await page.reload();
  await expect(cells(page).first().getByTestId("output-stream")).toHaveText(expected);
});

test("a suspended kernel is resumed through a different replica after every replica was killed and restarted", async ({ page }) => {
  const [first, second] = cluster.gateways;
  const id = await newNotebook(page, "suspended across every replica", first.url);
  const badge = page.getByTestId("kernel-status");
  await runInCell(cells(page).first(), "import os\ny = 'still here'\nprint('set')");
  await expect(cells(page).first().getByTestId("cell-output")).toHaveText("set");
  await waitIdle(page);
  const res = await api(first.url, `/api/notebooks/${id}/kernel/suspend`, { method: "POST" });
  expect(res.status, await res.text()).toBe(200);
  await expect(badge).toHaveAttribute("data-status", "suspended");

  const pids = cluster.gateways.map((g) => g.pid());
  for (const g of cluster.gateways) g.kill();
  await expect.poll(() => cluster.gateways.every((g, i) => g.pid() !== null && g.pid() !== pids[i]), { timeout: 60_000 }).toBe(true);
  for (const g of cluster.gateways) await ready(g);

  await login(page, second.url);
  await page.goto(`${second.url}/notebook/?id=${id}`);
  await expect(badge).toHaveAttribute("data-status", "suspended", { timeout: 60_000 });
  await runInCell(cells(page).first(), "print(y)");
  await expect(cells(page).first().getByTestId("cell-output")).toHaveText("still here", { timeout: 120_000 });
  await waitIdle(page);
});

test("two browsers on different replicas run one notebook's kernel and see each other's outputs", async ({ browser }) => {
  const [first, , third] = cluster.gateways;
  const a = await (await browser.newContext()).newPage();
  const id = await newNotebook(a, "two replicas", first.url);
  await setSource(cells(a).first(), "import os\nprint('from A', os.getpid())");
  await a.getByTestId("add-code-cell").click();
  await setSource(cells(a).nth(1), "print('from B', os.getpid())");
  await expect(a.getByTestId("save-status")).toHaveText("Saved", { timeout: 30_000 });

  const b = await (await browser.newContext()).newPage();
  await login(b, third.url);
  await b.goto(`${third.url}/notebook/?id=${id}`);
  await waitIdle(b);
  await expect(cells(b).nth(1).locator(".cm-content")).toHaveText("print('from B', os.getpid())");

  await cells(a).first().locator(".cm-content").click();
  await cells(a).first().locator(".cm-content").press("Shift+Enter");
  await expect(cells(a).first().getByTestId("cell-output")).toContainText("from A");
  await waitIdle(a);
  await cells(b).nth(1).locator(".cm-content").click();
  await cells(b).nth(1).locator(".cm-content").press("Shift+Enter");
  await expect(cells(b).nth(1).getByTestId("cell-output")).toContainText("from B");
  await waitIdle(b);

  // One kernel: both cells ran in the same process.
  const pidA = (await cells(a).first().getByTestId("cell-output").innerText()).split(" ").at(-1);
  const pidB = (await cells(b).nth(1).getByTestId("cell-output").innerText()).split(" ").at(-1);
  expect(pidB).toBe(pidA);
  // Each sees the other's output: what the kernel's replica recorded, whichever replica ran it.
  await b.reload();
  await expect(cells(b).first().getByTestId("cell-output")).toContainText(`from A ${pidA}`);
  await a.reload();
  await expect(cells(a).nth(1).getByTestId("cell-output")).toContainText(`from B ${pidA}`);
  await a.context().close();
  await b.context().close();
});
