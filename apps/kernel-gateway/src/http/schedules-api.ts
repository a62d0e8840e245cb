// Schedules and their runs over HTTP: a notebook's schedules (created by an editor, who owns them
// and as whom they run), the caller's Jobs page, changes by the schedule's owner or the notebook's
// owner, "Run now", cancel, a run's record and its outputs against the previous successful run,
// and the caller's notices. Who may see a schedule: whoever may view its notebook (the route
// table's role for the notebook routes; `scheduleFor` for the others).
import {
  ScheduleRefusedError,
  type RunDot,
  type ScheduleRecord,
  type ScheduleRunRecord,
  type ScheduleStore,
  type ShareStore,
} from "@cellar/db";
import {
  type Cell,
  type FieldError,
  isRunStatus,
  pythonNameProblem,
  scheduleSpecOf,
  type RunReply,
  type RunStatus,
  type ScheduleSpec,
  type ScheduleSummaryReply,
} from "@cellar/protocol";
import { nextFireTimes, validateSchedule, validateScheduleUpdate } from "@cellar/schedules";
import type { FastifyRequest } from "fastify";
import type { ApiHandlers } from "./api-handlers";
import { userOf } from "./auth";
import { HttpError } from "./http-errors";
import { outputsDiff } from "./run-diff";

export interface SchedulesApiDeps {
  schedules: ScheduleStore;
  shares: Pick<ShareStore, "roleOf">;
  /** Where the runs' executed copies are read, for the outputs diff. */
  notebooks: { get(id: string): Promise<{ cells: Cell[] } | null> };
  userName(userId: string): Promise<string | null>;
  now?: () => Date;
}

type Need = "view" | "change";

/** The web app's page of a run (its record, executed notebook and outputs diff). */
export const runPagePath = (runId: string) => `/run/?id=${encodeURIComponent(runId)}`;

export function schedulesApi(
  deps: SchedulesApiDeps,
): ApiHandlers<
  | "listNotebookSchedules"
  | "createSchedule"
  | "listNotebookRuns"
  | "listSchedules"
  | "getSchedule"
  | "updateSchedule"
  | "deleteSchedule"
  | "pauseSchedule"
  | "resumeSchedule"
  | "runScheduleNow"
  | "listScheduleRuns"
  | "getRun"
  | "cancelRun"
  | "runDiff"
  | "listNotices"
  | "markNoticesRead"
> {
  const { schedules } = deps;
  const now = () => deps.now?.() ?? new Date();

  /** The schedule, if the caller may `need` it: 404 when they may not even see it. */
  async function scheduleFor(req: FastifyRequest, id: string, need: Need): Promise<ScheduleRecord> {
    const schedule = await schedules.get(id);
    const user = userOf(req);
    if (!schedule) throw new HttpError(404, "No such schedule");
    if (schedule.ownerId === user.id) return schedule;
    const role = schedule.notebookId ? await deps.shares.roleOf(user.id, schedule.notebookId) : null;
    if (!role) throw new HttpError(404, "No such schedule");
    if (need === "change" && role !== "owner")
      throw new HttpError(403, "Only the schedule's owner or the notebook's owner can change this schedule");
    return schedule;
  }

  async function runFor(req: FastifyRequest, id: string, need: Need) {
    const run = await schedules.getRun(id);
    if (!run) throw new HttpError(404, "No such run");
    try {
      return { run, schedule: await scheduleFor(req, run.scheduleId, need) };
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) throw new HttpError(404, "No such run");
      throw error;
    }
  }

  const names = new Map<string, Promise<string>>();
  const nameOf = (userId: string) => {
    let name = names.get(userId);
    if (!name) {
      name = deps.userName(userId).then((n) => n ?? "a former member");
      names.set(userId, name);
      // Names change rarely; a stale one for a minute is fine, an unbounded cache is not.
      setTimeout(() => names.delete(userId), 60_000).unref();
    }
    return name;
  };

  /** The schedules as the Jobs page and the Runs panel show them: the sparklines' runs of all of
   * them come from one query. */
  async function summaries(list: ScheduleRecord[]): Promise<ScheduleSummaryReply[]> {
    const recent = await schedules.recentRuns(
      list.map((s) => s.id),
      30,
    );
    return Promise.all(list.map((s) => summaryOf(s, recent.get(s.id) ?? [])));
  }
  const summary = async (schedule: ScheduleRecord) => (await summaries([schedule]))[0]!;

  async function summaryOf(schedule: ScheduleRecord, recent: RunDot[]): Promise<ScheduleSummaryReply> {
    return {
      ...scheduleSpecOf(schedule),
      id: schedule.id,
      notebookId: schedule.notebookId,
      notebookTitle: schedule.notebookTitle,
      ownerId: schedule.ownerId,
      ownerName: await nameOf(schedule.ownerId),
      disabledReason: schedule.disabledReason,
      cursor: schedule.cursor.toISOString(),
      nextFireTimes: schedule.enabled ? nextFireTimes(schedule.cron, schedule.timezone, now(), 5).map((t) => t.toISOString()) : [],
      createdAt: schedule.createdAt.toISOString(),
      updatedAt: schedule.updatedAt.toISOString(),
      recentRuns: recent.map((r) => ({ id: r.id, status: r.status, scheduledFor: r.scheduledFor.toISOString(), durationMs: r.durationMs })),
    };
  }

  /** Runs as replies, each with its schedule's name and notebook (looked up once per schedule). */
  async function runReplies(runs: ScheduleRunRecord[]): Promise<RunReply[]> {
    const byId = new Map<string, Promise<ScheduleRecord | null>>();
    const of = (id: string) => {
      if (!byId.has(id)) byId.set(id, schedules.get(id));
      return byId.get(id)!;
    };
    return Promise.all(runs.map(async (run) => runReply(run, await of(run.scheduleId))));
  }

  const statusFilter = (status?: string): RunStatus[] | undefined => {
    if (!status) return undefined;
    const list = status.split(",");
    const bad = list.find((s) => !isRunStatus(s));
    if (bad) throw new HttpError(400, `Bad status: '${bad}' is not a run status`);
    return list as RunStatus[];
  };

  return {
    listNotebookSchedules: async (req) => summaries(await schedules.listByNotebook(req.params.id)),
    createSchedule: async (req, reply) => {
      const checked = validateSchedule(req.body);
      if (!checked.ok) throw invalid(checked.errors);
      const schedule = await refusals(() =>
        schedules.create(
          { ...checked.value, notebookId: req.params.id, ownerId: userOf(req).id, name: nameOrDefault(checked.value) },
          now(),
        ),
      );
      return reply.code(201).send(await summary(schedule));
    },
    listNotebookRuns: async (req) =>
      runReplies(
        await schedules.listRuns({ notebookId: req.params.id }, { status: statusFilter(req.query.status), limit: req.query.limit }),
      ),
    listSchedules: async (req) => summaries(await schedules.listByOwner(userOf(req).id)),
    getSchedule: async (req) => summary(await scheduleFor(req, req.params.scheduleId, "view")),
    updateSchedule: async (req) => {
      const current = await scheduleFor(req, req.params.scheduleId, "change");
      const checked = validateScheduleUpdate(scheduleSpecOf(current), req.body);
      if (!checked.ok) throw invalid(checked.errors);
      const updated = await refusals(() => schedules.update(current.id, { ...checked.value, name: nameOrDefault(checked.value) }, now()));
      return summary(updated ?? noSchedule());
    },
    deleteSchedule: async (req, reply) => {
      const schedule = await scheduleFor(req, req.params.scheduleId, "change");
      if (!(await schedules.remove(schedule.id))) noSchedule();
      return reply.code(204).send(null);
    },
    pauseSchedule: async (req) => {
      const schedule = await scheduleFor(req, req.params.scheduleId, "change");
      return summary((await schedules.pause(schedule.id, now())) ?? noSchedule());
    },
    resumeSchedule: async (req) => {
      const schedule = await scheduleFor(req, req.params.scheduleId, "change");
      return summary((await refusals(() => schedules.resume(schedule.id, now()))) ?? noSchedule());
    },
    runScheduleNow: async (req, reply) => {
      const schedule = await scheduleFor(req, req.params.scheduleId, "change");
      const parameters = req.body?.parameters;
      if (parameters) {
        const errors = Object.keys(parameters).flatMap((name) => {
          const problem = pythonNameProblem(name);
          return problem ? [{ field: `parameters.${name}`, message: `Parameter '${name}' ${problem}` }] : [];
        });
        if (errors.length) throw invalid(errors);
      }
      const run = await refusals(() => schedules.runNow(schedule.id, now(), parameters ?? undefined));
      return reply.code(201).send(runReply(run ?? noSchedule(), schedule));
    },
    listScheduleRuns: async (req) => {
      const schedule = await scheduleFor(req, req.params.scheduleId, "view");
      const runs = await schedules.listRuns(
        { scheduleId: schedule.id },
        { status: statusFilter(req.query.status), limit: req.query.limit },
      );
      return runs.map((r) => runReply(r, schedule));
    },
    getRun: async (req) => {
      const { run, schedule } = await runFor(req, req.params.runId, "view");
      return {
        ...runReply(run, schedule),
        previousSuccessfulRunId: run.previousSuccessfulRunId,
        notifications: run.notifications.map((n) => ({
          channel: n.channel,
          event: n.event,
          status: n.status,
          attempts: n.attempts,
          lastError: n.lastError,
          deliveredAt: n.deliveredAt?.toISOString() ?? null,
        })),
      };
    },
    cancelRun: async (req) => {
      const { run, schedule } = await runFor(req, req.params.runId, "change");
      const cancelled = await schedules.requestCancel(run.id, now());
      if (!cancelled) throw new HttpError(409, `The run has already ended (${run.status.replace("_", " ")})`);
      return runReply(cancelled, schedule);
    },
    runDiff: async (req) => {
      const { run } = await runFor(req, req.params.runId, "view");
      const load = (id: string | null) => (id ? deps.notebooks.get(id) : Promise.resolve(null));
      const previous = run.previousSuccessfulRunId ? await schedules.getRun(run.previousSuccessfulRunId) : null;
      const [after, before] = await Promise.all([load(run.executedNotebookId), load(previous?.executedNotebookId ?? null)]);
      return { runId: run.id, previousRunId: previous?.id ?? null, cells: outputsDiff(before?.cells ?? null, after?.cells ?? []) };
    },
    listNotices: async (req) =>
      (await schedules.listNotices(userOf(req).id, { limit: 100 })).map((n) => ({
        id: n.id,
        kind: n.kind,
        message: n.message,
        scheduleId: n.scheduleId,
        runId: n.runId,
        createdAt: n.createdAt.toISOString(),
        readAt: n.readAt?.toISOString() ?? null,
      })),
    markNoticesRead: async (req, reply) => {
      await schedules.markNoticesRead(userOf(req).id, req.body.ids, now());
      return reply.code(204).send(null);
    },
  };
}

function invalid(fields: FieldError[]): HttpError {
  const error = new HttpError(400, fields.length === 1 ? fields[0]!.message : "The schedule is not valid");
  error.fields = fields;
  return error;
}

function noSchedule(): never {
  throw new HttpError(404, "No such schedule");
}

/** The store's refusals (a deleted notebook, an executed copy) as 404 and 409. */
async function refusals<T>(act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (error) {
    if (error instanceof ScheduleRefusedError) throw new HttpError(error.reason === "notebook-deleted" ? 409 : 404, error.message);
    throw error;
  }
}

/** An unnamed schedule is called by when it runs. */
function nameOrDefault(spec: ScheduleSpec): string {
  return spec.name || `${spec.cron} (${spec.timezone})`;
}

function runReply(run: ScheduleRunRecord, schedule: ScheduleRecord | null): RunReply {
  return {
    id: run.id,
    scheduleId: run.scheduleId,
    scheduleName: schedule?.name ?? "",
    notebookId: schedule?.notebookId ?? null,
    notebookTitle: schedule?.notebookTitle ?? "",
    trigger: run.trigger,
    status: run.status,
    scheduledFor: run.scheduledFor.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    durationMs: run.durationMs,
    attempt: run.attempt,
    parameters: run.parameters as RunReply["parameters"],
    image: run.image,
    workerId: run.workerId,
    failingCellId: run.failingCellId,
    failingCellIndex: run.failingCellIndex,
    errorName: run.errorName,
    errorValue: run.errorValue,
    traceback: run.traceback,
    reason: run.reason,
    executedNotebookId: run.executedNotebookId,
    cancelRequested: run.cancelRequested,
    earlierAttempts: run.earlierAttempts.map((a) => ({
      ...a,
      startedAt: a.startedAt?.toISOString() ?? null,
      finishedAt: a.finishedAt.toISOString(),
    })),
  };
}
