import { afterEach, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MarkdownView } from "./MarkdownView";

afterEach(cleanup);

it("renders markdown sanitised and reports double-clicks", () => {
  const onDoubleClick = vi.fn();
  render(<MarkdownView source={"## Hello\n\n<script>alert(1)</script>- item"} onDoubleClick={onDoubleClick} />);
  const view = screen.getByTestId("markdown-rendered");
  expect(view.querySelector("h2")?.textContent).toBe("Hello");
  expect(view.querySelector("script")).toBeNull();
  fireEvent.doubleClick(view);
  expect(onDoubleClick).toHaveBeenCalledOnce();
});

it("shows a placeholder for an empty cell", () => {
  render(<MarkdownView source="  " />);
  expect(screen.getByTestId("markdown-rendered").textContent).toContain("Double-click");
});
