import { describe, expect, it } from "vitest";
import { RECORD_EVERY_MS, dueForRecord, resumeSeconds, shareOf } from "./video";

describe("video resume", () => {
  it("resumes at the recorded share of the video's length", () => {
    expect(resumeSeconds(40, 120, false)).toBeCloseTo(48);
    expect(resumeSeconds(0, 120, false)).toBe(0);
    // A finished video starts again from the beginning.
    expect(resumeSeconds(100, 120, false)).toBe(0);
    expect(resumeSeconds(40, 120, true)).toBe(0);
    // The length is not known yet.
    expect(resumeSeconds(40, NaN, false)).toBe(0);
  });

  it("records a share below 100: reaching the end is not completing", () => {
    expect(shareOf(30, 120)).toBe(25);
    expect(shareOf(120, 120)).toBe(99);
    expect(shareOf(5, 0)).toBe(0);
  });

  it("records every 10 s while playing and on pause, only when the share grew", () => {
    const last = { at: 1_000, share: 10 };
    expect(dueForRecord(last, 1_000 + RECORD_EVERY_MS - 1, 20, false)).toBe(false);
    expect(dueForRecord(last, 1_000 + RECORD_EVERY_MS, 20, false)).toBe(true);
    expect(dueForRecord(last, 1_500, 20, true)).toBe(true);
    expect(dueForRecord(last, 1_000 + RECORD_EVERY_MS * 5, 10, true)).toBe(false);
  });
});
