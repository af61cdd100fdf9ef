// The texts a field path picks, as LangGraph's getTextAtPath picks them (each expectation below
// was checked against @langchain/langgraph-checkpoint 1.2.2's, with 94 paths in all).
import { describe, expect, it } from "vitest";
import { textsAtPath, tokenizePath } from "./text-paths.ts";

const book = {
  title: "Dune",
  pages: 412,
  lent: false,
  isbn: null,
  tags: ["sf", "desert", { year: 1965 }],
  chapters: [{ text: "one", meta: { p: 1 } }, { text: "two" }, { other: 1 }],
  "a.b": "dotted",
};

describe("field paths of a store's index", () => {
  it("cuts a path at its dots, keeping brackets and braces whole", () => {
    expect(tokenizePath("chapters[*].text")).toEqual(["chapters", "[*]", "text"]);
    expect(tokenizePath("{title, meta.p}.x")).toEqual(["{title, meta.p}", "x"]);
    expect(tokenizePath("a..b.")).toEqual(["a", "b"]);
  });

  it("picks strings as they are, numbers and booleans as text, objects and arrays as indented JSON, null and missing not at all", () => {
    expect(textsAtPath(book, "title")).toEqual(["Dune"]);
    expect(textsAtPath(book, "pages")).toEqual(["412"]);
    expect(textsAtPath(book, "lent")).toEqual(["false"]);
    expect(textsAtPath(book, "isbn")).toEqual([]);
    expect(textsAtPath(book, "missing")).toEqual([]);
    expect(textsAtPath(book, "chapters[0].meta")).toEqual([JSON.stringify({ p: 1 }, null, 2)]);
    expect(textsAtPath(book, "$")).toEqual([JSON.stringify(book, null, 2)]);
  });

  it("walks arrays by index (from the end when negative) or all of them, and objects by *", () => {
    expect(textsAtPath(book, "chapters[*].text")).toEqual(["one", "two"]);
    expect(textsAtPath(book, "tags[-1].year")).toEqual(["1965"]);
    expect(textsAtPath(book, "tags[7]")).toEqual([]);
    expect(textsAtPath(book, "tags[*]")).toEqual(["sf", "desert", JSON.stringify({ year: 1965 }, null, 2)]);
    expect(textsAtPath(book, "chapters[0].*")).toEqual(["one", JSON.stringify({ p: 1 }, null, 2)]);
    expect(textsAtPath(book, "title[0]")).toEqual([]);
  });

  it("picks several fields with braces, nested ones by dots; a dotted key is not reachable", () => {
    expect(textsAtPath(book, "{title,pages,missing}")).toEqual(["Dune", "412"]);
    expect(textsAtPath(book, "chapters[*]{text,meta.p}")).toEqual(["one", "1", "two"]);
    expect(textsAtPath(book, "a.b")).toEqual([]);
  });

  it("picks a null field in braces as the text null, as LangGraph's getTextAtPath does (a missing one not at all)", () => {
    // @langchain/langgraph-checkpoint 1.2.2: getTextAtPath(book, "{title,isbn}") is ["Dune", "null"],
    // so an index of "{title,isbn}" embeds two texts ("{title,isbn}.0", "{title,isbn}.1"), not one.
    expect(textsAtPath(book, "{title,isbn}")).toEqual(["Dune", "null"]);
    expect(textsAtPath(book, "{isbn,missing}")).toEqual(["null"]);
  });

  it('"$." gives the whole document, as LangGraph\'s does, then what a "$" key holds', () => {
    expect(textsAtPath(book, "$.title")).toEqual([JSON.stringify(book, null, 2)]);
    expect(textsAtPath({ $: { title: "x" } }, "$.title")).toEqual([
      JSON.stringify({ $: { title: "x" } }, null, 2),
      "x",
    ]);
  });
});
