/**
 * stat_events and stat_aggregates (gromozeka 016), as gromozeka's DatabaseStatsStorage uses
 * them: events appended unprocessed; a run claims a batch (orphaned claims included), sums it
 * per hour, day, month and in total, per label set and for the global rollup, and upserts the
 * sums while marking the batch processed.
 */
import { fromDbTime, toNum } from "../_internal/values.ts";
import {
  batch,
  limit,
  many,
  named,
  perDialect,
  type Row,
  sql,
  text,
  timeCompare,
  ts,
  write,
} from "../sources/query.ts";
import type { StatAggregate } from "../types.ts";

export function mapAggregate(r: Row, dataSource: string): StatAggregate {
  return {
    eventType: r.event_type as string,
    periodStart: r.period_start as string,
    periodType: r.period_type as StatAggregate["periodType"],
    labelsHash: r.labels_hash as string,
    labels: parseJson(r.labels) as Record<string, string>,
    metricKey: r.metric_key as string,
    metricValue: toNum(r.metric_value),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

/**
 * JSON as Python's json module reads it: NaN, Infinity and -Infinity are tokens (gromozeka's
 * json.dumps writes them for non-finite values); they read as NaN and ±Infinity.
 */
export function parseJson(v: unknown): unknown {
  if (typeof v !== "string") return {};
  try {
    return JSON.parse(v);
  } catch {
    const marked = v.replace(/-?\bInfinity\b|\bNaN\b/g, (t) => `"\uE000${t}"`);
    return JSON.parse(marked, (_, x) =>
      typeof x === "string" && x.startsWith("\uE000") ? Number(x.slice(1)) : x,
    );
  }
}

type Claim = {
  batchId: string;
  eventType: string;
  now: string;
  limit: number;
} & Record<"orphan" | "orphanIso" | "orphanDay", string | null>;

const markProcessed = write(
  (p: { batchId: string }) => sql`UPDATE stat_events SET processed = 1
  WHERE processed = 0 AND processed_id = ${p.batchId}`,
);
/** `rows`: a JSON list of [event_type, period_start, period_type, labels_hash, labels, metric_key, value]. */
const upsertSums = write(
  (p: { rows: string; now: string }) => sql`INSERT INTO stat_aggregates (event_type, period_start,
  period_type, labels_hash, labels, metric_key, metric_value, updated_at) ${perDialect({
    sqlite: sql`SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
      json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'),
      json_extract(value, '$[5]'), json_extract(value, '$[6]'), ${p.now}
      FROM json_each(${p.rows}) WHERE true`,
    pg: sql`SELECT e->>0, e->>1, e->>2, e->>3, e->>4, e->>5, (e->>6)::double precision,
      ${ts(p.now)} FROM jsonb_array_elements(${text(p.rows)}::jsonb) AS e`,
  })}
  ON CONFLICT (event_type, period_start, period_type, labels_hash, metric_key) DO UPDATE SET
  metric_value = stat_aggregates.metric_value + excluded.metric_value,
  updated_at = excluded.updated_at`,
);

export const stats = named("stats", {
  record: write(
    (p: {
      eventId: string;
      eventType: string;
      eventTime: string;
      data: string;
      labels: string;
      now: string;
    }) => sql`INSERT INTO stat_events (event_id, event_type, event_time, data, labels, processed,
    processed_id, claimed_at, created_at) VALUES (${p.eventId}, ${p.eventType}, ${p.eventTime},
    ${p.data}, ${p.labels}, 0, NULL, NULL, ${p.now})`,
  ),
  /**
   * Claims up to `limit` unprocessed events of the type, oldest first: never claimed, or
   * claimed before `orphan` by a run that did not finish (gromozeka's claim UPDATE).
   */
  claim: write(
    (p: Claim) => sql`UPDATE stat_events SET processed_id = ${p.batchId}, claimed_at = ${p.now}
    WHERE event_id IN (SELECT event_id FROM (SELECT event_id FROM stat_events
      WHERE processed = 0 AND event_type = ${p.eventType} AND (processed_id IS NULL
        OR ${timeCompare("claimed_at", "<", { space: p.orphan, iso: p.orphanIso, day: p.orphanDay })})
      ORDER BY event_time LIMIT ${limit(p.limit)}) AS _claim)`,
  ),
  claimed: many(
    (p: { batchId: string }) => sql`SELECT event_id, event_time, data, labels FROM stat_events
    WHERE processed = 0 AND processed_id = ${p.batchId} ORDER BY event_time, event_id`,
    (r) => ({
      eventTime: fromDbTime(r.event_time),
      data: parseJson(r.data) as Record<string, unknown>,
      labels: parseJson(r.labels) as Record<string, unknown>,
    }),
  ),
  /**
   * The batch's end, in one transaction: marked processed, then its sums added. When the batch
   * is no longer this run's (reclaimed as an orphan meanwhile), nothing is marked and the sums
   * are not added (runBatch: the first step decides).
   */
  finish: batch([markProcessed, upsertSums]),
  aggregates: many(
    (p: { eventType: string; periodType: string | null; metricKey: string | null }) =>
      sql`SELECT event_type, period_start, period_type, labels_hash, labels, metric_key,
      metric_value, updated_at FROM stat_aggregates WHERE event_type = ${p.eventType}
      AND (${text(p.periodType)} IS NULL OR period_type = ${p.periodType})
      AND (${text(p.metricKey)} IS NULL OR metric_key = ${p.metricKey})
      ORDER BY period_type, period_start, labels, metric_key`,
    mapAggregate,
  ),
});
