import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { createDatabase, type Database, extractTar, freshClusterTemplate, installedPgliteVersion, queryRows, TEMPLATE_MANIFEST, type TemplateManifest } from '../../src/db/client.js';

// The embedded database starts from a committed fresh cluster instead of running initdb (most of
// a first start's time). The template must be one the installed PGlite makes: when this fails
// after an upgrade, run `npm run db:template` and commit what it writes.

type Settings = { version: string; encoding: string; collate: string; ctype: string; databases: string };
async function settings(run: (q: string) => Promise<Record<string, unknown>[]>): Promise<Settings> {
  const [row] = await run(
    `SELECT current_setting('server_version') AS version, current_setting('server_encoding') AS encoding,
            d.datcollate AS collate, d.datctype AS ctype,
            (SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database) AS databases
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  return row as Settings;
}

async function systemId(database: Database): Promise<string> {
  const [row] = await queryRows<{ id: string }>(database.db, sql`SELECT system_identifier::text AS id FROM pg_control_system()`);
  return row?.id ?? '';
}

t.test('the template belongs to the installed PGlite and equals what its initdb makes', async (t) => {
  const manifest = JSON.parse(readFileSync(TEMPLATE_MANIFEST, 'utf8')) as TemplateManifest;
  const minor = (v: string) => v.split('.').slice(0, 2).join('.');
  t.equal(minor(manifest.pglite), minor(installedPgliteVersion()), 'made by this PGlite minor version (run npm run db:template otherwise)');
  const template = await freshClusterTemplate();
  t.ok(template, 'the template is found and unpacks');
  t.equal(template?.length, manifest.bytes);

  const made = new PGlite({ dataDir: 'memory://', extensions: { pg_trgm } });
  const restored = new PGlite({ dataDir: 'memory://', extensions: { pg_trgm }, loadDataDir: new Blob([new Uint8Array(template ?? Buffer.alloc(0))]) });
  t.teardown(async () => {
    await made.close();
    await restored.close();
  });
  const a = await settings(async (q) => (await made.query<Record<string, unknown>>(q)).rows);
  const b = await settings(async (q) => (await restored.query<Record<string, unknown>>(q)).rows);
  t.same(b, a, 'same version, encoding, locale and databases as a fresh initdb');
  t.equal(a.version, manifest.postgres);
});

t.test('a fresh directory, and a fresh in-memory database, start from the template', async (t) => {
  const dirs = [mkdtempSync(join(tmpdir(), 'keel-template-a-')), mkdtempSync(join(tmpdir(), 'keel-template-b-'))];
  t.teardown(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const ids: string[] = [];
  for (const dataDir of [...dirs, 'memory://']) {
    const database = await createDatabase({ dataDir });
    ids.push(await systemId(database));
    await queryRows(database.db, sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await database.close();
  }
  // initdb gives every cluster its own random identifier; clusters restored from one template share it.
  t.equal(new Set(ids).size, 1, 'all three are the template');
  // Reopened, a directory is its own database, not the template again.
  const again = await createDatabase({ dataDir: dirs[0] as string });
  const [ext] = await queryRows<{ n: number }>(again.db, sql`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_trgm'`);
  t.equal(ext?.n, 1, 'what was written before is still there');
  await again.close();
});

t.test('extracting refuses names that leave the data directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-template-evil-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const header = Buffer.alloc(512);
  header.write('../escaped', 0);
  header.write('0000644\0', 100);
  header.write('00000000004\0', 124);
  header.write('0', 156);
  const tar = Buffer.concat([header, Buffer.from('evil'), Buffer.alloc(508), Buffer.alloc(1024)]);
  t.throws(() => extractTar(tar, dir), /outside the data directory/);
});

t.test('a restore interrupted before PG_VERSION was written is done again on the next start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-template-half-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'base', '1'), { recursive: true });
  writeFileSync(join(dir, 'base', '1', '1259'), 'half-written');
  const database = await createDatabase({ dataDir: dir });
  const [row] = await queryRows<{ n: number }>(database.db, sql`SELECT count(*)::int AS n FROM pg_class`);
  t.ok((row?.n ?? 0) > 100, 'a whole cluster');
  await database.close();
});
