/**
 * Every public data method of DatabaseWrapper as data: how it routes and the kind of each
 * argument (nested object fields included), with one valid value per argument. Tests
 * generate their cases from it: bad input per kind, write attempts at readonly sources.
 */
import type { DatabaseWrapper } from "../src/index.ts";

/** What an argument accepts; `chat` is a chat id that routes the call. */
export type Kind =
  | "chat"
  | "id"
  | "optId"
  | "msgId"
  | "optMsgId"
  | "text"
  | "optText"
  | "num"
  | "bool"
  | "date"
  | "optDate"
  | "limit"
  | "cacheType"
  | "texts"
  | "vector"
  /** JSON text, or a list of objects serialized as JSON */
  | "jsonList"
  /** a string stored inside a JSON document (escaped there, so not byte for byte) */
  | "textInJson"
  /** a metric value: any number, non-finite ones included */
  | "metric"
  | "dataSource";

export type Arg =
  | { kind: Kind; name: string; valid: unknown; optional?: boolean }
  | { kind: "object"; name: string; fields: Arg[]; optional?: boolean };

export interface MethodSpec {
  name: keyof DatabaseWrapper & string;
  /** C: by chat, D: default source, A: all sources; w = write */
  route: "C" | "Cw" | "D" | "Dw" | "A";
  args: Arg[];
}

const D0 = new Date("2025-01-02T03:04:05.000Z");
const a = (kind: Kind, name: string, valid: unknown, optional = false): Arg => ({
  kind,
  name,
  valid,
  optional,
});
const o = (name: string, fields: Arg[], optional = false): Arg => ({
  kind: "object",
  name,
  fields,
  optional,
});
const chat = a("chat", "chatId", 0);
const user = a("id", "userId", 1);
const read = (...extra: Arg[]) =>
  o("opts", [a("dataSource", "dataSource", "primary", true), ...extra], true);
const agg = (...extra: Arg[]) =>
  o(
    "opts",
    [a("dataSource", "dataSource", "primary", true), a("bool", "strict", false, true), ...extra],
    true,
  );
const spam = o("s", [
  { ...chat },
  user,
  a("msgId", "messageId", 1),
  a("text", "text", "t"),
  a("text", "reason", "r"),
  a("num", "score", 0.5),
]);
const summaryKey = [
  { ...chat },
  a("optId", "topicId", null, true), // undefined is taken as null (no topic)
  a("msgId", "firstMessageId", 1),
  a("msgId", "lastMessageId", 2),
  a("text", "prompt", "p"),
];

export const METHODS: MethodSpec[] = [
  { name: "setSetting", route: "Dw", args: [a("text", "key", "k"), a("text", "value", "v")] },
  {
    name: "getSetting",
    route: "D",
    args: [a("text", "key", "k"), read(a("optText", "default", "d", true))],
  },
  { name: "getSettings", route: "D", args: [read()] },
  {
    name: "saveChatMessage",
    route: "Cw",
    args: [
      o("m", [
        a("date", "date", D0),
        chat,
        user,
        a("msgId", "messageId", 1),
        a("optText", "messageText", "hello", true),
        a("optMsgId", "replyId", 1, true),
        a("optId", "threadId", 1, true),
        a("optText", "messageType", "text", true),
        a("optText", "messageCategory", "user", true),
        a("optMsgId", "rootMessageId", 1, true),
        a("optText", "quoteText", "q", true),
        a("optText", "mediaId", "m", true),
      ]),
    ],
  },
  {
    name: "getChatMessageByMessageId",
    route: "C",
    args: [chat, a("msgId", "messageId", 1), read()],
  },
  {
    name: "getChatMessagesByUser",
    route: "C",
    args: [chat, user, read(a("limit", "limit", 10, true))],
  },
  {
    name: "getChatMessagesSince",
    route: "C",
    args: [
      chat,
      read(
        a("optDate", "since", D0, true),
        a("optDate", "till", D0, true),
        a("optId", "threadId", 1, true),
        a("limit", "limit", 10, true),
        a("texts", "categories", ["user"], true),
      ),
    ],
  },
  {
    name: "getChatMessagesByRootId",
    route: "C",
    args: [chat, a("msgId", "rootMessageId", 1), read(a("optId", "threadId", 1, true))],
  },
  {
    name: "updateChatMessageCategory",
    route: "Cw",
    args: [chat, a("msgId", "messageId", 1), a("text", "category", "c")],
  },
  {
    name: "getFirstChatMessageByMediaGroupId",
    route: "C",
    args: [chat, a("text", "mediaGroupId", "g"), read(a("optId", "threadId", 1, true))],
  },
  {
    name: "getMediaAttachmentsByGroupId",
    route: "D",
    args: [a("text", "mediaGroupId", "g"), read()],
  },
  {
    name: "ensureMediaInGroup",
    route: "Dw",
    args: [a("text", "mediaGroupId", "g"), a("text", "mediaId", "f")],
  },
  {
    name: "getMediaGroupLastUpdatedAt",
    route: "D",
    args: [a("text", "mediaGroupId", "g"), read()],
  },
  {
    name: "updateChatMessageMetadata",
    route: "Cw",
    args: [chat, a("msgId", "messageId", 1), a("text", "metadata", "{}")],
  },
  { name: "getMessageThread", route: "C", args: [chat, a("msgId", "messageId", 1), read()] },
  {
    name: "searchChatMessages",
    route: "C",
    args: [
      chat,
      a("vector", "queryEmbedding", [1, 0]),
      read(
        a("id", "userFilter", 1, true),
        a("texts", "categoryFilter", ["user"], true),
        a("num", "maxAgeDays", 7, true),
        a("optMsgId", "rootMessageId", 1, true),
        a("optText", "modelName", "m", true),
        a("limit", "topK", 100, true),
        a("limit", "maxMessages", 1000, true),
      ),
    ],
  },
  {
    name: "updateChatUser",
    route: "Cw",
    args: [chat, user, a("text", "username", "@u"), a("text", "fullName", "U")],
  },
  { name: "getChatUser", route: "C", args: [chat, user, read()] },
  { name: "getChatUserByUsername", route: "C", args: [chat, a("text", "username", "@u"), read()] },
  {
    name: "getChatUsers",
    route: "C",
    args: [
      chat,
      read(
        a("limit", "limit", 10, true),
        a("optDate", "seenSince", D0, true),
        a("num", "lastActiveDays", 7, true),
        a("limit", "minMessages", 1, true),
      ),
    ],
  },
  { name: "markUserIsSpammer", route: "Cw", args: [chat, user, a("bool", "isSpammer", true)] },
  { name: "updateUserMetadata", route: "Cw", args: [chat, user, a("text", "metadata", "{}")] },
  { name: "getUserChats", route: "A", args: [user, agg()] },
  { name: "getAllGroupChats", route: "A", args: [agg()] },
  {
    name: "addUserData",
    route: "Cw",
    args: [user, chat, a("text", "key", "k"), a("text", "data", "d")],
  },
  { name: "getUserData", route: "C", args: [user, chat, read()] },
  { name: "deleteUserData", route: "Cw", args: [user, chat, a("text", "key", "k")] },
  { name: "clearUserData", route: "Cw", args: [user, chat] },
  {
    name: "setChatSetting",
    route: "Cw",
    args: [chat, a("text", "key", "k"), a("text", "value", "v")],
  },
  { name: "unsetChatSetting", route: "Cw", args: [chat, a("text", "key", "k")] },
  { name: "clearChatSettings", route: "Cw", args: [chat] },
  { name: "getChatSetting", route: "C", args: [chat, a("text", "key", "k"), read()] },
  { name: "getChatSettings", route: "C", args: [chat, read()] },
  {
    name: "updateChatInfo",
    route: "Cw",
    args: [
      chat,
      o("info", [
        a("text", "type", "group"),
        a("optText", "title", "t", true),
        a("optText", "username", "u", true),
        a("bool", "isForum", false, true),
      ]),
    ],
  },
  { name: "getChatInfo", route: "C", args: [chat, read()] },
  {
    name: "updateChatTopicInfo",
    route: "Cw",
    args: [
      chat,
      a("id", "topicId", 5),
      o(
        "topic",
        [
          a("optId", "iconColor", 1, true),
          a("optText", "customEmojiId", "e", true),
          a("optText", "name", "n", true),
        ],
        true,
      ),
    ],
  },
  { name: "getChatTopics", route: "C", args: [chat, read()] },
  {
    name: "addChatSummarization",
    route: "Cw",
    args: [o("s", [...summaryKey, a("text", "summary", "sum")])],
  },
  { name: "getChatSummarization", route: "C", args: [o("s", summaryKey), read()] },
  {
    name: "addMediaAttachment",
    route: "Dw",
    args: [
      o("m", [
        a("text", "fileUniqueId", "f"),
        a("text", "fileId", "fid"),
        a("optId", "fileSize", 10, true),
        a("optText", "mediaType", "image", true),
        a("optText", "mimeType", "image/png", true),
        a("optText", "metadata", "{}", true),
        a("optText", "status", "new", true),
        a("optText", "localUrl", "/x", true),
        a("optText", "prompt", "p", true),
        a("optText", "description", "d", true),
      ]),
    ],
  },
  {
    name: "updateMediaAttachment",
    route: "Dw",
    args: [
      a("text", "fileUniqueId", "f"),
      o("fields", [
        a("id", "fileSize", 10, true),
        a("text", "status", "done", true),
        a("text", "metadata", "{}", true),
        a("text", "mimeType", "image/png", true),
        a("text", "localUrl", "/x", true),
        a("text", "description", "d", true),
        a("text", "prompt", "p", true),
      ]),
    ],
  },
  { name: "getMediaAttachment", route: "D", args: [a("text", "fileUniqueId", "f"), read()] },
  {
    name: "addDelayedTask",
    route: "Dw",
    args: [
      a("text", "taskId", "t"),
      a("text", "function", "fn"),
      a("text", "kwargs", "{}"),
      a("num", "delayedTs", 1000),
    ],
  },
  {
    name: "updateDelayedTask",
    route: "Dw",
    args: [a("text", "taskId", "t"), a("bool", "isDone", true)],
  },
  { name: "getPendingDelayedTasks", route: "D", args: [read()] },
  { name: "addSpamMessage", route: "Cw", args: [spam] },
  { name: "addHamMessage", route: "Cw", args: [spam] },
  { name: "getSpamMessagesByText", route: "D", args: [a("text", "text", "t"), read()] },
  { name: "getSpamMessages", route: "A", args: [agg(a("limit", "limit", 10, true))] },
  { name: "deleteSpamMessagesByUserId", route: "Cw", args: [chat, user] },
  { name: "getSpamMessagesByUserId", route: "C", args: [chat, user, read()] },
  { name: "getCacheStorage", route: "A", args: [agg()] },
  {
    name: "getCacheStorageEntry",
    route: "D",
    args: [a("text", "namespace", "ns"), a("text", "key", "k"), read()],
  },
  { name: "getCacheStorageKeys", route: "D", args: [a("text", "namespace", "ns"), read()] },
  {
    name: "setCacheStorage",
    route: "Dw",
    args: [a("text", "namespace", "ns"), a("text", "key", "k"), a("text", "value", "v")],
  },
  {
    name: "unsetCacheStorage",
    route: "Dw",
    args: [a("text", "namespace", "ns"), a("text", "key", "k")],
  },
  {
    name: "getCacheEntry",
    route: "A",
    args: [
      a("text", "key", "k"),
      a("cacheType", "cacheType", "weather"),
      agg(a("num", "ttl", 60, true)),
    ],
  },
  {
    name: "setCacheEntry",
    route: "Dw",
    args: [a("text", "key", "k"), a("text", "data", "d"), a("cacheType", "cacheType", "weather")],
  },
  { name: "clearCache", route: "Dw", args: [a("cacheType", "cacheType", "weather")] },
  // gromozeka's later methods (test/gromozeka-methods2.suite.ts)
  { name: "cleanupOldCompletedDelayedTasks", route: "Dw", args: [a("num", "ttl", 60, true)] },
  {
    name: "clearOldCacheEntries",
    route: "Dw",
    args: [a("num", "ttl", 60, true), a("cacheType", "cacheType", "weather", true)],
  },
  { name: "getUserIdByUserName", route: "A", args: [a("text", "username", "@u"), agg()] },
  { name: "listChatsBySetting", route: "A", args: [a("text", "key", "k"), agg()] },
  { name: "getHamMessagesByText", route: "D", args: [a("text", "text", "t"), read()] },
  {
    name: "insertDivinationReading",
    route: "Cw",
    args: [
      o("reading", [
        { ...chat },
        a("msgId", "messageId", 1),
        user,
        a("text", "systemId", "tarot"),
        a("text", "deckId", "rws"),
        a("text", "layoutId", "three_card"),
        a("text", "question", "q"),
        a("jsonList", "drawsJson", [{ symbolId: "fool" }]),
        a("text", "interpretation", "i"),
        a("optText", "imagePrompt", "p", true),
        a("text", "invokedVia", "command"),
      ]),
    ],
  },
  { name: "getDivinationReading", route: "C", args: [chat, a("msgId", "messageId", 1), read()] },
  {
    name: "getDivinationLayout",
    route: "D",
    args: [a("text", "systemId", "tarot"), a("text", "layoutName", "three"), read()],
  },
  {
    name: "saveDivinationLayout",
    route: "Dw",
    args: [
      o("layout", [
        a("text", "systemId", "tarot"),
        a("text", "layoutId", "three_card"),
        a("text", "nameEn", "Three"),
        a("text", "nameRu", "Три"),
        a("id", "nSymbols", 3),
        a("texts", "positions", ["a"]),
        a("optText", "description", "d", true),
      ]),
    ],
  },
  {
    name: "saveDivinationNegativeCache",
    route: "Dw",
    args: [a("text", "systemId", "tarot"), a("text", "layoutId", "nope")],
  },
  {
    name: "recordStatEvent",
    route: "Dw",
    args: [
      a("text", "eventType", "llm_request"),
      o("metrics", [a("metric", "tokens", 1)]),
      // (labels, an object of strings, is checked in test/gromozeka-methods2.suite.ts)
      o(
        "opts",
        [a("textInJson", "consumerId", "chat_1", true), a("date", "eventTime", D0, true)],
        true,
      ),
    ],
  },
  {
    name: "aggregateStatEvents",
    route: "Dw",
    args: [
      a("text", "eventType", "llm_request"),
      o("opts", [a("limit", "limit", 10, true), a("num", "orphanTimeoutSeconds", 60, true)], true),
    ],
  },
  {
    name: "getStatAggregates",
    route: "D",
    args: [
      a("text", "eventType", "llm_request"),
      read(a("text", "periodType", "total", true), a("text", "metricKey", "tokens", true)),
    ],
  },
];

/** The valid value of an argument, with every chat id set to `chatId`. */
export function validValue(arg: Arg, chatId: number): unknown {
  if (arg.kind === "object")
    return Object.fromEntries(arg.fields.map((f) => [f.name, validValue(f, chatId)]));
  return arg.kind === "chat" ? chatId : arg.valid;
}

/** Calls `spec` on `db` with valid arguments, `chatId` for every chat id. */
export function callValid(db: DatabaseWrapper, spec: MethodSpec, chatId: number): Promise<unknown> {
  const args = spec.args.map((arg) => validValue(arg, chatId));
  return (db[spec.name] as (...xs: unknown[]) => Promise<unknown>)(...args);
}
