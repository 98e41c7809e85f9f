import { describe, expect, it, vi } from "vitest";
import { catalogShown } from "./startup";

describe("the launch report", () => {
  it("waits for cards, then reports once, after the cards are painted", async () => {
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal("requestAnimationFrame", (f: FrameRequestCallback) => frames.push(f));
    const report = vi.fn(() => Promise.resolve(null));

    catalogShown(0, report);
    expect(frames).toHaveLength(0);

    catalogShown(12, report);
    expect(report).not.toHaveBeenCalled();
    frames.shift()!(0);
    expect(report).not.toHaveBeenCalled();
    frames.shift()!(0);
    expect(report).toHaveBeenCalledWith(12);

    catalogShown(40, report);
    expect(frames).toHaveLength(0);
    expect(report).toHaveBeenCalledTimes(1);
    vi.unstubAllGlobals();
  });
});
