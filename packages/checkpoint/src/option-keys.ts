// Options objects checked for keys their callee does not take: a misspelt option (`shema`,
// `databaseURL`) is refused naming it, instead of being dropped for its default.

/** The keys of `options` that `allowed` does not hold; a key left undefined (spread from options built elsewhere) asks for nothing. */
export function unknownKeys(options: object, allowed: readonly string[]): string[] {
  return Object.entries(options)
    .filter(([key, value]) => value !== undefined && !allowed.includes(key))
    .map(([key]) => key);
}

/** What a refusal of unknown `keys` adds: the allowed key the first one misspelt by case, `_` or `-` means. */
export function meantHint(keys: readonly string[], allowed: readonly string[]): string | undefined {
  const plain = (text: string) => text.toLowerCase().replace(/[_-]/g, "");
  for (const key of keys) {
    const known = allowed.find((candidate) => plain(candidate) === plain(key));
    if (known !== undefined) return `${JSON.stringify(key)} is ${known} here`;
  }
  return undefined;
}

/**
 * Why `options` of `who` cannot be taken, naming the keys it does not take and, from `hints` (keys
 * of other APIs explained) or by spelling, the one meant; undefined when it can.
 */
export function unknownKeysProblem(
  who: string,
  options: object,
  allowed: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): string | undefined {
  const unknown = unknownKeys(options, allowed);
  if (unknown.length === 0) return undefined;
  const hint =
    unknown.map((key) => hints[key]).find((text) => text !== undefined) ?? meantHint(unknown, allowed);
  return `${who} takes no ${unknown.map((key) => JSON.stringify(key)).join(", ")}: it takes ${allowed.join(", ")}${hint === undefined ? "" : ` (${hint})`}.`;
}
