// `@layover/graph/prebuilt`, for code that imports from "@langchain/langgraph/prebuilt": the
// tools node and its router, LangGraph's (deprecated) ReAct agent factory, and the shapes of an
// agent inbox's interrupts. It needs `@langchain/core` (as LangGraph's prebuilt does); the main
// entry does not.
export { type AgentNameMode, withAgentName } from "./agent-name.ts";
export type {
  ActionRequest,
  HumanInterrupt,
  HumanInterruptConfig,
  HumanResponse,
} from "./human-interrupt.ts";
export {
  type AgentState,
  type CreateReactAgentParams,
  createReactAgent,
  createReactAgentAnnotation,
} from "./react-agent.ts";
export { type ToolLike, ToolNode, type ToolNodeOptions, toolsCondition } from "./tool-node.ts";
