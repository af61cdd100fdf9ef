// A separate process that runs migrate() once and prints what it applied as JSON: the
// migration tests start ten of these at once against one fresh schema.
// Usage: node migrate-process.ts <database-url> <schema>
import pg from "pg";
import { migrate } from "../migrate.ts";

const [url, schema] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 1 });
try {
  const result = await migrate(pool, { schema: schema as string });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await pool.end();
}
