/**
 * The Unicode class names Go's regexp/syntax takes in `\p{…}` / `\pX`, as Go 1.25 and later read
 * them (regexp/syntax/parse.go unicodeTable, canonicalName): Traefik's releases are built with
 * that toolchain (`.go-version` 1.25 since PR #12329, v3.6.x of February 2026 on, v3.7, v3.8).
 * The name is canonicalised (first byte upper case, the rest lower case, `_`, `-` and spaces
 * dropped) and then looked up: Any, Assigned, ASCII and LC; unicode.Categories (the short general
 * categories, Cn and LC included); unicode.Scripts, whose keys keep their own spelling, so only
 * one-word scripts (`Greek`, `greek`, `GREEK`) are found and `\p{Old_Italic}` is an error, as in
 * Go; then unicode.CategoryAliases (Unicode's long names: `Letter`, `Uppercase_Letter`, `digit`),
 * canonicalised too. Go's tables are Unicode 15.0.0. Only at compile time, never per request.
 */

/** Go's canonicalName: ASCII bytes only change case; `_`, `-` and ' ' are dropped. */
export function goCanonicalName(name: string): string {
  let out = '';
  let first = true;
  for (let i = 0; i < name.length; i++) {
    let c = name[i]!;
    if (c === '_' || c === '-' || c === ' ') continue;
    if (first) {
      if (c >= 'a' && c <= 'z') c = c.toUpperCase();
      first = false;
    } else if (c >= 'A' && c <= 'Z') c = c.toLowerCase();
    out += c;
  }
  return out;
}

const CATEGORIES = new Set(
  'C Cc Cf Cn Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(
    ' ',
  ),
);

/** Go's unicode.Scripts keys (Unicode 15.0.0) that are their own canonical name: one word. */
const SCRIPTS = new Set(
  (
    'Adlam Ahom Arabic Armenian Avestan Balinese Bamum Batak Bengali Bhaiksuki Bopomofo Brahmi Braille ' +
    'Buginese Buhid Carian Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cyrillic ' +
    'Deseret Devanagari Dogra Duployan Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek ' +
    'Gujarati Gurmukhi Han Hangul Hanunoo Hatran Hebrew Hiragana Inherited Javanese Kaithi Kannada ' +
    'Katakana Kawi Kharoshthi Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Lisu Lycian Lydian Mahajani ' +
    'Makasar Malayalam Mandaic Manichaean Marchen Medefaidrin Miao Modi Mongolian Mro Multani Myanmar ' +
    'Nabataean Nandinagari Newa Nko Nushu Ogham Oriya Osage Osmanya Palmyrene Phoenician Rejang Runic ' +
    'Samaritan Saurashtra Sharada Shavian Siddham Sinhala Sogdian Soyombo Sundanese Syriac Tagalog ' +
    'Tagbanwa Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai ' +
    'Vithkuqi Wancho Yezidi Yi'
  ).split(' '),
);

/** unicode.CategoryAliases (PropertyValueAliases.txt, gc), keyed by canonical name. */
const ALIASES: ReadonlyMap<string, string> = new Map(
  (
    'Other:C Control:Cc Cntrl:Cc Format:Cf Unassigned:Cn Privateuse:Co Surrogate:Cs Letter:L ' +
    'Casedletter:LC Lowercaseletter:Ll Modifierletter:Lm Otherletter:Lo Titlecaseletter:Lt ' +
    'Uppercaseletter:Lu Mark:M Combiningmark:M Spacingmark:Mc Enclosingmark:Me Nonspacingmark:Mn ' +
    'Number:N Decimalnumber:Nd Digit:Nd Letternumber:Nl Othernumber:No Punctuation:P Punct:P ' +
    'Connectorpunctuation:Pc Dashpunctuation:Pd Closepunctuation:Pe Finalpunctuation:Pf ' +
    'Initialpunctuation:Pi Otherpunctuation:Po Openpunctuation:Ps Symbol:S Currencysymbol:Sc ' +
    'Modifiersymbol:Sk Mathsymbol:Sm Othersymbol:So Separator:Z Lineseparator:Zl ' +
    'Paragraphseparator:Zp Spaceseparator:Zs'
  )
    .split(' ')
    .map((p) => p.split(':') as [string, string]),
);

/**
 * The JavaScript property (the inside of `\p{…}` with the `u` flag) for a Go class name (without
 * its `^`), or undefined where Go 1.25's unicodeTable finds no table (Go's "invalid character
 * class range" error).
 */
export function goUnicodeProperty(name: string): string | undefined {
  const n = goCanonicalName(name);
  switch (n) {
    case 'Any':
      return 'Any';
    case 'Assigned':
      return 'Assigned';
    case 'Ascii':
      return 'ASCII';
    case 'Lc':
      return 'LC';
  }
  if (CATEGORIES.has(n)) return n;
  if (SCRIPTS.has(n)) return `Script=${n}`;
  return ALIASES.get(n);
}
