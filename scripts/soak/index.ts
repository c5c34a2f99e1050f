/**
 * `npm run soak -- [--duration SECONDS] [--rate TX_PER_SEC] [--journal wal|delete|both]
 *   [--busy-timeout MS] [--dir FOLDER]`
 *
 * The live writer soak: for each journal mode, the writer alone, then the writer with chatdb
 * reading through the data API and aggregation. Prints one table and exits non-zero if chatdb
 * saw any error or torn read. `--duration` is per phase (default 30 s).
 */
import { parseArgs } from "node:util";
import { type PhaseResult, runPhase } from "./live.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    duration: { type: "string", default: "30" },
    rate: { type: "string", default: "2000" },
    journal: { type: "string", default: "both" },
    "busy-timeout": { type: "string", default: "5000" },
    dir: { type: "string" },
  },
});
const durationMs = Number(values.duration) * 1000;
const rate = Number(values.rate);
const busyTimeoutMs = Number(values["busy-timeout"]);
const journals = values.journal === "both" ? (["wal", "delete"] as const) : [values.journal];

const results: PhaseResult[] = [];
for (const journal of journals) {
  if (journal !== "wal" && journal !== "delete") throw new Error(`--journal: ${journal}?`);
  for (const withReader of [false, true]) {
    process.stderr.write(
      `soak: ${journal}, ${withReader ? "with" : "without"} chatdb, ${values.duration} s\n`,
    );
    results.push(
      await runPhase({
        journal,
        durationMs,
        withReader,
        rate,
        busyTimeoutMs,
        ...(values.dir ? { dir: values.dir } : {}),
      }),
    );
  }
}

const ms = (x: number) => x.toFixed(2);
console.log(
  "| journal | chatdb reading | writer tx/s | writer errors | commit p50 / p99 / max ms | chatdb reads | chatdb errors | torn reads | reads that missed a commit | newest-seen age p50 / p99 / max ms |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  const w = r.writer;
  const rd = r.reader;
  console.log(
    `| ${r.journal} | ${r.withReader ? "yes" : "no"} | ${w.txPerSec} | ${w.errors}${w.errors ? ` ${JSON.stringify(w.errorCodes)}` : ""} | ${ms(w.latencyMs.p50)} / ${ms(w.latencyMs.p99)} / ${ms(w.latencyMs.max)} | ${rd ? rd.reads : "—"} | ${rd ? rd.errors : "—"} | ${rd ? rd.torn : "—"} | ${rd ? `${rd.missedCommits} (staleness p99 ${ms(rd.stalenessMs.p99)} ms)` : "—"} | ${rd ? `${ms(rd.newestSeenAgeMs.p50)} / ${ms(rd.newestSeenAgeMs.p99)} / ${ms(rd.newestSeenAgeMs.max)}` : "—"} |`,
  );
}
for (const r of results.filter((r) => r.writer.errors > 0)) {
  const phase = `${r.journal}${r.withReader ? ", chatdb reading" : ""}`;
  console.log(`writer errors (${phase}), first ${r.writer.errorExamples.length}:`);
  for (const e of r.writer.errorExamples) console.log(`  ${e}`);
}
const bad = results.filter(
  (r) => r.reader && (r.reader.errors > 0 || r.reader.torn > 0 || !r.reader.sawLast),
);
for (const r of bad) console.error(`${r.journal}: ${JSON.stringify(r.reader)}`);
process.exit(bad.length > 0 ? 1 : 0);
