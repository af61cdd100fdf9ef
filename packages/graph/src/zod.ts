// `@layover/graph/zod`, for code that imports from "@langchain/langgraph/zod": the registry a zod
// state's fields are registered in with their reducers and defaults, and withLangGraph.
export { registry, type SchemaMeta, withLangGraph } from "./state/zod-meta.ts";
