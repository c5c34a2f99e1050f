import { afterAll } from "bun:test";
import { gromozekaMethods2Suite } from "./gromozeka-methods2.suite.ts";
import { multiSourceToml } from "./helpers.ts";
import { closePgAdmin, pgSchema, runPg } from "./pg.ts";

/** The data-API suite's config: primary, archive, external; `primary` declared by `primaryKeys`. */
const toml = (primaryKeys = 'path = "primary.db"') =>
  multiSourceToml({ extra: '-1001000000002 = "external"' }).replace(
    'path = "primary.db"',
    primaryKeys,
  );

gromozekaMethods2Suite("SQLite primary", () => toml());

afterAll(closePgAdmin);
gromozekaMethods2Suite(
  "PostgreSQL primary",
  async () => {
    const schema = await pgSchema();
    return {
      toml: toml(`type = "postgres"\nurl = "${schema.url}"`),
      [Symbol.asyncDispose]: () => schema[Symbol.asyncDispose](),
    };
  },
  { skip: !runPg },
);
