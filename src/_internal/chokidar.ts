/**
 * chokidar, loaded on first use: it is a third of chatdb's import time, and a bot whose
 * sources need no watching (one writable file, no hot reload) never pays for it.
 */
let loaded: typeof import("chokidar") | undefined;

/** The module once loaded, else undefined (then {@link loadChokidar}). */
export const chokidarLoaded = () => loaded;

export async function loadChokidar(): Promise<typeof import("chokidar")> {
  loaded ??= await import("chokidar");
  return loaded;
}
