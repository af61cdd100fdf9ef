// The interrupt an agent inbox shows a person, and the answer it sends back, as LangGraph's
// prebuilt types them: `interrupt<HumanInterrupt, HumanResponse[]>([request])`.

/** What the person may do with the request. */
export interface HumanInterruptConfig {
  allow_ignore: boolean;
  allow_respond: boolean;
  allow_edit: boolean;
  allow_accept: boolean;
}

/** The action awaiting approval: a tool's name and its arguments. */
export interface ActionRequest {
  action: string;
  args: Record<string, any>;
}

export interface HumanInterrupt {
  action_request: ActionRequest;
  config: HumanInterruptConfig;
  description?: string;
}

/** The answer: accepted, ignored, a reply in words, or the action edited. */
export type HumanResponse = {
  type: "accept" | "ignore" | "response" | "edit";
  args: null | string | ActionRequest;
};
