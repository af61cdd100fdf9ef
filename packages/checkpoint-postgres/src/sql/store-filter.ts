/**
 * store-filter — a search filter as SQL conditions on `value` (jsonb), with the meaning
 * InMemoryStore gives it (match.ts): each filter key names a top-level key of the value.
 *   { k: v } and $eq   JSON equality: jsonb `=` (objects regardless of key order, numbers by value)
 *   $ne                not equal, or the key is missing (IS DISTINCT FROM)
 *   $gt $gte $lt $lte  a number with a number (as numeric: exact for JSON numbers), a string with a
 *                      string by code point (COLLATE "C"); anything else does not match. CASE
 *                      decides the type first: Postgres may evaluate AND's sides in any order, and
 *                      casting a jsonb string to numeric fails
 *   $in / $nin         equal to one of the list's values / to none of them (or missing)
 * Every key and operand is a parameter. Served by no index: the namespace range bounds the rows.
 */
import { isOperatorClause } from "@layover/checkpoint";
import type { StatementParams } from "./store-params.ts";

const ORDER_OPERATORS: Record<string, string> = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" };

/** A comparison of the value's key (`field`, `text` its text) with a number or a string. */
function ordered(field: string, text: string, sign: string, operand: unknown, params: StatementParams) {
  if (typeof operand === "number") {
    const number = params.add(JSON.stringify(operand), "numeric");
    return `(CASE WHEN jsonb_typeof(${field}) = 'number' THEN (${field})::numeric ${sign} ${number} ELSE false END)`;
  }
  const string = params.add(operand, "text");
  return `(CASE WHEN jsonb_typeof(${field}) = 'string' THEN ${text} COLLATE "C" ${sign} ${string} ELSE false END)`;
}

function operatorSql(key: string, operator: string, operand: unknown, params: StatementParams): string {
  const field = `(value -> ${key})`;
  const json = () => params.add(JSON.stringify(operand), "jsonb");
  const sign = ORDER_OPERATORS[operator];
  if (sign !== undefined) return ordered(field, `(value ->> ${key})`, sign, operand, params);
  switch (operator) {
    case "$eq":
      return `${field} = ${json()}`;
    case "$ne":
      return `${field} IS DISTINCT FROM ${json()}`;
    case "$in":
      return `EXISTS (SELECT 1 FROM jsonb_array_elements(${json()}) AS c(v) WHERE c.v = ${field})`;
    case "$nin":
      return `NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${json()}) AS c(v) WHERE c.v = ${field})`;
    default:
      // checkOperations refuses any other operator before a statement is built.
      throw new Error(`Unknown search filter operator ${operator}.`);
  }
}

/** The conditions `filter` puts on an item's value (none for no filter). */
export function filterConditions(
  filter: Record<string, unknown> | undefined,
  params: StatementParams,
): string[] {
  const conditions: string[] = [];
  for (const [name, clause] of Object.entries(filter ?? {})) {
    const key = params.add(name, "text");
    if (!isOperatorClause(clause)) {
      conditions.push(operatorSql(key, "$eq", clause, params));
      continue;
    }
    for (const [operator, operand] of Object.entries(clause)) {
      conditions.push(operatorSql(key, operator, operand, params));
    }
  }
  return conditions;
}
