// Fails when a relative import cycle exists in packages/ or services/, or when a package
// imports a service, or a service imports another service. Run by `pnpm test`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const IMPORT = /(?:import|export)\s[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === "node_modules" || name === "dist") return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((match) => (match[1] ?? match[2]) as string);
}

const files = ["packages", "services"].flatMap((top) => sourceFiles(join(root, top)));
const graph = new Map<string, string[]>();
const problems: string[] = [];
for (const file of files) {
  const area = relative(root, file).split("/").slice(0, 2).join("/");
  const edges: string[] = [];
  for (const spec of importsOf(file)) {
    if (spec.startsWith(".")) edges.push(resolve(dirname(file), spec));
    else if (area.startsWith("packages/") && spec.startsWith("@layover/") && spec.includes("service")) {
      problems.push(`${relative(root, file)} (a package) imports the service ${spec}`);
    }
    if (
      area.startsWith("services/") &&
      /^(\.\.\/)+services\//.test(relative(dirname(file), resolve(dirname(file), spec)))
    ) {
      problems.push(`${relative(root, file)} imports another service: ${spec}`);
    }
  }
  graph.set(file, edges);
}

const state = new Map<string, "visiting" | "done">();
function visit(file: string, stack: string[]): void {
  if (state.get(file) === "done") return;
  if (state.get(file) === "visiting") {
    const cycle = [...stack.slice(stack.indexOf(file)), file].map((f) => relative(root, f));
    problems.push(`import cycle: ${cycle.join(" -> ")}`);
    return;
  }
  state.set(file, "visiting");
  for (const next of graph.get(file) ?? []) visit(next, [...stack, file]);
  state.set(file, "done");
}
for (const file of graph.keys()) visit(file, []);

if (problems.length > 0) {
  console.error(`Dependency check failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`Dependency check: ${files.length} files, no import cycles, services and packages separated.`);
