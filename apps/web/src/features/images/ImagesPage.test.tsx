// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, within } from "@testing-library/react";
import { renderWithQueries, stubGateway } from "../../test-support/render-with-gateway";

const { ImagesPage } = await import("./ImagesPage");

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const IMAGES = [
  {
    name: "networkx",
    description: "base plus networkx",
    imageId: "b".repeat(64),
    parent: "base",
    packages: ["python3-networkx"],
    layerBytes: 9 * 2 ** 20,
  },
  { name: "base", description: "Debian", imageId: "a".repeat(64), packages: ["python3"] },
];

describe("ImagesPage", () => {
  it("lists the images as a tree and shows a build log on demand, or says there is none", async () => {
    const requests = stubGateway({
      "GET /api/images": { status: 200, body: IMAGES },
      "GET /api/images/networkx/log": {
        status: 200,
        body: {
          name: "networkx",
          status: "built",
          startedAt: "2026-12-05T07:00:00Z",
          finishedAt: "2026-12-05T07:00:09Z",
          lines: ["gateway: image networkx = bbbb"],
          dropped: 0,
        },
      },
      "GET /api/images/base/log": { status: 404, body: { error: "No build of base is on record since the gateway started" } },
    });
    renderWithQueries(<ImagesPage />);
    const rows = await screen.findAllByTestId("image-row");
    expect(rows.map((r) => r.dataset.image)).toEqual(["base", "networkx"]);
    expect(within(rows[1]!).getByTestId("image-size").textContent).toBe("9.0 MiB");
    expect(within(rows[1]!).getByTestId("image-shares").textContent).toBe("reads base's files, adds its own");
    expect(requests.some((r) => r.path.endsWith("/log"))).toBe(false);

    fireEvent.click(within(rows[1]!).getByTestId("image-log-toggle"));
    expect((await screen.findByTestId("image-log-lines")).textContent).toBe("gateway: image networkx = bbbb");
    fireEvent.click(within(rows[0]!).getByTestId("image-log-toggle"));
    expect((await screen.findByTestId("image-log-none")).textContent).toMatch(/No build of this image/);
  });
});
