import { describe, expect, it } from "vitest";
import { renderLatex, renderMarkdown } from "../outputs/sanitize";

describe("markdown cells", () => {
  it("typesets inline and display math with KaTeX", () => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown("Energy $E=mc^2$ and\n\n$$\\int_0^1 x\\,dx$$\n");
    expect(div.querySelectorAll(".katex").length).toBe(2);
    expect(div.querySelector(".katex-display")).not.toBeNull();
    // The raw TeX is not shown as text outside KaTeX's hidden MathML copy.
    const visible = Array.from(div.querySelectorAll(".katex-html"), (e) => e.textContent).join("");
    expect(visible).not.toContain("\\int");
    expect(visible).toContain("E");
  });

  it("typesets math glued to words, as Jupyter users write it", () => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown("the $n$-th term");
    expect(div.querySelector(".katex")).not.toBeNull();
  });

  it("highlights fenced code", () => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown("```python\ndef f(x):\n    return 1\n```");
    const code = div.querySelector("pre code")!;
    expect(code.className).toContain("language-python");
    expect(code.querySelector(".hljs-keyword")?.textContent).toBe("def");
  });

  it("keeps math and highlighting safe: scripts are removed", () => {
    const html = renderMarkdown("$x$ <img src=x onerror=alert(1)> <script>alert(2)</script>");
    expect(html).not.toMatch(/onerror|<script/);
  });
});

describe("text/latex", () => {
  it("typesets IPython's Math output in display style", () => {
    const div = document.createElement("div");
    div.innerHTML = renderLatex("$\\displaystyle \\frac{a}{b}$");
    expect(div.querySelector(".katex .mfrac")).not.toBeNull();
  });

  it("typesets a bare environment and text with inline math", () => {
    const env = document.createElement("div");
    env.innerHTML = renderLatex("\\begin{align} a &= b \\\\ c &= d \\end{align}");
    expect(env.querySelector(".katex-display")).not.toBeNull();
    const mixed = document.createElement("div");
    mixed.innerHTML = renderLatex("where $a$ and $b$ are sides");
    expect(mixed.querySelectorAll(".katex")).toHaveLength(2);
    expect(mixed.textContent).toContain("are sides");
  });

  it("shows a formula KaTeX cannot parse as an error, not nothing", () => {
    const div = document.createElement("div");
    div.innerHTML = renderLatex("$\\frac{a$");
    expect(div.textContent).toContain("frac");
  });
});
