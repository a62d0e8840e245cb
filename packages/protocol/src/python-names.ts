// What Python accepts as a variable name, for the parameters a run assigns in the cell it injects
// (papermill-style). ASCII only: a Unicode identifier is valid Python but NFKC-normalised by the
// parser, so two names that differ here could be one variable there.

/** The hard keywords of Python 3 (`keyword.kwlist`): `class = 1` is a syntax error. Soft keywords
 * (`match`, `case`, `type`, `_`) are names like any other. */
export const PYTHON_KEYWORDS: ReadonlySet<string> = new Set([
  "False",
  "None",
  "True",
  "and",
  "as",
  "assert",
  "async",
  "await",
  "break",
  "class",
  "continue",
  "def",
  "del",
  "elif",
  "else",
  "except",
  "finally",
  "for",
  "from",
  "global",
  "if",
  "import",
  "in",
  "is",
  "lambda",
  "nonlocal",
  "not",
  "or",
  "pass",
  "raise",
  "return",
  "try",
  "while",
  "with",
  "yield",
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `name` cannot be assigned to in Python, or null when it can. */
export function pythonNameProblem(name: string): string | null {
  if (!IDENTIFIER.test(name)) return "is not a Python identifier (letters, digits and _, not starting with a digit)";
  if (PYTHON_KEYWORDS.has(name)) return "is a Python keyword";
  return null;
}
