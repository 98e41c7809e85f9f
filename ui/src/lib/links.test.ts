import { describe, expect, it } from "vitest";
import { lessonOfLink, linkDestination } from "./links";

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
      "../../outside.md",
      "a/b/c.md",
      "../x/../y.md",
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

describe("links between lessons", () => {
  const modules = [
    { slug: "getting-started", lessons: [{ id: "L1", slug: "welcome" }, { id: "L2", slug: "first-steps" }] },
    { slug: "branches", lessons: [{ id: "L3", slug: "make-one" }] },
    { slug: null, lessons: [{ id: "L4", slug: null }] },
  ];

  it("reads a relative link to a lesson file", () => {
    expect(linkDestination("02-first-steps.md")).toEqual({ kind: "lesson", path: "02-first-steps.md", fragment: null });
    expect(linkDestination("../02-branches/01-make-one.md#try-it")).toEqual({
      kind: "lesson",
      path: "../02-branches/01-make-one.md",
      fragment: "try-it",
    });
    expect(linkDestination("./02-first-steps.md")?.kind).toBe("lesson");
  });

  it("finds the lesson in the same module or another, as the package names them", () => {
    expect(lessonOfLink("02-first-steps.md", "L1", modules)).toBe("L2");
    expect(lessonOfLink("./02-first-steps.md", "L1", modules)).toBe("L2");
    expect(lessonOfLink("../02-branches/01-make-one.md", "L1", modules)).toBe("L3");
    expect(lessonOfLink("../01-getting-started/01-welcome.md", "L3", modules)).toBe("L1");
  });

  it("answers null for a lesson the course does not have", () => {
    expect(lessonOfLink("09-missing.md", "L1", modules)).toBeNull();
    expect(lessonOfLink("../09-nowhere/01-welcome.md", "L1", modules)).toBeNull();
    expect(lessonOfLink("01-welcome.md", "L4", modules)).toBeNull();
    expect(lessonOfLink("01-welcome.md", "unknown", modules)).toBeNull();
  });
});

describe("attachments", () => {
  it("opens documents on the server the lesson links to, nothing a desktop would run", () => {
    expect(linkDestination("/media/demo/cheat-sheet.pdf")).toEqual({ kind: "attachment", url: "/media/demo/cheat-sheet.pdf" });
    expect(linkDestination("/media/uploads/data.CSV")?.kind).toBe("attachment");
    for (const href of ["/media/demo/run.sh", "/media/x.desktop", "/media/../api/x.pdf", "/api/v1/me.json", "//evil.example/a.pdf"]) {
      expect(linkDestination(href), href).toBeNull();
    }
  });
});
