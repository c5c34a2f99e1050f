/** What the soak writer and its readers agree on (see writer.ts for the invariants). */
export const CHAT = -1009000000101;
export const CHAT2 = -1009000000102;
export const BIG_BATCH = 100;
export const SMALL_USER_BASE = 1_000_000_000;
