// Keypress → paint, measured inside the page so Playwright's own round trips do not count: from a
// keydown's timestamp to the frame after the character shows up in the focused editor. Used by the
// large-notebook test and the editor benchmark.
import type { Page } from "@playwright/test";

/** Types `text` one key at a time into the focused editor; resolves to each key's latency in ms. */
export async function typeAndTimePaints(page: Page, text: string): Promise<number[]> {
  const times: number[] = [];
  for (const ch of text) {
    // A string, not a function: tsx's name-keeping helpers do not exist inside the page.
    await page.evaluate(`(() => {
      window.__paint = new Promise((resolve) => {
        let t0 = 0;
        const editor = document.activeElement && document.activeElement.closest(".cm-editor");
        const onKey = (e) => { t0 = e.timeStamp; document.removeEventListener("keydown", onKey, true); };
        document.addEventListener("keydown", onKey, true);
        const obs = new MutationObserver(() => {
          if (!t0) return;
          obs.disconnect();
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
        });
        obs.observe(editor || document.body, { childList: true, subtree: true, characterData: true });
      });
    })()`);
    await page.keyboard.press(ch === " " ? "Space" : ch);
    times.push((await page.evaluate("window.__paint")) as number);
  }
  return times;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
