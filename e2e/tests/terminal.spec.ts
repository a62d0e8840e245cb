// The terminal tab through the real stack: xterm in Chromium, the gateway, the worker, and a bash
// on a pty in the same gVisor sandbox as the notebook's IPython kernel.
import { expect, test, type Page } from "@playwright/test";
import { cells, newNotebook, runInCell, waitIdle } from "./helpers";

const screenOf = (page: Page) => page.getByTestId("terminal-screen").filter({ visible: true });

/** The terminal's visible screen, as text (xterm's DOM rows). */
async function screenText(page: Page): Promise<string> {
  return (await screenOf(page).locator(".xterm-rows").innerText()).replace(/\u00a0/g, " ");
}

async function expectOnScreen(page: Page, pattern: RegExp): Promise<void> {
  await expect.poll(() => screenText(page)).toMatch(pattern);
}

/** Types a command line the way a user does, then Enter. */
async function typeLine(page: Page, line: string): Promise<void> {
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

async function openTerminal(page: Page): Promise<void> {
  await page.getByTestId("terminal-new").click();
  await expect(page.getByTestId("terminal-tab").last()).toHaveAttribute("aria-selected", "true");
  // The prompt shows once the shell runs: cellar@<host>:/workspace$
  await expectOnScreen(page, /cellar@[^:]+:\/workspace\$/);
  await screenOf(page).click();
}

test("a terminal tab runs a shell on a real pty in the kernel's sandbox: commands, resize, Ctrl+C, interactive top, vim, shared files", async ({
  page,
}) => {
  await newNotebook(page, "Terminal");
  await openTerminal(page);

  await typeLine(page, "echo hello-$((6*7))");
  await expectOnScreen(page, /\nhello-42\n/);

  // The pty follows the screen: shrink the window and stty reports the new size.
  const before = await screenOf(page).getAttribute("data-size");
  await page.setViewportSize({ width: 900, height: 560 });
  await expect(screenOf(page)).not.toHaveAttribute("data-size", before!);
  const size = (await screenOf(page).getAttribute("data-size"))!;
  await page.keyboard.press("Control+l");
  await typeLine(page, "stty size");
  await expectOnScreen(page, new RegExp(`\\n${size}\\n`));

  // Ctrl+C ends the running command and the shell takes commands again at once (sleep would
  // otherwise hold it for 100 s, past every timeout here).
  await page.keyboard.press("Control+l");
  await typeLine(page, "echo sleeping-$((6*7)); sleep 100");
  await expectOnScreen(page, /\nsleeping-42\n/);
  await page.keyboard.press("Control+c");
  await typeLine(page, "echo status-$?");
  await expectOnScreen(page, /\nstatus-130\n/);

  // Interactive top, full screen; q leaves it. (gVisor 20221219 refused its
  // tcsetattr(TCSAFLUSH) with "failed tty set"; 20240729 accepts it.)
  // It leaves by itself after 6 refreshes; the echo is on the same line because top flushes
  // typed-ahead input when it restores the tty.
  await page.keyboard.press("Control+l");
  await typeLine(page, "top -d 0.5 -n 6; echo top-left-$?");
  await expectOnScreen(page, /Tasks:/);
  await expectOnScreen(page, /load average/);
  await expectOnScreen(page, /top-left-0/);

  // vim: insert, escape, write to the workspace. Each key waits for the screen to answer the
  // one before, as a user's eyes do: on a loaded machine an Escape and a ':' that reach vim
  // together read as one Alt key, and the rest of the line then went to the shell.
  await typeLine(page, "vim");
  await expectOnScreen(page, /~\s*\n~/);
  await page.keyboard.type("ihello from vim");
  await expectOnScreen(page, /hello from vim[\s\S]*-- INSERT --/);
  await page.keyboard.press("Escape");
  await expect.poll(() => screenText(page)).not.toMatch(/-- INSERT --/);
  await typeLine(page, ":wq /workspace/t.txt");
  await expectOnScreen(page, /:\/workspace\$ *$/m);
  await page.keyboard.press("Control+l");
  await typeLine(page, "cat /workspace/t.txt");
  await expectOnScreen(page, /\nhello from vim\n/);
  await page.getByTestId("files-refresh").click();
  await expect(page.locator('[data-testid="file-entry"][data-path="t.txt"]')).toBeVisible();
  await screenOf(page).click();

  // A file made in the terminal is there for the kernel.
  await typeLine(page, "echo made-in-the-terminal > /workspace/x");
  await page.getByTestId("tab-notebook").click();
  const cell = cells(page).first();
  await runInCell(cell, "print(open('/workspace/x').read().strip())");
  await expect(cell.getByTestId("cell-output")).toContainText("made-in-the-terminal");
});

test("restarting the kernel ends its terminal, which says so and opens a new one on request", async ({ page }) => {
  await newNotebook(page, "Terminal restart");
  await openTerminal(page);
  await typeLine(page, "echo before-$((1+1))");
  await expectOnScreen(page, /\nbefore-2\n/);

  await page.getByTestId("restart-kernel").click();
  await expectOnScreen(page, /\[terminal ended: kernel restarted\]/);
  await expect(page.getByTestId("terminal-ended")).toContainText("kernel restarted");
  await waitIdle(page);

  await page.getByTestId("terminal-reopen").click();
  await expectOnScreen(page, /cellar@[^:]+:\/workspace\$/);
  await screenOf(page).click();
  await typeLine(page, "echo after-$((2+1))");
  await expectOnScreen(page, /\nafter-3\n/);
});
