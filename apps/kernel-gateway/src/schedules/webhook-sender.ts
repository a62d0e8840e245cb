// Delivers runs' webhook notifications: each claimed from the database (so one replica sends it),
// POSTed as JSON whose `text` Slack-compatible endpoints show, and retried with backoff when the
// endpoint fails, until it is given up; what happened is recorded on the run.
import type { ClaimedNotification, ScheduleStore } from "@cellar/db";
import { retryDelayMs } from "@cellar/schedules";
import { runMessage } from "./run-notifications";

export interface WebhookSenderOptions {
  store: Pick<ScheduleStore, "claimNotification" | "markDelivered" | "markFailed">;
  /** The run's page, for the link in the message. */
  runUrl(runId: string): string;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Attempts before a delivery is given up. */
  maxAttempts?: number;
  timeoutMs?: number;
}

const BACKOFF = { baseMs: 10_000, maxMs: 600_000 };

export class WebhookSender {
  constructor(private readonly opts: WebhookSenderOptions) {}

  /** Sends every delivery that is due; returns how many were tried. */
  async sendDue(): Promise<number> {
    let tried = 0;
    for (;;) {
      const claimed = await this.opts.store.claimNotification({ leaseMs: 60_000, now: this.now() });
      if (!claimed) return tried;
      tried++;
      await this.send(claimed);
    }
  }

  private async send(n: ClaimedNotification): Promise<void> {
    const { store } = this.opts;
    const url = n.schedule.webhookUrl;
    if (!url) {
      await store.markFailed(n.runId, n.channel, "The schedule has no webhook URL any more", null);
      return;
    }
    let error: string;
    try {
      const response = await (this.opts.fetch ?? fetch)(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(webhookBody(n, this.opts.runUrl(n.runId))),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        redirect: "error",
      });
      if (response.ok) {
        await store.markDelivered(n.runId, n.channel, this.now());
        return;
      }
      error = `The endpoint answered ${response.status} ${response.statusText}`.trim();
    } catch (e) {
      error = `The endpoint could not be reached: ${(e as Error).message}`;
    }
    const giveUp = n.attempts >= (this.opts.maxAttempts ?? 5);
    const retryAt = giveUp ? null : new Date(this.now().getTime() + retryDelayMs(n.attempts, BACKOFF));
    await store.markFailed(n.runId, n.channel, error, retryAt);
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }
}

/** Slack's incoming webhooks take `text`; the rest is for endpoints that read more. */
export function webhookBody(n: ClaimedNotification, runUrl: string) {
  return {
    text: `${runMessage(n.event, n.run, n.schedule)} ${runUrl}`,
    event: n.event,
    run: {
      id: n.run.id,
      status: n.run.status,
      scheduledFor: n.run.scheduledFor.toISOString(),
      startedAt: n.run.startedAt?.toISOString() ?? null,
      finishedAt: n.run.finishedAt?.toISOString() ?? null,
      durationMs: n.run.durationMs,
      attempt: n.run.attempt,
      failingCellIndex: n.run.failingCellIndex,
      error: n.run.errorName ? { name: n.run.errorName, value: n.run.errorValue } : null,
      url: runUrl,
    },
    schedule: { id: n.schedule.id, name: n.schedule.name, notebookId: n.schedule.notebookId, notebook: n.schedule.notebookTitle },
  };
}
