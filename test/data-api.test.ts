import { dataApiSuite, SUITE_CHATS } from "./data-api.suite.ts";
import { multiSourceToml } from "./helpers.ts";

dataApiSuite("SQLite primary", (_dir, { defaultSource }) =>
  multiSourceToml({ extra: `${SUITE_CHATS.external} = "external"` }).replace(
    'default_source = "primary"',
    `default_source = "${defaultSource}"`,
  ),
);
