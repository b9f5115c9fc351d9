import t from 'tap';
import {
  escapeLike,
  foldText,
  normalizeEmail,
  normalizeName,
  normalizePhone,
  normalizeQuery,
  normalizeRegistrationId,
  searchForms,
  searchTextOf,
} from '../../src/modules/customers/normalize.js';

t.test('names: case, diacritics, punctuation and legal suffixes fold to one key', async (t) => {
  const same = ['ACME Ltd', 'Acme Limited', 'acme', '  Acme,  Ltd. ', 'ACME LTD.', 'Ácmé GmbH', 'Acme Inc.', 'Acme, LLC'];
  for (const n of same) t.equal(normalizeName(n), 'acme', n);
  t.equal(normalizeName('Müller & Söhne GmbH & Co. KG'), 'muller sohne', 'several trailing suffixes are all dropped');
  t.equal(normalizeName('Société Générale SA'), 'societe generale');
  t.equal(normalizeName('Ltd'), 'ltd', 'a name that is only a suffix keeps it');
  t.equal(normalizeName('Company'), 'company');
  t.equal(normalizeName('Limited Editions Ltd'), 'limited editions', 'a suffix word at the start stays');
  t.equal(normalizeName('Co-operative Bank plc'), 'co operative bank');
  t.equal(normalizeName('北京科技有限公司'), '北京科技有限公司', 'CJK without spaces is one word');
  t.equal(normalizeName('北京科技 有限公司'), '北京科技', 'a separated CJK legal suffix is dropped');
  t.equal(normalizeName('ｆｕｌｌｗｉｄｔｈ　Ｃｏｒｐ'), 'fullwidth', 'NFKD folds full-width letters');
  t.not(normalizeName('Acme Trading Ltd'), normalizeName('Acme Ltd'), 'a different name stays different');
});

t.test('foldText keeps letters, digits and the e-mail/phone characters', async (t) => {
  t.equal(foldText('  Zoë   O’Brien—Smith '), 'zoe o brien smith');
  t.equal(foldText('Ünïcödé 123'), 'unicode 123');
  t.equal(foldText('a@b.com +44'), 'a@b.com +44');
  t.equal(foldText(''), '');
});

t.test('phones: formats, + and 00 prefixes compare equal', async (t) => {
  const same = ['+44 20 7946 0958', '0044 20 7946 0958', '+44 (20) 7946-0958', '44.20.7946.0958', '0044-20-79460958', '+442079460958'];
  for (const p of same) t.equal(normalizePhone(p), '442079460958', p);
  t.equal(normalizePhone('(555) 123-4567'), '5551234567');
  t.equal(normalizePhone('+1 555 123 4567 ext'), '15551234567', 'letters are dropped');
  t.equal(normalizePhone('020 7946 0958'), '02079460958', 'a single leading 0 (trunk prefix) is kept');
  t.equal(normalizePhone(''), '');
});

t.test('emails: trimmed and lower-cased', async (t) => {
  t.equal(normalizeEmail('  John.Doe@Example.COM '), 'john.doe@example.com');
  t.equal(normalizeEmail('a+tag@x.io'), 'a+tag@x.io', 'plus addressing is kept');
});

t.test('registration ids: punctuation and spaces dropped, upper-cased', async (t) => {
  t.equal(normalizeRegistrationId('de 123.456-789'), 'DE123456789');
  t.equal(normalizeRegistrationId('GB/123 4567 89'), 'GB123456789');
  t.equal(normalizeRegistrationId('91310000-MA1FL'), '91310000MA1FL');
  t.equal(normalizeRegistrationId('  '), '');
});

t.test('normalizeQuery: phone-like, e-mail-like and text queries', async (t) => {
  t.equal(normalizeQuery('+44 20 7946'), '44207946', 'phone-like query becomes digits');
  t.equal(normalizeQuery('0044 (20) 7946'), '44207946', '00 prefix dropped like +');
  t.equal(normalizeQuery('555-1234'), '5551234');
  t.equal(normalizeQuery('12'), '12', 'two digits are not a phone: folded text');
  t.equal(normalizeQuery(' John@Example.com '), 'john@example.com');
  t.equal(normalizeQuery('  Ácme   GMBH '), 'acme gmbh', 'text is folded, suffixes kept (it is a search, not a key)');
  t.equal(normalizeQuery('Route 66'), 'route 66', 'text with digits stays text');
});

t.test('searchTextOf joins folded name, phones, emails and registration id', async (t) => {
  const s = searchTextOf({ name: 'Ácme Ltd', phones: ['+44 20 7946 0958'], emails: ['Sales@Acme.example'], registrationId: 'gb-123' });
  t.equal(s, 'acme ltd 442079460958 sales@acme.example gb123');
  t.equal(searchTextOf({ name: 'X', phones: [], emails: [], registrationId: null }), 'x');
  // A phone query finds the record whatever format was stored.
  t.ok(s.includes(normalizeQuery('0044 20 7946')));
  t.ok(s.includes(normalizeQuery('acme')));
});

t.test('searchForms: the query in every form search_text stores', async (t) => {
  t.same(searchForms('HRB 243988'), ['hrb 243988', 'hrb243988'], 'folded text, and compact like a registration id');
  t.same(searchForms('hrb-243.988'), ['hrb 243.988', 'hrb243988']);
  t.same(searchForms('HRB243988'), ['hrb243988'], 'one form when both agree');
  t.same(searchForms('nordhaf'), ['nordhaf']);
  t.same(searchForms('Ácme GmbH'), ['acme gmbh', 'ácmegmbh'], 'names fold accents; registration ids keep letters as stored');
  t.same(searchForms('+44 20 7946'), ['44207946'], 'phone-like: digits only, which also match registration digits');
  t.same(searchForms(' John@Example.com '), ['john@example.com'], 'e-mail-like: lower-cased');
  t.same(searchForms('-- //'), [], 'nothing to search for');
  t.same(searchForms('12'), ['12']);

  // Whatever the spacing and punctuation of the query, one of its forms is in what is stored.
  const stored = (registrationId: string) => searchTextOf({ name: 'Nordhafen Logistik GmbH', phones: ['+49 40 123 4567'], emails: ['Info@Nordhafen.example'], registrationId });
  const cases: [string, string][] = [
    ['HRB243988', 'HRB 243988'],
    ['HRB243988', 'hrb-243988'],
    ['HRB 243988', 'HRB243988'],
    ['HRB 243988', 'hrb.243.988'],
    ['FN 123456 a', 'FN123456A'],
    ['CHE-123.456.789', 'che 123 456 789'],
    ['CHE-123.456.789', '123.456'],
    ['GB-123', 'gb 123'],
  ];
  for (const [reg, q] of cases) {
    const text = stored(reg);
    t.ok(searchForms(q).some((f) => text.includes(f)), `${q} finds registration ${reg}`);
  }
  const text = stored('X1');
  for (const q of ['nordhafen logistik', 'NORDHAFEN  Logistik', '0049 40 1234567', '+49 (40) 123-4567', 'info@nordhafen.example', 'Nordhafen']) {
    t.ok(searchForms(q).some((f) => text.includes(f)), `${q} still finds name, phone or e-mail`);
  }
});

t.test('escapeLike escapes LIKE wildcards and the escape character', async (t) => {
  t.equal(escapeLike('100%_a\\b'), '100\\%\\_a\\\\b');
  t.equal(escapeLike('plain'), 'plain');
});
