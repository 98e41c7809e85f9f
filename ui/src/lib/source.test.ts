import { afterEach, describe, expect, it, vi } from "vitest";
import { commands } from "./commands";
import { setLanguage } from "./i18n";
import { previewSource } from "./source";

afterEach(() => setLanguage("en"));

describe("the package preview's source", () => {
  // Every command a fake that says which one it was.
  const fake = Object.fromEntries(
    Object.keys(commands).map((name) => [name, vi.fn((...args: unknown[]) => Promise.resolve({ name, args }))]),
  ) as unknown as typeof commands;
  const source = previewSource(fake);

  it("reads the package, never the cache", async () => {
    await expect(source.coursePage("package:x")).resolves.toEqual({ name: "previewCoursePage", args: [] });
    await expect(source.lesson("01-a/01-b.md")).resolves.toEqual({ name: "previewLesson", args: ["01-a/01-b.md"] });
    await expect(source.catalog({ text: null, level: null, free_only: false, limit: null }))
      .resolves.toEqual({ name: "previewCatalog", args: [] });
    await expect(source.submitAttempt("t1")).resolves.toEqual({ name: "previewSubmitAttempt", args: ["t1"] });
    expect(fake.coursePage).not.toHaveBeenCalled();
    expect(fake.lesson).not.toHaveBeenCalled();
  });

  it("records nothing: the learner's own writes are refused in words", async () => {
    for (const write of [
      () => source.completeLesson("l"),
      () => source.setBookmark("c", true),
      () => source.enroll("c"),
      () => source.reviewCourse("c", 5, null),
      () => source.downloadLessonMedia("l"),
    ]) {
      await expect(write()).rejects.toMatchObject({ code: "preview" });
    }
    expect(fake.completeLesson).not.toHaveBeenCalled();
    expect(fake.enroll).not.toHaveBeenCalled();
  });

  it("says why in the app's language", async () => {
    await expect(source.enroll("c")).rejects.toEqual({ code: "preview", message: "Enrolling is not recorded in a preview." });
    setLanguage("fr");
    await expect(source.completeLesson("l")).rejects.toEqual({
      code: "preview",
      message: "La progression n’est pas enregistrée dans un aperçu.",
    });
  });
});
