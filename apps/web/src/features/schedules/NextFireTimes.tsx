"use client";
import { formatInZone } from "./schedule-form";

/** The next fire times, each in the schedule's zone and in the viewer's own. `source` says
 * whether they are the form's live preview ("browser") or the gateway's, for a saved schedule. */
export function NextFireTimes({
  times,
  zone,
  viewerZone,
  source,
  problem,
}: {
  times: Array<Date | string>;
  zone: string;
  viewerZone: string;
  source: "browser" | "server";
  problem?: string;
}) {
  return (
    <section className="schedule-next" data-testid="schedule-next-times" data-source={source} aria-label="Next fire times">
      <h3 className="invite-pending-heading">Next {times.length || "fire"} times</h3>
      {problem ? (
        <p className="muted" data-testid="schedule-next-problem">
          {problem}
        </p>
      ) : (
        <table className="schedule-next-table">
          <thead>
            <tr>
              <th>In {zone}</th>
              <th>In your zone ({viewerZone})</th>
            </tr>
          </thead>
          <tbody>
            {times.map((t) => (
              <tr key={String(typeof t === "string" ? t : t.toISOString())} data-testid="schedule-next-time">
                <td data-testid="schedule-next-zone">{formatInZone(t, zone)}</td>
                <td data-testid="schedule-next-local">{formatInZone(t, viewerZone)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
