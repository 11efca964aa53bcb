// The awkward-types fixture: one table holding a value of every common PostgreSQL type
// at its edges (NaN, infinities, -0, escapes, unicode, json text, arrays with bounds),
// generated columns, and a table without a key holding duplicate rows.
export const TYPES_SCHEMA = `
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN public.positive AS integer CHECK (VALUE > 0);
CREATE TYPE public.pair AS (a integer, b text);
CREATE TABLE public.types (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  big_numeric numeric,
  scaled numeric(40, 10),
  float8_value double precision,
  float4_value real,
  big bigint,
  small smallint,
  ts timestamptz,
  ts_plain timestamp(3),
  day date,
  clock time,
  clock_tz timetz,
  span interval,
  bytes bytea,
  body text,
  label varchar(20),
  letter char(3),
  doc json,
  docb jsonb,
  int_array integer[],
  text_matrix text[][],
  uid uuid,
  address inet,
  network cidr,
  mac macaddr,
  feeling public.mood,
  count public.positive,
  pair public.pair,
  period int4range,
  during tstzrange,
  location point,
  price money,
  flags bit varying(16),
  nibble bit(4),
  page xml,
  truth boolean,
  doubled numeric GENERATED ALWAYS AS (big_numeric * 2) STORED,
  shout text GENERATED ALWAYS AS (upper(body)) STORED
);
CREATE TABLE public.no_key (a text, b integer);
`

export const TYPES_DATA = `
INSERT INTO public.types (big_numeric, scaled, float8_value, float4_value, big, small, ts, ts_plain, day, clock, clock_tz,
  span, bytes, body, label, letter, doc, docb, int_array, text_matrix, uid, address, network, mac, feeling, count, pair,
  period, during, location, price, flags, nibble, page, truth) VALUES
 ('123456789012345678901234567890.123456789012345', '-1234567890123456789012345678.0123456789', 'NaN', 'Infinity',
  9223372036854775807, 32767, '2024-03-25 12:34:56.123456+00', '2024-03-25 01:02:03.456', 'infinity',
  '23:59:59.999999', '12:00:00+05:30', '1 year 2 mons 3 days 04:05:06.789', '\\x00ff0000',
  E'tab\\there\\nnewline\\\\backslash "quote" \\r ünï ✓ 😀 \\u0001', 'varchar', 'ab',
  '{"b": 1,  "a": [1, 2], "a": null}', '{"z": null, "a": "\\u00e9", "n": 1.50}', '{1,NULL,3}',
  '{{a,NULL},{"c d","e\\"f"}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2001:db8::1/64', '10.0.0.0/8',
  '08:00:2b:01:02:03', 'happy', 5, '(1,"x, y")', '[1,10)', '[2024-01-01 00:00:00+00,infinity)', '(1.5,-2.25)',
  '12.34', B'1011', B'1010', '<a x="1">t &amp; u</a>', true),
 ('NaN', 0, '-0', '-Infinity', -9223372036854775808, -32768, '1999-12-31 23:59:59.999999-08', '-infinity', '-infinity',
  '00:00', '00:00:00-12', '-3 days -00:00:00.000001', '\\x', '', '', '', 'null', 'null', '[0:2]={1,2,3}', '{}',
  '00000000-0000-0000-0000-000000000000', '127.0.0.1', '::/0', 'ff:ff:ff:ff:ff:ff', 'sad', 1, '(,)', 'empty', '(,)',
  '(0,0)', '-0.01', B'', B'0000', '', false),
 (1e-320::float8::numeric, NULL, 1e-320, 1.17549e-38, 0, 0, '4713-01-01 00:00:00+00 BC', NULL, '0001-01-01 BC', NULL, NULL,
  NULL, NULL, E'\\\\N', NULL, NULL, '"\\u0000 escaped in json"', '[]', '{NULL}', '{{NULL}}', NULL, NULL, NULL, NULL, NULL,
  NULL, '(,"")', '(,5]', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (0.1 + 0.2, NULL, 0.1::float8 + 0.2::float8, 3.4028235e38, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.no_key VALUES ('same', 1), ('same', 1), (NULL, NULL), ('Z', 2), ('a', 2);
`
