// Safe writes of a client's config file: a lock beside it (two installers never interleave), a
// re-read just before the rename (a client that wrote meanwhile makes us stop, not overwrite it),
// an atomic rename of a fsync'd temporary file with the original mode and owner, and a check of
// what landed. The install state (original value texts) lives beside the file too.

import {
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { FileState } from './config-edit.js';

export const BACKUP_SUFFIX = '.mcp-audit.bak';
export const STATE_SUFFIX = '.mcp-audit-state.json';
const LOCK_SUFFIX = '.mcp-audit.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` holding the lock of `file`; a lock left by a dead process is taken over. */
export async function withFileLock<T>(file: string, fn: () => T, timeoutMs = 10000): Promise<T> {
  const lock = file + LOCK_SUFFIX;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSafe(lock));
      if (Number.isSafeInteger(holder) && holder > 0 && !alive(holder)) {
        unlinkSafe(lock);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${file} is locked by process ${holder || '?'} (${lock})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return fn();
  } finally {
    unlinkSafe(lock);
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/**
 * Replaces `file` with `text` atomically, keeping its mode and owner, if it still holds `expected`.
 * Throws when it changed meanwhile or when what landed differs.
 */
export function replaceFile(file: string, expected: string, text: string): void {
  const info = statSync(file);
  const tmp = `${file}.mcp-audit-${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', info.mode & 0o7777);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    try {
      chownSync(tmp, info.uid, info.gid);
    } catch {
      // not root: the file is ours already
    }
    if (readFileSync(file, 'utf8') !== expected) {
      throw new Error(`${file} changed while it was being edited (is the client running?); nothing written`);
    }
    renameSync(tmp, file);
  } catch (err) {
    unlinkSafe(tmp);
    throw err;
  }
  syncDir(dirname(file));
  if (readFileSync(file, 'utf8') !== text) throw new Error(`${file}: what was written does not read back`);
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // directories cannot be fsync'd on every platform
  }
}

/** The first install's copy of the file, kept (never overwritten) until uninstall. */
export function backupOnce(file: string): string {
  const backup = file + BACKUP_SUFFIX;
  if (!existsSync(backup)) copyFileSync(file, backup);
  return backup;
}

export function readState(file: string): FileState {
  const text = readFileSafe(file + STATE_SUFFIX);
  if (!text) return {};
  try {
    return JSON.parse(text) as FileState;
  } catch {
    return {};
  }
}

export function writeState(file: string, state: FileState): void {
  const empty = Object.values(state).every((list) => Object.keys(list).length === 0);
  const path = file + STATE_SUFFIX;
  if (empty) unlinkSafe(path);
  else writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function removeBackup(file: string): void {
  unlinkSafe(file + BACKUP_SUFFIX);
}
