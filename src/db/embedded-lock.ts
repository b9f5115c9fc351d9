import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// The embedded database is one process's: two processes writing one data directory would corrupt
// it, and PGlite itself does not check. A pid file in the directory says who holds it.
export const LOCK_FILE = 'keel.pid';

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

/** The live process other than this one that holds the directory, if any. */
export function dataDirHolder(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, LOCK_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
  } catch {
    return null;
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
 * Where the process holding the directory answers the command-line tools (token, seed:demo) that
 * cannot open the directory themselves: a socket inside the directory, so reaching it takes the same
 * file-system access as reading the database (src/plugins/local-control.ts). Unix sockets have a
 * path limit of about 100 bytes: a long absolute path is given relative to the working directory.
 */
export function controlSocketPath(dir: string): string {
  const absolute = resolve(dir, 'keel.sock');
  if (process.platform === 'win32') return `\\\\.\\pipe\\keel-${createHash('sha256').update(absolute).digest('hex').slice(0, 24)}`;
  if (absolute.length < 100) return absolute;
  return relative(process.cwd(), absolute) || join(dir, 'keel.sock');
}
