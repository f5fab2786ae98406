/**
 * `backupper/sqlite`: consistent snapshots of a live SQLite database through the host's own
 * `better-sqlite3`, `bun:sqlite` or `node:sqlite` handle, and restores that check the file and
 * move stale `-wal`/`-shm`/`-journal` files aside. Node-only APIs (`node:fs`) live here, not in
 * the core.
 */
export { sqliteSource, type SqliteSourceOptions } from "./sources/sqlite.js";
