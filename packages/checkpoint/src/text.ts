/** Half of a surrogate pair, which UTF-8 cannot encode. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `text` with each half of a surrogate pair replaced by U+FFFD, as String.prototype.toWellFormed
 * does and as the Postgres driver sends it: the spelling a stored id comes back with.
 */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD");
}
