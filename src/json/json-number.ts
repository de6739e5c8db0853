/**
 * A JSON number kept as its source text. JSON.parse turns 9007199254740993 into ...992,
 * 0.1000000000000000055 into 0.1 and 1e-400 into 0; the coercion layer needs the text to land
 * longs and decimals exactly, or to refuse them, whatever the column type turns out to be.
 */
export class JsonNumber {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  toJSON(): unknown {
    return Number(this.text);
  }
}

/**
 * Whether a JSON number token may become a JavaScript number without losing what it says: the
 * double it parses to must print back as the same text (so a decimal column sees the digits the
 * user wrote), it must have no exponent (so "1e21" reaches a long column as an integer, not as a
 * double beyond 2^53), and an integer must be a safe integer. Everything else stays a JsonNumber.
 * The decision looks at what the digits say, never at how many characters the token has.
 */
export function isCanonicalNumber(token: string): boolean {
  const n = token.length;
  let i = token.charCodeAt(0) === 45 ? 1 : 0;
  // "-0" prints back as "0": keep the sign in the text.
  if (n === i + 1 && token.charCodeAt(i) === 48) return i === 0;
  let intDigits = 0;
  let point = -1;
  let sig = 0;
  let leadingFracZeros = 0;
  for (; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (point < 0) intDigits++;
      else if (sig === 0 && intDigits === 1 && token.charCodeAt(point - 1) === 48 && c === 48) leadingFracZeros++;
      if (c !== 48 || sig > 0) sig++;
    } else if (c === 46 && point < 0) point = i;
    else return false; // exponent (or not a JSON number at all)
  }
  if (point < 0) {
    // An integer: 15 digits always round-trip; 16 and 17 only as safe integers.
    if (intDigits <= 15) return true;
    const v = Number(token);
    return Number.isSafeInteger(v) && String(v) === token;
  }
  // A fraction: a trailing zero never prints back.
  if (token.charCodeAt(n - 1) === 48) return false;
  // Up to 15 significant digits, a decimal is the shortest text of its nearest double (DBL_DIG),
  // and JavaScript prints it without an exponent from 1e-6 up to 1e21.
  if (sig <= 15 && leadingFracZeros <= 5 && intDigits <= 21) return true;
  return String(Number(token)) === token;
}
