/** The state every source reports in `db.health()`, kept the same way by each engine. */
import type { SourceConfig } from "../config/types.ts";
import type { UnindexedTable } from "../schema/indexes.ts";
import type { SourceHealth, SourceState } from "./source.ts";

export class SourceStatus {
  state: SourceState;
  /** Why it is not ok; "" when ok. */
  reason: string;
  lastChange = new Date();
  schemaVersion: number | null = null;
  /** Large tables a readonly source lacks chatdb's indexes on, and the calls that scan them. */
  scans: UnindexedTable[] = [];

  constructor(state: SourceState, reason: string) {
    this.state = state;
    this.reason = reason;
  }

  /** Moves to `state`, recording why and when. */
  set(state: SourceState, reason: string): void {
    this.state = state;
    this.reason = reason;
    this.lastChange = new Date();
  }

  /** Records that something changed (a commit seen) without a state change. */
  touch(): void {
    this.lastChange = new Date();
  }

  health(config: SourceConfig): SourceHealth {
    return {
      name: config.name,
      type: config.type,
      mode: config.mode,
      state: this.state,
      reason: this.reason,
      lastChange: this.lastChange,
      schemaVersion: this.schemaVersion,
      scans: this.scans,
    };
  }
}
