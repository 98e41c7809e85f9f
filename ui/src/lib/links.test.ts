import { describe, expect, it } from "vitest";
import { linkDestination } from "./links";

describe("link destinations", () => {
  it("sends web and mail addresses out of the app, in full", () => {
    expect(linkDestination("https://pandas.pydata.org/docs?x=1#y")).toEqual({
      kind: "external",
      url: "https://pandas.pydata.org/docs?x=1#y",
    });
    expect(linkDestination("http://example.com")).toEqual({ kind: "external", url: "http://example.com/" });
    expect(linkDestination("mailto:help@skilltrack.dev")).toEqual({ kind: "external", url: "mailto:help@skilltrack.dev" });
  });

  it("shows the real host of a look-alike address", () => {
    // The confirm dialog shows what the browser will open, not what the author wrote.
    expect(linkDestination("https://skilltrack.dev@evil.example/")).toEqual({
      kind: "external",
      url: "https://skilltrack.dev@evil.example/",
    });
    expect(linkDestination("https://EXAMPLE.com/%7Ex")).toEqual({ kind: "external", url: "https://example.com/%7Ex" });
  });

  it("keeps anchors of the same page in the app", () => {
    expect(linkDestination("#next-steps")).toEqual({ kind: "in-page", fragment: "next-steps" });
    expect(linkDestination("#")).toBeNull();
  });

  it("follows nothing else", () => {
    for (const href of [
      "javascript:alert(1)",
      " JavaScript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "file:///etc/passwd",
      "tauri://localhost/",
      "ipc://localhost/sign_in",
      "vbscript:x",
      "other-lesson.md",
      "/api/v1/me",
      "//evil.example/",
      "",
      null,
      undefined,
    ]) {
      expect(linkDestination(href), String(href)).toBeNull();
    }
  });
});
