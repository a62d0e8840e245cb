import { makeMessage, type JupyterMessage } from "@cellar/protocol";
import { describe, expect, it } from "vitest";
import { PIP_LIST_LINE, pipCell } from "./pip-magic";

const request = (code: string) =>
  makeMessage(
    "execute_request",
    { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
    { channel: "shell" },
  );
const codeOf = (m: JupyterMessage) => (m.content as { code: string }).code;

describe("pip lines in a cell", () => {
  it("reads %pip, !pip and python -m pip at the top of a cell, blanking their lines so the rest keeps its line numbers", () => {
    const cell = pipCell(request("# packages\n%pip install -q tqdm 'requests>=2,<3'\n!pip install -r reqs.txt\n\nimport tqdm"));
    expect(cell).toMatchObject({
      commands: [
        { op: "install", requirements: ["tqdm", "requests>=2,<3"], requirementFiles: [] },
        { op: "install", requirements: [], requirementFiles: ["reqs.txt"] },
      ],
    });
    expect(codeOf((cell as { message: JupyterMessage }).message)).toBe("# packages\n\n\n\nimport tqdm");
    expect(pipCell(request("!python3 -m pip uninstall -y tqdm"))).toMatchObject({ commands: [{ op: "uninstall", names: ["tqdm"] }] });
  });

  it("turns %pip list into the kernel's own listing, and leaves cells without pip alone", () => {
    const cell = pipCell(request("%pip list\nx = 1")) as { message: JupyterMessage };
    expect(codeOf(cell.message)).toBe(`${PIP_LIST_LINE}\nx = 1`);
    expect(pipCell(request("x = '%pip install tqdm'"))).toBeNull();
    expect(pipCell(request("import pip"))).toBeNull();
  });

  it("refuses pip below other code, options it cannot honour, and requirements that are URLs, saying which line", () => {
    expect(pipCell(request("x = 1\n%pip install tqdm"))).toEqual({
      error: "Line 2: put %pip at the top of a cell: the kernel moves onto the new packages before the rest of the cell runs.",
    });
    expect(pipCell(request("%pip install --index-url http://x tqdm"))).toMatchObject({
      error: expect.stringContaining("--index-url is not supported"),
    });
    expect(pipCell(request("%pip install git+https://example.com/x.git"))).toMatchObject({
      error: expect.stringMatching(/^Line 1: %pip install git\+https:\/\/example.com\/x.git: not a requirement like/),
    });
    expect(pipCell(request("%pip download tqdm"))).toMatchObject({
      error: "Line 1: %pip download: only install, uninstall and list work in Cellar.",
    });
    expect(pipCell(request("%pip install"))).toMatchObject({ error: expect.stringContaining("needs a package") });
  });
});
