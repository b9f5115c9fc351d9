import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The embedded database is one process's: two processes writing one data directory would corrupt
// it, and PGlite itself does not check. A pid file in the directory says who holds it.
const LOCK_FILE = 'keel.pid';

export class DataDirBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the embedded database in ${dir} is in use by process ${pid}; stop it first (or use DATABASE_URL)`);
    this.name = 'DataDirBusyError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory for this process; a lock left by a dead process is taken over. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirBusyError(dir, pid);
      unlinkSync(file);
    }
  }
  throw new DataDirBusyError(dir, -1);
}

/**
 * A throw-away copy of a directory another process holds, for a read that must not touch the
 * original (the token command while the server runs). Recent writes may not be in it yet.
 */
export function snapshotDataDir(dir: string): { dir: string; discard: () => void } {
  const copy = mkdtempSync(join(tmpdir(), 'keel-snapshot-'));
  cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith(LOCK_FILE) });
  return { dir: copy, discard: () => rmSync(copy, { recursive: true, force: true }) };
}
