// What the instructor's screens decide and say, unit-tested with Vitest (the components stay
// thin). Types come from Rust through ../bindings.
import type { Account } from "../bindings/Account";
import type { Attempt } from "../bindings/Attempt";
import type { InstructorCourse } from "../bindings/InstructorCourse";
import type { PendingAnswer } from "../bindings/PendingAnswer";
import type { SyncStatus } from "../bindings/SyncStatus";

/** Instructors and admins author courses; learners never see the instructor's screens. */
export function isInstructor(account: Account | null): boolean {
  return account?.role === "instructor" || account?.role === "admin";
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A course's state in words: published or draft, and parts learners will not see yet. */
export function courseStatus(course: InstructorCourse): { label: string; tone: "published" | "draft"; note: string | null } {
  const hidden: string[] = [];
  if (course.draft_modules > 0) hidden.push(plural(course.draft_modules, "draft module", "draft modules"));
  if (course.draft_lessons > 0) hidden.push(plural(course.draft_lessons, "draft lesson", "draft lessons"));
  const note = hidden.length ? `${hidden.join(" and ")} that learners will not see` : null;
  return course.is_published
    ? { label: "Published", tone: "published", note }
    : { label: "Draft", tone: "draft", note };
}

/** The syllabus size in words: "3 modules · 9 lessons". */
export function syllabusSize(course: InstructorCourse): string {
  return `${plural(course.modules, "module", "modules")} · ${plural(course.lessons, "lesson", "lessons")}`;
}

/**
 * Why the online-only actions (publishing, grading) cannot run now, or null when they can.
 * Offline is known from the last sync; the action itself still reports `offline` if the
 * network went since.
 */
export function onlineOnlyNotice(status: SyncStatus, action: string): string | null {
  if (status.online) return null;
  if (status.last_synced_at === null && status.problem === null) return null; // still connecting
  return `${action} needs the network. You are offline: what you see here is this device's copy; try again once you are online.`;
}

/** A grade as typed: whole points from 0 to the question's, or the reason it is not one. */
export function parseGrade(
  pointsText: string,
  possible: number,
): { ok: true; points: number } | { ok: false; error: string } {
  const text = pointsText.trim();
  if (text === "") return { ok: false, error: "Give the points first." };
  if (!/^\d+$/.test(text)) return { ok: false, error: `Points are a whole number from 0 to ${possible}.` };
  const points = Number(text);
  if (points > possible) return { ok: false, error: `At most ${possible} points: what the question is worth.` };
  return { ok: true, points };
}

/** Who answered, for the queue: their name, else a short form of their id. */
export function learnerLabel(answer: PendingAnswer): string {
  const name = answer.learner_name?.trim();
  return name ? name : `Learner ${answer.learner_id.slice(0, 8)}`;
}

/** How long an answer has waited, in words, at `now`. */
export function waitingFor(submittedAt: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - Date.parse(submittedAt)) / 60000));
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${plural(minutes, "minute", "minutes")} ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${plural(hours, "hour", "hours")} ago`;
  return `${plural(Math.floor(hours / 24), "day", "days")} ago`;
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
  const given = `${plural(points, "point", "points")} of ${possible}`;
  if (attempt.state === "graded" && attempt.score !== null) {
    return `Graded: ${given}. The attempt's score is final: ${attempt.score}% (${attempt.passed ? "passed" : "not passed"}); the learner is notified.`;
  }
  return `Graded: ${given}. The attempt waits for its other hand-graded answers.`;
}
