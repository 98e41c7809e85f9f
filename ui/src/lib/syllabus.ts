// Moving through a course's lessons in syllabus order.
import type { ModuleItem } from "../bindings/ModuleItem";
import type { LessonItem } from "../bindings/LessonItem";

export function lessonsInOrder(modules: ModuleItem[]): LessonItem[] {
  return modules.flatMap((m) => m.lessons);
}

/** The lessons before and after `lessonId`, across module boundaries. */
export function neighbours(
  modules: ModuleItem[],
  lessonId: string,
): { previous: LessonItem | null; next: LessonItem | null } {
  const all = lessonsInOrder(modules);
  const at = all.findIndex((l) => l.id === lessonId);
  if (at < 0) return { previous: null, next: null };
  return { previous: all[at - 1] ?? null, next: all[at + 1] ?? null };
}

/** Where to resume: the first lesson not completed, else the first. */
export function resumeLesson(modules: ModuleItem[]): LessonItem | null {
  const all = lessonsInOrder(modules);
  return all.find((l) => !l.completed) ?? all[0] ?? null;
}
