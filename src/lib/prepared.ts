// Prepared statements kept per executor and per shape of SQL text. A statement's name is fixed by
// its shape, so a pooled connection that parsed it once (under any executor) reuses the parse and
// plan, and two different texts never share a name. Built lazily: the first request of a shape
// pays for drizzle's query building, the rest only bind their values.
export function preparedStatements<T>(prefix: string) {
  const names = new Map<string, string>();
  const byExecutor = new WeakMap<object, Map<string, T>>();
  return (executor: object, shape: string, build: (name: string) => T): T => {
    let statements = byExecutor.get(executor);
    if (!statements) {
      statements = new Map();
      byExecutor.set(executor, statements);
    }
    let statement = statements.get(shape);
    if (!statement) {
      let name = names.get(shape);
      if (!name) {
        name = `${prefix}_${names.size + 1}`;
        names.set(shape, name);
      }
      statement = build(name);
      statements.set(shape, statement);
    }
    return statement;
  };
}
