const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Run, cron and interrupt ids are UUIDs: a string that is not one names none of them (and is
 * refused before Postgres, which would raise a syntax error for it).
 */
export function isUuid(id: unknown): id is string {
  return typeof id === "string" && UUID.test(id);
}
