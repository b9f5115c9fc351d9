/**
 * The one place every statement sent to the database passes (pg clients of the pools, PGlite and
 * its transactions), for observers such as tracing (src/plugins/tracing.ts). An observer sees the
 * statement's text only (never its parameters) and is told when it ended. With no observer the
 * statement goes straight through.
 */
export type StatementEnd = (err?: unknown) => void;
export type StatementObserver = (text: string) => StatementEnd | undefined;

const observers = new Set<StatementObserver>();

/** Adds an observer; the function returned removes it. */
export function observeStatements(observer: StatementObserver): () => void {
  observers.add(observer);
  return () => void observers.delete(observer);
}

function started(text: string): StatementEnd | undefined {
  let ends: StatementEnd[] | undefined;
  for (const observer of observers) {
    try {
      const end = observer(text);
      if (end) (ends ??= []).push(end);
    } catch {
      // An observer never costs the statement.
    }
  }
  if (!ends) return undefined;
  const all = ends;
  return (err) => {
    for (const end of all) {
      try {
        end(err);
      } catch {
        // idem
      }
    }
  };
}

// pg accepts a text, a config object with `text`, or a Query (submittable) with `text`.
function statementText(first: unknown): string | undefined {
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && typeof (first as { text?: unknown }).text === 'string') return (first as { text: string }).text;
  return undefined;
}

/** `query` wrapped so that observers see each statement: promise, callback and submittable forms. */
export function observedQuery<F extends (...args: never[]) => unknown>(query: F): F {
  const run = query as unknown as (...args: unknown[]) => unknown;
  const observed = (...args: unknown[]) => {
    if (observers.size === 0) return run(...args);
    const text = statementText(args[0]);
    const end = text === undefined ? undefined : started(text);
    if (!end) return run(...args);
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (err: unknown, ...rest: unknown[]) => void;
      args[last] = (err: unknown, ...rest: unknown[]) => {
        end(err ?? undefined);
        callback(err, ...rest);
      };
      return run(...args);
    }
    let result: unknown;
    try {
      result = run(...args);
    } catch (err) {
      end(err);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          end();
          return value;
        },
        (err: unknown) => {
          end(err);
          throw err;
        },
      );
    }
    // A submittable (pg Query, cursor) reports its end through its events.
    if (result && typeof (result as { once?: unknown }).once === 'function') {
      const emitter = result as { once(event: string, fn: (arg?: unknown) => void): void };
      let done = false;
      const finish = (err?: unknown) => {
        if (done) return;
        done = true;
        end(err);
      };
      emitter.once('end', () => finish());
      emitter.once('error', (err) => finish(err));
    } else {
      end();
    }
    return result;
  };
  return observed as unknown as F;
}
