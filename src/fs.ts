/**
 * `backupper/fs`: a local directory as storage, and files as sources and restore targets.
 * Node-only (also Bun and Deno through their `node:` compatibility).
 */

export { fsAdapter, type FsAdapterOptions } from "./adapters/fs.js";
export { fileSource, fileTarget, type FileSourceOptions, type FileTargetOptions } from "./sources/file.js";
