import { describe, expect, it } from "vitest";
import type { ModuleItem } from "../bindings/ModuleItem";
import { neighbours, resumeLesson } from "./syllabus";

const lesson = (id: string, completed = false) => ({
  id, title: id, content_type: "text", duration_minutes: null, completed, draft: false, slug: id,
});
const modules: ModuleItem[] = [
  { id: "m1", title: "One", lessons: [lesson("a", true), lesson("b")], draft: false, slug: null },
  { id: "m2", title: "Empty", lessons: [], draft: false, slug: null },
  { id: "m3", title: "Three", lessons: [lesson("c")], draft: false, slug: null },
];

describe("moving through a course", () => {
  it("crosses module boundaries, skipping empty modules", () => {
    expect(neighbours(modules, "b").previous?.id).toBe("a");
    expect(neighbours(modules, "b").next?.id).toBe("c");
    expect(neighbours(modules, "a").previous).toBeNull();
    expect(neighbours(modules, "c").next).toBeNull();
  });

  it("has no neighbours for a lesson not in the syllabus", () => {
    expect(neighbours(modules, "zzz")).toEqual({ previous: null, next: null });
  });

  it("resumes at the first lesson not completed", () => {
    expect(resumeLesson(modules)?.id).toBe("b");
    expect(resumeLesson([])).toBeNull();
  });
});
