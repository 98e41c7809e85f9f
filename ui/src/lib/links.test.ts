import { describe, expect, it } from "vitest";
import { followLink, lessonOfLink, linkDestination, readPackagePath, type LinkSource } from "./links";

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
    expect(linkDestination("02-first-steps.md")).toEqual({ kind: "package", path: "02-first-steps.md", fragment: null });
    expect(linkDestination("../02-branches/01-make-one.md#try-it")).toEqual({
      kind: "package",
      path: "../02-branches/01-make-one.md",
      fragment: "try-it",
    });
    expect(linkDestination("./02-first-steps.md")?.kind).toBe("package");
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

describe("links from quizzes, labs and to other courses", () => {
  it("reads a package path whatever the depth of the text it is in", () => {
    // From a lesson, an assessment (`assessments/`) or a lab's step (`labs/<lab>/<step>/`).
    expect(readPackagePath("../02-branches/01-make-one.md")).toEqual({ kind: "lesson", module: "branches", lesson: "make-one" });
    expect(readPackagePath("../../../02-branches/01-make-one.md")).toEqual({ kind: "lesson", module: "branches", lesson: "make-one" });
    expect(readPackagePath("../../git-basics/")).toEqual({ kind: "course", course: "git-basics", module: null, lesson: null });
    expect(readPackagePath("../../git-basics/course.json")).toEqual({ kind: "course", course: "git-basics", module: null, lesson: null });
    expect(readPackagePath("../../git-basics/01-first-steps/02-commit.md")).toEqual({
      kind: "course", course: "git-basics", module: "first-steps", lesson: "commit",
    });
    for (const odd of ["../x.md", "a/b.md", "../../a/b/c/d.md", "../git-basics/01-x/02-y.md", "../../course.json", "./", "../", ""]) {
      expect(readPackagePath(odd), odd).toBeNull();
    }
  });

  it("keeps package and app links through the sanitizer's rules, and nothing like them", () => {
    expect(linkDestination("../../git-basics/")).toEqual({ kind: "package", path: "../../git-basics/", fragment: null });
    expect(linkDestination("skilltrack://course/0193c8e4-7d1a-7c3e-9f00-0123456789ab")).toEqual({
      kind: "app", target: "course", id: "0193c8e4-7d1a-7c3e-9f00-0123456789ab",
    });
    expect(linkDestination("SKILLTRACK://Lab/0193C8E4-7D1A-7C3E-9F00-0123456789AB/")?.kind).toBe("app");
    for (const href of [
      "skilltrack://course/not-a-uuid",
      "skilltrack://course/0193c8e4-7d1a-7c3e-9f00-0123456789ab?x=1",
      "skilltrack://sign-in/0193c8e4-7d1a-7c3e-9f00-0123456789ab",
      "../../git-basics/?x",
      "../../../../../etc/passwd.md",
      "../../.git/config.md",
      "..%2F..%2Fx.md",
    ]) {
      expect(linkDestination(href), href).toBeNull();
    }
  });

  const pages: Record<string, { modules: { slug: string | null; lessons: { id: string; slug: string | null }[] }[] }> = {
    C1: { modules: [{ slug: "basics", lessons: [{ id: "L1", slug: "welcome" }] }] },
    C2: { modules: [{ slug: "first-steps", lessons: [{ id: "L9", slug: "commit" }] }] },
    // Not enrolled: the cache has the course, not its lessons.
    C3: { modules: [{ slug: "intro", lessons: [] }] },
  };
  const source: LinkSource = {
    coursePage: (id) => (pages[id] ? Promise.resolve(pages[id]) : Promise.reject(new Error("none"))),
    courseBySlug: (slug) => Promise.resolve({ "git-basics": "C2", "pandas": "C3" }[slug] ?? null),
    lesson: (id) => (id === "0193c8e4-7d1a-7c3e-9f00-0123456789ab" ? Promise.resolve({ course_id: "C1" }) : Promise.reject(new Error("none"))),
  };

  it("finds a quiz's or a lab's lesson in its courses, and another course by its folder", async () => {
    const quiz = { courseIds: ["C1"], lessonId: null };
    const lab = { courseIds: ["C9", "C2", "C1"], lessonId: null };
    const pkg = (path: string) => ({ kind: "package" as const, path, fragment: null });
    expect(await followLink(pkg("../01-basics/01-welcome.md"), quiz, source)).toEqual({ kind: "lesson", courseId: "C1", lessonId: "L1" });
    expect(await followLink(pkg("../../../01-basics/01-welcome.md"), lab, source)).toEqual({ kind: "lesson", courseId: "C1", lessonId: "L1" });
    expect((await followLink(pkg("01-welcome.md"), quiz, source)).kind).toBe("refused");
    expect(await followLink(pkg("../../git-basics/01-first-steps/02-commit.md"), quiz, source)).toEqual({ kind: "lesson", courseId: "C2", lessonId: "L9" });
    expect(await followLink(pkg("../../pandas/01-intro/01-hello.md"), quiz, source)).toEqual({ kind: "course", courseId: "C3" });
    expect(await followLink(pkg("../../git-basics/"), quiz, source)).toEqual({ kind: "course", courseId: "C2" });
    expect((await followLink(pkg("../../nowhere/"), quiz, source)).kind).toBe("refused");
    const app = (target: "course" | "lesson" | "lab", id: string) => ({ kind: "app" as const, target, id });
    expect(await followLink(app("lesson", "0193c8e4-7d1a-7c3e-9f00-0123456789ab"), quiz, source)).toEqual({
      kind: "lesson", courseId: "C1", lessonId: "0193c8e4-7d1a-7c3e-9f00-0123456789ab",
    });
    expect(await followLink(app("lab", "X"), quiz, source)).toEqual({ kind: "lab", labId: "X" });
    expect((await followLink(app("lesson", "gone"), quiz, source)).kind).toBe("refused");
  });
});
