/**
 * A row's fields by name, as data: never what every object inherits. A column may be named
 * `__proto__`, `constructor` or `toString`; `row[name]` then reads Object.prototype's member when
 * the row lacks the key (a function, or `{}` for `__proto__`, which a builder would coerce or
 * refuse instead of taking a null), and `o.__proto__ = v` sets the object's prototype instead of
 * a field (the column vanishes from the row). The exact JSON parser already keeps `"__proto__"`
 * as data (exact-parse.ts), as JSON.parse does.
 */

/** Whether `name` is a member every object inherits, so `row[name]` is not enough to read it. */
export function inheritedName(name: string): boolean {
  return name in Object.prototype;
}

/** The row's own value for `name`, or undefined when the row does not have it. */
export function ownField(row: object, name: string): unknown {
  return Object.hasOwn(row, name) ? (row as Record<string, unknown>)[name] : undefined;
}

/** Sets field `name` of `o` as data, `__proto__` included. */
export function setField(o: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
  else o[name] = value;
}
