// LangChain's streamEvents filters (`streamEvents(input, config, { includeNames, includeTypes,
// includeTags, excludeNames, excludeTypes, excludeTags })`), as @langchain/core applies them to
// each run: with no include filter every run is in, else a run any include filter names; then
// any exclude filter takes it out. A run's type is its events' (`on_<type>_start`: chain,
// chat_model, llm, tool).
import { InvalidInputError } from "../errors.ts";

export interface StreamEventsFilters {
  includeNames?: string[];
  includeTypes?: string[];
  includeTags?: string[];
  excludeNames?: string[];
  excludeTypes?: string[];
  excludeTags?: string[];
}

const KEYS = ["includeNames", "includeTypes", "includeTags", "excludeNames", "excludeTypes", "excludeTags"];

/** The run an event is of, as the filters see it. */
export interface FilteredEvent {
  event: string;
  name: string;
  tags: readonly string[];
}

/** Refuses filters that are not LangChain's (nothing runs), and says which. */
export function checkedFilters(filters: unknown): StreamEventsFilters | undefined {
  if (filters === undefined || filters === null) return undefined;
  if (typeof filters !== "object" || Array.isArray(filters))
    throw new InvalidInputError(
      `streamEvents() takes its filters as an object ({ includeNames?, includeTypes?, includeTags?, excludeNames?, excludeTypes?, excludeTags? }); got ${JSON.stringify(filters)}.`,
    );
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    if (!KEYS.includes(key))
      throw new InvalidInputError(
        `streamEvents() does not take "${key}" (LangChain's other stream options are not built): its filters are ${KEYS.join(", ")}.`,
      );
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string"))
      throw new InvalidInputError(
        `streamEvents()'s ${key} is a list of strings; got ${JSON.stringify(value)}.`,
      );
  }
  return filters as StreamEventsFilters;
}

/** The run type of an event (`on_chat_model_start` → "chat_model"). */
function runType(event: string): string {
  return event.slice("on_".length, event.lastIndexOf("_"));
}

/** Whether `filters` let `event`'s run through. */
export function passes(filters: StreamEventsFilters, event: FilteredEvent): boolean {
  const { includeNames, includeTypes, includeTags, excludeNames, excludeTypes, excludeTags } = filters;
  const type = runType(event.event);
  let include = includeNames === undefined && includeTypes === undefined && includeTags === undefined;
  if (includeNames !== undefined) include ||= includeNames.includes(event.name);
  if (includeTypes !== undefined) include ||= includeTypes.includes(type);
  if (includeTags !== undefined) include ||= event.tags.some((tag) => includeTags.includes(tag));
  if (excludeNames !== undefined) include &&= !excludeNames.includes(event.name);
  if (excludeTypes !== undefined) include &&= !excludeTypes.includes(type);
  if (excludeTags !== undefined) include &&= event.tags.every((tag) => !excludeTags.includes(tag));
  return include;
}
