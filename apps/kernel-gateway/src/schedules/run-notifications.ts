// What a finished run tells its owner, and where: the event (failure, success, recovery) by the
// schedule's settings, and the message a notice and a webhook carry.
import type { ScheduleRecord, ScheduleRunRecord, ScheduleStore } from "@cellar/db";
import type { NotificationChannel, RunEvent } from "@cellar/protocol";

const FAILED = new Set(["failed", "timed_out"]);

/** The event this run's end is, if its schedule asks to hear of it; null otherwise (a retry that
 * is queued again, a cancelled run, a success nobody asked about). Recovery: a success whose
 * previous run that ran failed. */
export async function runEventOf(
  store: Pick<ScheduleStore, "listRuns">,
  run: ScheduleRunRecord,
  schedule: ScheduleRecord,
): Promise<RunEvent | null> {
  if (FAILED.has(run.status)) return schedule.notifyOnFailure ? "failure" : null;
  if (run.status !== "succeeded") return null;
  if (schedule.notifyOnRecovery) {
    const [previous] = (
      await store.listRuns({ scheduleId: schedule.id }, { status: ["succeeded", "failed", "timed_out"], limit: 5 })
    ).filter((r) => r.id !== run.id && r.scheduledFor <= run.scheduledFor);
    if (previous && FAILED.has(previous.status)) return "recovery";
  }
  return schedule.notifyOnSuccess ? "success" : null;
}

export function notificationOf(
  event: RunEvent,
  run: ScheduleRunRecord,
  schedule: ScheduleRecord,
): { channels: NotificationChannel[]; event: RunEvent; message: string } {
  const channels: NotificationChannel[] = schedule.webhookUrl ? ["in_app", "webhook"] : ["in_app"];
  return { channels, event, message: runMessage(event, run, schedule) };
}

/** One line, as a notice shows it and Slack's `text` takes it. */
export function runMessage(event: RunEvent, run: ScheduleRunRecord, schedule: Pick<ScheduleRecord, "name" | "notebookTitle">): string {
  const what = `"${schedule.name}" (${schedule.notebookTitle})`;
  const took = run.durationMs === null ? "" : ` in ${formatDuration(run.durationMs)}`;
  if (event === "success") return `${what} succeeded${took}.`;
  if (event === "recovery") return `${what} succeeded again${took}, after failing.`;
  const why = run.status === "timed_out" ? "timed out" : "failed";
  const where = run.failingCellIndex === null ? "" : ` in cell ${run.failingCellIndex + 1}`;
  const error = run.errorName ? `: ${run.errorName}${run.errorValue ? `: ${run.errorValue}` : ""}` : run.reason ? `: ${run.reason}` : "";
  return `${what} ${why}${where}${error}`;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
