// The notebook's workspace through the real stack: the files panel lists what the kernel writes in
// its working directory (/workspace, on the worker), Monaco edits and saves files the kernel then
// reads, uploads (picker and drag-and-drop) land where the kernel sees them, folders, renames, downloads,
// and the workspace outlives a kernel restart.
import fs from "node:fs";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { cells, newNotebook, recordStatuses, runInCell, waitIdle } from "./helpers";

const entry = (page: Page, path: string) => page.locator(`[data-testid="file-entry"][data-path="${path}"]`);
const output = (cell: Locator) => cell.getByTestId("cell-output");

async function editInMonaco(page: Page, text: string): Promise<void> {
  const editor = page.getByTestId("file-editor").locator(".monaco-editor .view-lines");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

test("a file a cell writes is listed, edited in Monaco, saved, read back by the kernel, and kept across a restart", async ({ page }) => {
  await newNotebook(page, "Workspace files");
  const first = cells(page).first();
  await runInCell(first, "import os\nopen('data.csv', 'w').write('a,b\\n1,2\\n')\nprint(os.getcwd())");
  await expect(output(first)).toContainText("/workspace");
  // The panel refreshes by itself when the cell finishes.
  await expect(entry(page, "data.csv")).toBeVisible();
  await expect(entry(page, "data.csv")).toHaveAttribute("data-kind", "file");

  await entry(page, "data.csv").getByRole("button", { name: "data.csv", exact: true }).click();
  const editor = page.getByTestId("file-editor");
  await expect(editor).toHaveAttribute("data-path", "data.csv");
  await expect(editor.locator(".monaco-editor .view-lines")).toContainText("1,2");

  await editInMonaco(page, "a,b\n3,4\n");
  await expect(page.getByTestId("file-save-state")).toHaveAttribute("data-state", "unsaved");
  await expect(page.getByTestId("file-tab")).toContainText("● data.csv");
  await page.keyboard.press("ControlOrMeta+s");
  await expect(page.getByTestId("file-save-state")).toHaveAttribute("data-state", "saved");
  await expect(page.getByTestId("file-tab")).toHaveText(/^data\.csv/);

  await page.getByTestId("tab-notebook").click();
  const second = cells(page).nth(1);
  await runInCell(second, "print(open('data.csv').read().split())");
  await expect(output(second)).toContainText("['a,b', '3,4']");

  // A restart from the pool is over in milliseconds, before a poll of the badge may see it.
  const statuses = await recordStatuses(page);
  await page.getByTestId("restart-kernel").click();
  await expect.poll(statuses).toContain("restarting");
  await waitIdle(page);
  const third = cells(page).nth(2);
  await runInCell(third, "print('x' in dir(), open('data.csv').read().split())");
  await expect(output(third)).toContainText("False ['a,b', '3,4']");
  await expect(entry(page, "data.csv")).toBeVisible();
});

test("uploads by picker and by drop, folders, renames, downloads, deletes, binary files and symlinks out of the workspace", async ({
  page,
}) => {
  await newNotebook(page, "Uploads");
  await expect(page.getByTestId("files-panel")).toContainText("No files yet");

  // Upload with the file picker, then read it from a cell.
  await page
    .getByTestId("files-upload-input")
    .setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("uploaded by picker\n") });
  await expect(entry(page, "notes.txt")).toBeVisible();
  const first = cells(page).first();
  await runInCell(first, "print(open('notes.txt').read())");
  await expect(output(first)).toContainText("uploaded by picker");

  // A new folder, then a file dropped onto it lands inside it.
  await page.getByTestId("files-new-folder").click();
  await page.getByTestId("files-new-folder-name").fill("results");
  await page.getByTestId("files-new-folder-name").press("Enter");
  await expect(entry(page, "results")).toHaveAttribute("data-kind", "directory");
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["dropped,1\n"], "dropped.csv", { type: "text/csv" }));
    return dt;
  });
  await entry(page, "results").dispatchEvent("dragover", { dataTransfer });
  await entry(page, "results").dispatchEvent("drop", { dataTransfer });
  await expect(entry(page, "results/dropped.csv")).toBeVisible();
  const second = cells(page).nth(1);
  await runInCell(second, "import os\nprint(os.path.isdir('results'), open('results/dropped.csv').read().strip())");
  await expect(output(second)).toContainText("True dropped,1");

  // Rename the folder; the kernel sees the file under its new path.
  await entry(page, "results").hover();
  await entry(page, "results").getByTestId("file-rename").click();
  await page.getByTestId("file-rename-name").fill("outputs");
  await page.getByTestId("file-rename-name").press("Enter");
  await expect(entry(page, "outputs")).toHaveAttribute("data-kind", "directory");
  await expect(entry(page, "results")).toHaveCount(0);

  // Download: the exact bytes a cell wrote.
  const third = cells(page).nth(2);
  await runInCell(third, "open('blob.bin', 'wb').write(bytes(range(256)))\nimport os; os.symlink('/etc/passwd', 'passwd-link')");
  await expect(entry(page, "blob.bin")).toBeVisible();
  await entry(page, "blob.bin").hover();
  const [download] = await Promise.all([page.waitForEvent("download"), entry(page, "blob.bin").getByTestId("file-download").click()]);
  expect(download.suggestedFilename()).toBe("blob.bin");
  expect([...fs.readFileSync((await download.path())!)]).toEqual([...Array(256).keys()]);

  // A binary file opens as "download it instead", not as text.
  await entry(page, "blob.bin").getByRole("button", { name: "blob.bin", exact: true }).click();
  await expect(page.getByTestId("file-binary")).toContainText("not a text file (256 bytes)");

  // A symlink the kernel made to a path outside the workspace is never followed.
  await expect(entry(page, "passwd-link")).toHaveAttribute("data-kind", "symlink");
  await entry(page, "passwd-link").getByRole("button", { name: "passwd-link", exact: true }).click();
  await expect(page.locator('[data-testid="file-editor"][data-path="passwd-link"]')).toContainText("points outside the workspace");

  // Delete, after a confirmation.
  page.once("dialog", (d) => void d.accept());
  await entry(page, "notes.txt").hover();
  await entry(page, "notes.txt").getByTestId("file-delete").click();
  await expect(entry(page, "notes.txt")).toHaveCount(0);
  await page.getByTestId("tab-notebook").click();
  const fourth = cells(page).nth(3);
  await runInCell(fourth, "print(os.path.exists('notes.txt'), open('outputs/dropped.csv').read().strip())");
  await expect(output(fourth)).toContainText("False dropped,1");
});
