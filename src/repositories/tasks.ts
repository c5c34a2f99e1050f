/** delayed_tasks (default source only). */
import { fromDbTime, toBool, toNum } from "../_internal/values.ts";
import { many, named, type Row, sql, timeCompare, write } from "../sources/query.ts";
import type { DelayedTask } from "../types.ts";

export function mapTask(r: Row, dataSource: string): DelayedTask {
  return {
    id: r.id as string,
    delayedTs: toNum(r.delayed_ts),
    function: r.function as string,
    kwargs: r.kwargs as string,
    isDone: toBool(r.is_done),
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

export const tasks = named("tasks", {
  pending: many(
    `SELECT id, delayed_ts, function, kwargs, is_done, created_at, updated_at FROM delayed_tasks
     WHERE is_done = FALSE ORDER BY delayed_ts, id`,
    mapTask,
  ),
  /** Insert-only: a duplicate id resolves false. */
  add: write(
    (p: { id: string; delayedTs: number; function: string; kwargs: string; now: string }) =>
      sql`INSERT INTO delayed_tasks (id, delayed_ts, function, kwargs, created_at, updated_at)
      VALUES (${p.id}, ${p.delayedTs}, ${p.function}, ${p.kwargs}, ${p.now}, ${p.now})
      ON CONFLICT DO NOTHING`,
  ),
  /** Done tasks last updated before `before` (gromozeka's cleanupOldCompletedDelayedTasks). */
  cleanupDone: write(
    (p: Record<"before" | "beforeIso" | "beforeDay", string | null>) =>
      sql`DELETE FROM delayed_tasks WHERE is_done = TRUE
      AND ${timeCompare("updated_at", "<", { space: p.before, iso: p.beforeIso, day: p.beforeDay })}`,
  ),
  setDone: write(
    (p: { id: string; isDone: boolean; now: string }) =>
      sql`UPDATE delayed_tasks SET is_done = ${p.isDone}, updated_at = ${p.now} WHERE id = ${p.id}`,
  ),
});
