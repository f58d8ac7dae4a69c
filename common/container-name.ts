// What a container name may be, on every path (REST, Docker API create and rename, the dashboard's
// form): names end up in paths, log lines and the dashboard, and nothing needs more than 128
// characters. Plain data and a pure check: the engine and the page use the same rule.

export const MAX_NAME_LENGTH = 128;
/** Docker's rule: a letter or digit, then letters, digits, `_`, `.` and `-` (a leading / is dropped) */
export const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Why a name would be refused, in the words the engine uses; null when it is fine. */
export function nameProblem(name: string): string | null {
  const bare = name.replace(/^\//, '');
  if (bare.length > MAX_NAME_LENGTH) return `Name: at most ${MAX_NAME_LENGTH} characters, this one has ${bare.length}`;
  if (!NAME_RE.test(name)) return `Name: ${bare.length > 40 ? `${bare.slice(0, 40)}…` : bare} is not allowed — a letter or digit first, then letters, digits, _ . or - (at least 2 characters)`;
  return null;
}
