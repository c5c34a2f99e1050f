/** divinations (gromozeka 014) and divination_layouts (015): tarot and runes readings, cached layouts. */
import { fromDbTime, toNum } from "../_internal/values.ts";
import { named, one, type Row, sql, write } from "../sources/query.ts";
import type { DivinationLayout, DivinationReading } from "../types.ts";

/** `positions` is JSON text; gromozeka reads it back as a list (anything else as []). */
function parsePositions(v: unknown): unknown[] {
  if (typeof v !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

export function mapReading(r: Row, dataSource: string): DivinationReading {
  return {
    chatId: toNum(r.chat_id),
    messageId: String(r.message_id),
    userId: toNum(r.user_id),
    systemId: r.system_id as string,
    deckId: r.deck_id as string,
    layoutId: r.layout_id as string,
    question: r.question as string,
    drawsJson: r.draws_json as string,
    interpretation: r.interpretation as string,
    imagePrompt: r.image_prompt as string | null,
    invokedVia: r.invoked_via as string,
    createdAt: fromDbTime(r.created_at),
    dataSource,
  };
}

export function mapLayout(r: Row, dataSource: string): DivinationLayout {
  return {
    systemId: r.system_id as string,
    layoutId: r.layout_id as string,
    nameEn: r.name_en as string,
    nameRu: r.name_ru as string,
    nSymbols: toNum(r.n_symbols),
    positions: parsePositions(r.positions),
    description: r.description as string | null,
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    dataSource,
  };
}

const SELECT = `SELECT system_id, layout_id, name_en, name_ru, n_symbols, positions, description,
  created_at, updated_at FROM divination_layouts`;
type Search = { systemId: string; name: string };
/** gromozeka's getCaseInsensitiveComparison / getLikeComparison on the three name columns. */
const any = (op: "=" | "LIKE", p: Search) =>
  sql`(lower(layout_id) ${op} lower(${p.name}) OR lower(name_en) ${op} lower(${p.name})
    OR lower(name_ru) ${op} lower(${p.name}))`;

/** insertDivinationReading's row. */
export type ReadingParams = {
  chatId: number;
  messageId: string;
  userId: number;
  systemId: string;
  deckId: string;
  layoutId: string;
  question: string;
  drawsJson: string;
  interpretation: string;
  imagePrompt: string | null;
  invokedVia: string;
  now: string;
};

/** A layout row; saveNegative writes the empty one. */
export type LayoutParams = {
  systemId: string;
  layoutId: string;
  nameEn: string;
  nameRu: string;
  nSymbols: number;
  positions: string;
  description: string | null;
  now: string;
};

export const divinations = named("divinations", {
  /** Insert-only: a second reading for the same (chat, message) resolves false (gromozeka: False). */
  insertReading: write(
    (p: ReadingParams) => sql`INSERT INTO divinations (chat_id, message_id, user_id, system_id,
      deck_id, layout_id, question, draws_json, interpretation, image_prompt, invoked_via, created_at)
      VALUES (${p.chatId}, ${p.messageId}, ${p.userId}, ${p.systemId}, ${p.deckId}, ${p.layoutId},
      ${p.question}, ${p.drawsJson}, ${p.interpretation}, ${p.imagePrompt}, ${p.invokedVia}, ${p.now})
      ON CONFLICT DO NOTHING`,
  ),
  /** One reading by its primary key (chatdb's; gromozeka has no read of readings). */
  reading: one(
    (p: { chatId: number; messageId: string }) => sql`SELECT chat_id, message_id, user_id,
      system_id, deck_id, layout_id, question, draws_json, interpretation, image_prompt,
      invoked_via, created_at FROM divinations
      WHERE chat_id = ${p.chatId} AND message_id = ${p.messageId}`,
    mapReading,
  ),
  /** The first of the system's layouts named `name` (id, English or Russian name), any case. */
  layoutExact: one(
    (p: Search) =>
      sql`${SELECT} WHERE system_id = ${p.systemId} AND ${any("=", p)} ORDER BY layout_id LIMIT 1`,
    mapLayout,
  ),
  /** The same with `name` a LIKE pattern (`%text%`). */
  layoutLike: one(
    (p: Search) =>
      sql`${SELECT} WHERE system_id = ${p.systemId} AND ${any("LIKE", p)} ORDER BY layout_id LIMIT 1`,
    mapLayout,
  ),
  /** Upsert: everything but created_at replaced. */
  saveLayout: write(
    (p: LayoutParams) => sql`INSERT INTO divination_layouts (system_id, layout_id, name_en, name_ru,
      n_symbols, positions, description, created_at, updated_at) VALUES (${p.systemId}, ${p.layoutId},
      ${p.nameEn}, ${p.nameRu}, ${p.nSymbols}, ${p.positions}, ${p.description}, ${p.now}, ${p.now})
      ON CONFLICT (system_id, layout_id) DO UPDATE SET name_en = excluded.name_en,
      name_ru = excluded.name_ru, n_symbols = excluded.n_symbols, positions = excluded.positions,
      description = excluded.description, updated_at = excluded.updated_at`,
  ),
  /** The "no such layout" entry; an existing row (real or not) only gets a new updated_at. */
  saveNegative: write(
    (p: { systemId: string; layoutId: string; now: string }) =>
      sql`INSERT INTO divination_layouts (system_id, layout_id, name_en, name_ru, n_symbols,
      positions, description, created_at, updated_at) VALUES (${p.systemId}, ${p.layoutId}, '', '',
      0, '[]', '', ${p.now}, ${p.now})
      ON CONFLICT (system_id, layout_id) DO UPDATE SET updated_at = excluded.updated_at`,
  ),
});

/**
 * gromozeka's isNegativeCacheEntry: the layout is the "no such layout" entry saveDivinationNegativeCache
 * stores (empty names, no symbols, no positions).
 */
export function isNegativeDivinationLayout(layout: DivinationLayout | null): boolean {
  return (
    layout !== null &&
    layout.nameEn === "" &&
    layout.nameRu === "" &&
    layout.nSymbols === 0 &&
    layout.positions.length === 0
  );
}
