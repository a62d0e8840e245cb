import fs from "node:fs";
import { expect, type Page, type Locator } from "@playwright/test";

export const token = () => process.env.CELLAR_E2E_TOKEN!;

/** `base`: a gateway other than the suite's (the cluster suite's replicas and load balancer). */
export async function login(page: Page, base = ""): Promise<void> {
  await page.goto(`${base}/?token=${token()}`);
  await expect(page.getByTestId("new-notebook")).toBeVisible();
}

export async function newNotebook(page: Page, title: string, base = ""): Promise<string> {
  await login(page, base);
  await page.getByTestId("new-notebook").click();
  await page.waitForURL(/\/notebook\/?\?id=/);
  const titleInput = page.getByTestId("notebook-title");
  await titleInput.fill(title);
  await expect(page.getByTestId("kernel-status")).toHaveAttribute("data-status", "idle", { timeout: 90_000 });
  return new URL(page.url()).searchParams.get("id")!;
}

export const cells = (page: Page) => page.getByTestId("cell");

/** Replace a cell's source the way a user's paste would (no auto-indent or bracket closing). */
export async function setSource(cell: Locator, code: string): Promise<void> {
  const editor = cell.locator(".cm-content");
  await editor.click();
  await editor.press("ControlOrMeta+a");
  await editor.press("Delete");
  await cell.page().keyboard.insertText(code);
}

/** Type code into the cell and run it with Shift+Enter. */
export async function runInCell(cell: Locator, code: string): Promise<void> {
  await setSource(cell, code);
  await cell.locator(".cm-content").press("Shift+Enter");
}

/** The last cell, pinned by index (Shift+Enter adds a cell, and `.last()` would then mean that
 * one), once the notebook shows any: counted before the first cell renders, the index was -1,
 * which Playwright reads as `.last()`, and the run waited on the new empty cell. */
export async function lastCell(page: Page): Promise<Locator> {
  await expect(cells(page).first()).toBeVisible({ timeout: 30_000 });
  return cells(page).nth((await cells(page).count()) - 1);
}

/** Runs code in the last cell and returns that cell once it has run. */
export async function runInLastCell(page: Page, code: string, timeout = 60_000): Promise<Locator> {
  const cell = await lastCell(page);
  await runInCell(cell, code);
  await expect(cell.getByTestId("execution-count")).toHaveText(/^\[\d+\]$/, { timeout });
  return cell;
}

export async function waitIdle(page: Page): Promise<void> {
  await expect(page.getByTestId("kernel-status")).toHaveAttribute("data-status", "idle", { timeout: 60_000 });
}

/** Records every status the kernel badge shows from now on (a resume or a restart from the pool may be over before a poll sees it). */
export async function recordStatuses(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const badge = document.querySelector('[data-testid="kernel-status"]')!;
    const seen: string[] = [];
    (window as unknown as { kernelStatuses: string[] }).kernelStatuses = seen;
    new MutationObserver(() => {
      const status = badge.getAttribute("data-status")!;
      if (seen.at(-1) !== status) seen.push(status);
    }).observe(badge, { attributes: true, attributeFilter: ["data-status"] });
  });
  return () => page.evaluate(() => (window as unknown as { kernelStatuses: string[] }).kernelStatuses);
}

/** The pid of this e2e stack's process running `entry` (started by scripts/cellar-local.ts with
 * this test run's CELLAR_HOME; other Cellar instances on the machine are not ours), or null. */
export function stackPid(entry: "apps/worker/src/main.ts" | "apps/kernel-gateway/src/main.ts"): number | null {
  const home = process.env.CELLAR_E2E_HOME!;
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(entry)) continue;
      if (fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`CELLAR_HOME=${home}`)) return Number(pid);
    } catch {
      /* exited meanwhile */
    }
  }
  return null;
}

/** Every overlap between consecutive cells that lasts two frames while `during` runs. A sample
 * can catch the DOM between a commit and the resize observers that reposition the cells before
 * that frame is painted, so one frame alone proves nothing; the bug this guards against (a cell
 * keeping its height from before its outputs) lasted until a reload. */
export async function overlapsWhile(page: Page, during: () => Promise<void>): Promise<string[]> {
  await page.evaluate(() => {
    const seen: string[] = [];
    let last = new Set<string>();
    (window as unknown as { overlaps: string[] }).overlaps = seen;
    const check = () => {
      const boxes = Array.from(document.querySelectorAll('[data-testid="cell"]')).map((el) => el.getBoundingClientRect());
      const now = new Set<string>();
      for (let i = 1; i < boxes.length; i++) {
        const over = boxes[i - 1]!.bottom - boxes[i]!.top;
        if (over > 1) now.add(`cell ${i} overlaps cell ${i + 1} by ${Math.round(over)} px`);
      }
      for (const o of now) if (last.has(o)) seen.push(o);
      last = now;
      if ((window as unknown as { overlaps?: string[] }).overlaps === seen) requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
  await during();
  return page.evaluate(() => {
    const w = window as unknown as { overlaps?: string[] };
    const seen = w.overlaps ?? [];
    delete w.overlaps;
    return [...new Set(seen)];
  });
}
