// What the instructor's screens decide and say, unit-tested with Vitest (the components stay
// thin). Types come from Rust through ../bindings.
import type { Account } from "../bindings/Account";
import type { Attempt } from "../bindings/Attempt";
import type { InstructorCourse } from "../bindings/InstructorCourse";
import type { PendingAnswer } from "../bindings/PendingAnswer";
import type { SyncStatus } from "../bindings/SyncStatus";
import { t, tn } from "./i18n";

/** Instructors and admins author courses; learners never see the instructor's screens. */
export function isInstructor(account: Account | null): boolean {
  return account?.role === "instructor" || account?.role === "admin";
}

/** A course's state in words: published or draft, and parts learners will not see yet. */
export function courseStatus(course: InstructorCourse): { label: string; tone: "published" | "draft"; note: string | null } {
  const modules = course.draft_modules > 0 ? tn("instructor.draft_modules", course.draft_modules) : null;
  const lessons = course.draft_lessons > 0 ? tn("instructor.draft_lessons", course.draft_lessons) : null;
  const note = modules && lessons
    ? t("instructor.hidden_both_kinds", { modules, lessons })
    : modules || lessons
      ? t("instructor.hidden_one_kind", { drafts: (modules ?? lessons)! })
      : null;
  return course.is_published
    ? { label: t("instructor.published"), tone: "published", note }
    : { label: t("instructor.draft"), tone: "draft", note };
}

/** The syllabus size in words: "3 modules · 9 lessons". */
export function syllabusSize(course: InstructorCourse): string {
  return t("instructor.syllabus", {
    modules: tn("instructor.modules", course.modules),
    lessons: tn("instructor.lessons", course.lessons),
  });
}

/**
 * Why the online-only actions (publishing, grading) cannot run now, or null when they can.
 * Offline is known from the last sync; the action itself still reports `offline` if the
 * network went since.
 */
export function onlineOnlyNotice(status: SyncStatus, action: "Publishing" | "Grading"): string | null {
  if (status.online) return null;
  if (status.last_synced_at === null && status.problem === null) return null; // still connecting
  return action === "Publishing" ? t("instructor.publishing_offline") : t("instructor.grading_offline");
}

/** A grade as typed: whole points from 0 to the question's, or the reason it is not one. */
export function parseGrade(
  pointsText: string,
  possible: number,
): { ok: true; points: number } | { ok: false; error: string } {
  const text = pointsText.trim();
  if (text === "") return { ok: false, error: t("grading.points_missing") };
  if (!/^\d+$/.test(text)) return { ok: false, error: t("grading.points_whole", { possible }) };
  const points = Number(text);
  if (points > possible) return { ok: false, error: t("grading.points_too_many", { possible }) };
  return { ok: true, points };
}

/** Who answered, for the queue: their name, else a short form of their id. */
export function learnerLabel(answer: PendingAnswer): string {
  const name = answer.learner_name?.trim();
  return name ? name : t("grading.learner", { id: answer.learner_id.slice(0, 8) });
}

/** How long an answer has waited, in words, at `now`. */
export function waitingFor(submittedAt: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - Date.parse(submittedAt)) / 60000));
  if (minutes < 1) return t("grading.just_now");
  if (minutes < 60) return tn("grading.minutes_ago", minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return tn("grading.hours_ago", hours);
  return tn("grading.days_ago", Math.floor(hours / 24));
}

/**
 * The list with the server's latest answers laid over the cache: after publishing, the server
 * has said "published" before the next pull brings the row, and a sync that was already under
 * way may still deliver the old one. An answer stands until the cache agrees with it.
 */
export function withServerAnswers(
  courses: InstructorCourse[],
  answers: Map<string, boolean>,
): InstructorCourse[] {
  for (const c of courses) {
    if (answers.get(c.card.id) === c.is_published) answers.delete(c.card.id);
  }
  return courses.map((c) => {
    const published = answers.get(c.card.id);
    return published === undefined ? c : { ...c, is_published: published };
  });
}

/** What grading an answer did to its attempt, in words. */
export function gradedOutcome(points: number, possible: number, attempt: Attempt): string {
  const given = tn("grading.points_given", points, { possible });
  if (attempt.state === "graded" && attempt.score !== null) {
    const verdict = attempt.passed ? t("grading.passed") : t("grading.not_passed");
    return t("grading.graded_final", { given, score: attempt.score, verdict });
  }
  return t("grading.graded_waiting", { given });
}
