/**
 * A VARIANT value as it is stored: its encoded `metadata` (the key dictionary) and `value`
 * (PROTOCOL.md "Variant Data Type", apache/parquet-format VariantEncoding.md). Input that already
 * is a variant (Arrow data of a variant column, a value read back from a table) travels as one of
 * these, so it is checked and copied rather than taken for a JSON object with two binary fields.
 */
export class Variant {
  constructor(
    readonly metadata: Uint8Array,
    readonly value: Uint8Array,
  ) {}
}

/** Why a value cannot become a variant, with where in it (a JSON path such as `$.a[2]`). */
export class VariantInputError extends Error {
  constructor(
    readonly reason: string,
    readonly path: string,
  ) {
    super(path === '$' ? reason : `${reason} (at ${path})`);
    this.name = 'VariantInputError';
  }
}
