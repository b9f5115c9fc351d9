import t from 'tap';
import { z } from 'zod';
import {
  CONTROL_CHARACTERS_MESSAGE,
  DATE_RANGE_MESSAGE,
  isoDate,
  noQuery,
  safeString,
  text,
  timestamp,
  trimmed,
} from '../../src/lib/schemas.js';

// The shared input rules (README "Input rules"), without a database.

const messages = (r: { success: boolean; error?: z.ZodError }) => (r.error?.issues ?? []).map((i) => i.message);

t.test('control characters: one rule for every string builder', async (t) => {
  const builders: [string, z.ZodType][] = [
    ['safeString', safeString()],
    ['text', text(100)],
    ['trimmed', trimmed(100)],
    ['optional text', text(100).nullish()],
  ];
  const refused = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000B', '\u000C', '\u000E', '\u001B', '\u001F', '\u007F'];
  for (const [label, schema] of builders) {
    for (const ch of refused) {
      for (const v of [`a${ch}b`, `${ch}ab`, `ab${ch}`]) {
        const r = schema.safeParse(v);
        t.notOk(r.success, `${label} refuses U+${ch.charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify(v)}`);
        t.ok(messages(r).includes(CONTROL_CHARACTERS_MESSAGE));
      }
    }
    for (const v of ['tab\there', 'two\nlines', 'crlf\r\nend', 'Müller & Söhne — 東京 🚀', '\u0080 and \u00A0 are not C0']) {
      t.ok(schema.safeParse(v).success, `${label} accepts ${JSON.stringify(v)}`);
    }
  }
});

t.test('text and trimmed trim; trimmed needs a character; both keep their limits', async (t) => {
  t.equal(text(10).parse('  ab  '), 'ab');
  t.equal(text(10).parse('   '), '');
  t.equal(trimmed(10).parse('\n ab \t'), 'ab');
  t.notOk(trimmed(10).safeParse('   ').success);
  t.notOk(text(3).safeParse('abcd').success);
  t.ok(text(3).safeParse(' abc ').success, 'the limit applies to the trimmed text');
});

t.test('timestamps and days: storable range 1900..9999 (UTC)', async (t) => {
  for (const v of ['1900-01-01T00:00:00Z', '2026-03-01T12:00:00.123+01:00', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59+00:00']) t.ok(timestamp.safeParse(v).success, v);
  for (const v of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '1899-12-31T23:59:59.999Z', '1900-01-01T00:30:00+01:00', '9999-12-31T23:00:00-05:00']) {
    const r = timestamp.safeParse(v);
    t.notOk(r.success, v);
    t.same(messages(r), [DATE_RANGE_MESSAGE], `${v}: the range message`);
  }
  t.notOk(timestamp.safeParse('2026-03-01T12:00:00').success, 'an offset is required');
  for (const v of ['1900-01-01', '2024-02-29', '9999-12-31']) t.ok(isoDate.safeParse(v).success, v);
  for (const v of ['0000-01-01', '0000-02-29', '1899-12-31']) t.same(messages(isoDate.safeParse(v)), [DATE_RANGE_MESSAGE], v);
  for (const v of ['2025-02-29', '2025-13-01', '25-01-01', '2025-1-1']) t.notOk(isoDate.safeParse(v).success, v);
});

t.test('noQuery refuses any parameter', async (t) => {
  t.ok(noQuery.safeParse({}).success);
  const r = noQuery.safeParse({ dryRun: 'true' });
  t.notOk(r.success);
  t.same(r.error?.issues[0]?.code, 'unrecognized_keys');
});
