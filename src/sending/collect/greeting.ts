/**
 * @module sending/collect/greeting — the `receiving-mx-helo` of a failure detail reduced to the
 * name the receiving MX greeted with. Postfix (3.10–3.12 via libtlsrpt) puts its whole
 * multi-line EHLO reply in `h` (`250-mx1.example.org\r\n250-SIZE 33554432\r\n…250 HELP`):
 * receivers expect the host name (RFC 8460 §4.4 "the HELO/EHLO name of the receiving MX"), and
 * a change in the server's capability list must not split one failure row into two. Pure.
 */

// Anything but a plain name: a reply code, white space or a line break.
const NOT_PLAIN = /^\d{3}(?:[ -]|$)|[\s]/;

/**
 * The greeting name of an EHLO/HELO reply or name; undefined when nothing usable is left.
 * @example greetingName('250-mx1.example.org\r\n250-SIZE 33554432\r\n250 HELP') // 'mx1.example.org'
 * @example greetingName('mx1.example.org') // 'mx1.example.org'
 */
export function greetingName(raw: string): string | undefined {
  if (!NOT_PLAIN.test(raw)) return raw === '' ? undefined : raw;
  // The first line of the reply; its text after the code starts with the server's name
  // (RFC 5321 §4.1.1.1: "250-" Domain [ SP ehlo-greet ]).
  const first = raw.replace(/^\s+/, '').split(/\r\n|\r|\n/, 1)[0] ?? '';
  const name = first.replace(/^\d{3}(?:[ -]|$)/, '').trim().split(/\s+/, 1)[0] ?? '';
  return name === '' ? undefined : name;
}
