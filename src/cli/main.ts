#!/usr/bin/env node
/** The `backupper` bin. Commands arrive in the following commits; for now it reports its version. */
import { VERSION } from "../version.js";

process.stdout.write(`backupper ${VERSION}\n`);
