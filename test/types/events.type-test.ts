/**
 * Compile-time checks, run by `npx tsc --noEmit` (this file is not a bun test): event names
 * and payloads are typed, so a misspelt event or a wrong payload field is a compile error.
 * An `@ts-expect-error` that stops being an error fails the typecheck.
 */
import type { DatabaseWrapper, Sidecar } from "../../src/index.ts";

declare const db: DatabaseWrapper;
declare const sidecar: Sidecar;

db.on("reload", ({ generation, added }) => void [generation.toFixed(), added.length]);
db.on("reloadError", ({ error }) => void error.code);
db.once("sourceReopened", ({ source, reason }) => void [source, reason]);
db.off("sourceError", () => {});
sidecar.on("published", (e) => void e.bytes);

// @ts-expect-error a misspelt event name
db.on("reloaded", () => {});
// @ts-expect-error a misspelt event name, once
db.once("sourceReopen", () => {});
// @ts-expect-error a payload field that event does not have
db.on("reload", ({ error }) => void error);
// @ts-expect-error a sidecar event the wrapper does not emit
db.on("published", () => {});
// @ts-expect-error a misspelt sidecar event
sidecar.on("publish", () => {});
