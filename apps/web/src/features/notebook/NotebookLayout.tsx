"use client";
import { useState } from "react";
import { AppHeader } from "../../shared/AppHeader";
import { AccountMenu } from "../account/AccountMenu";
import { ShareButton } from "../share/ShareButton";
import { ScheduleButton } from "../schedules/ScheduleButton";
import { RunsButton } from "../runs/RunsButton";
import { RunsPanel } from "../runs/RunsPanel";
import { NoticesBell } from "../notices/NoticesBell";
import { MachinesButton } from "../machines/MachinesPanel";
import { useNotebookContext } from "./notebook-context";
import { CellList } from "./CellList";
import { NotebookConfirmation } from "./NotebookConfirmation";
import { FindBar } from "../find/FindBar";
import { WorkspaceArea } from "../files/WorkspaceArea";
import { KernelStatusBadge, WorkerStatus } from "../kernel/KernelStatusBadge";
import { NoticeBar } from "./NoticeBar";
import { NotebookToolbar } from "./NotebookToolbar";
import { SaveStatus } from "../save/SaveStatus";
import { TitleInput } from "./TitleInput";
import { PresenceBar } from "../collab/PresenceBar";

/** The notebook page's layout; everything it shows comes from the NotebookContext. `cellsReady`:
 * false while the shared document the cells are edited in is still on its way. */
export function NotebookLayout({ cellsReady = true }: { cellsReady?: boolean }) {
  const { store } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const [runsOpen, setRunsOpen] = useState(false);
  return (
    <div className="page notebook-page">
      <AppHeader>
        <TitleInput />
        <SaveStatus />
        <div className="header-spacer" />
        {cellsReady && <PresenceBar />}
        <WorkerStatus />
        <KernelStatusBadge />
        <ScheduleButton />
        <RunsButton notebookId={notebookId} open={runsOpen} onToggle={() => setRunsOpen((o) => !o)} />
        <MachinesButton />
        <ShareButton />
        <NoticesBell />
        <AccountMenu />
      </AppHeader>
      {/* One sticky block, so the find bar sits under the toolbar however many rows it wraps to. */}
      <div className="notebook-controls">
        <NotebookToolbar />
        <FindBar />
      </div>
      <NoticeBar />
      <div className="notebook-with-runs">
        <WorkspaceArea>
          <main className="notebook-main">{cellsReady ? <CellList /> : <p className="muted">Loading cells…</p>}</main>
        </WorkspaceArea>
        {runsOpen && <RunsPanel notebookId={notebookId} onHide={() => setRunsOpen(false)} />}
      </div>
      <NotebookConfirmation />
    </div>
  );
}
