import { afterEach, describe, expect, it } from "vitest";
import type { InstructorCourse } from "../bindings/InstructorCourse";
import type { PendingAnswer } from "../bindings/PendingAnswer";
import type { SyncStatus } from "../bindings/SyncStatus";
import type { Attempt } from "../bindings/Attempt";
import { setLanguage } from "./i18n";
import { courseStatus, gradedOutcome, isInstructor, learnerLabel, onlineOnlyNotice, parseGrade, syllabusSize, waitingFor, withServerAnswers } from "./instructor";

function course(overrides: Partial<InstructorCourse>): InstructorCourse {
  return {
    card: { id: "c", slug: "s", title: "T", summary: "", level: "Beginner", duration: "", price: "0.00", is_free: true, rating: "0.00", tags: [] },
    is_published: false,
    student_count: 0,
    modules: 1,
    draft_modules: 0,
    lessons: 1,
    draft_lessons: 0,
    updated_at: "",
    ...overrides,
  };
}

afterEach(() => setLanguage("en"));

const status = (s: Partial<SyncStatus>): SyncStatus => ({ online: true, syncing: false, pending: 0, last_synced_at: null, problem: null, ...s });

describe("instructor screens", () => {
  it("shows the instructor's screens to instructors and admins only", () => {
    const account = (role: string) => ({ id: "u", email: "e", full_name: null, role });
    expect(isInstructor(account("instructor"))).toBe(true);
    expect(isInstructor(account("admin"))).toBe(true);
    expect(isInstructor(account("student"))).toBe(false);
    expect(isInstructor(null)).toBe(false);
  });

  it("says whether a course is published and what learners will not see", () => {
    expect(courseStatus(course({}))).toEqual({ label: "Draft", tone: "draft", note: null });
    expect(courseStatus(course({ is_published: true, draft_lessons: 2, draft_modules: 1 }))).toEqual({
      label: "Published",
      tone: "published",
      note: "1 draft module and 2 draft lessons that learners will not see",
    });
    expect(syllabusSize(course({ modules: 2, lessons: 1 }))).toBe("2 modules · 1 lesson");
  });

  it("explains that publishing needs the network only once the app knows it is offline", () => {
    expect(onlineOnlyNotice(status({}), "Publishing")).toBeNull();
    expect(onlineOnlyNotice(status({ online: false }), "Publishing")).toBeNull();
    const offline = onlineOnlyNotice(status({ online: false, last_synced_at: "2026-01-01T00:00:00Z", problem: "You are offline." }), "Publishing");
    expect(offline).toContain("Publishing needs the network");
  });

  it("accepts whole points within the question's and says why otherwise", () => {
    expect(parseGrade(" 4 ", 5)).toEqual({ ok: true, points: 4 });
    expect(parseGrade("0", 5)).toEqual({ ok: true, points: 0 });
    expect(parseGrade("", 5)).toEqual({ ok: false, error: "Give the points first." });
    expect(parseGrade("2.5", 5)).toEqual({ ok: false, error: "Points are a whole number from 0 to 5." });
    expect(parseGrade("-1", 5)).toEqual({ ok: false, error: "Points are a whole number from 0 to 5." });
    expect(parseGrade("6", 5)).toEqual({ ok: false, error: "At most 5 points: what the question is worth." });
  });

  it("names the learner and how long the answer waited", () => {
    const answer = { learner_name: "  ", learner_id: "0190abcd-ef01-7000-8000-000000000000" } as PendingAnswer;
    expect(learnerLabel(answer)).toBe("Learner 0190abcd");
    expect(learnerLabel({ ...answer, learner_name: "Lee" })).toBe("Lee");
    const now = new Date("2026-01-03T12:00:00Z");
    expect(waitingFor("2026-01-03T11:59:30Z", now)).toBe("just now");
    expect(waitingFor("2026-01-03T11:00:00Z", now)).toBe("1 hour ago");
    expect(waitingFor("2026-01-03T11:15:00Z", now)).toBe("45 minutes ago");
    expect(waitingFor("2025-12-30T12:00:00Z", now)).toBe("4 days ago");
  });

  it("keeps the server's answer over a stale cached row until the cache agrees", () => {
    const answers = new Map([["c", true]]);
    const stale = withServerAnswers([course({})], answers);
    expect(stale[0].is_published).toBe(true);
    expect(answers.size).toBe(1);
    const synced = withServerAnswers([course({ is_published: true })], answers);
    expect(synced[0].is_published).toBe(true);
    expect(answers.size).toBe(0);
    // Once agreed, later cache changes (another device unpublished it) show as they are.
    expect(withServerAnswers([course({})], answers)[0].is_published).toBe(false);
  });

  it("says whether grading made the attempt's score final", () => {
    const attempt = { state: "graded", score: 80, passed: true } as Attempt;
    expect(gradedOutcome(4, 5, attempt)).toBe(
      "Graded: 4 points of 5. The attempt's score is final: 80% (passed); the learner is notified.",
    );
    expect(gradedOutcome(1, 5, { ...attempt, state: "awaiting_grading", score: null })).toBe(
      "Graded: 1 point of 5. The attempt waits for its other hand-graded answers.",
    );
  });
});

describe("instructor screens in French", () => {
  it("says the course's state, the grading rules and the outcome in French", () => {
    setLanguage("fr");
    expect(courseStatus(course({ is_published: true, draft_lessons: 2, draft_modules: 1 }))).toEqual({
      label: "Publié",
      tone: "published",
      note: "1 module en brouillon et 2 leçons en brouillon que les apprenants ne verront pas",
    });
    expect(courseStatus(course({ draft_lessons: 1 })).note).toBe("1 leçon en brouillon que les apprenants ne verront pas");
    expect(syllabusSize(course({ modules: 2, lessons: 1 }))).toBe("2 modules · 1 leçon");
    const offline = status({ online: false, last_synced_at: "2026-01-01T00:00:00Z", problem: "You are offline." });
    expect(onlineOnlyNotice(offline, "Grading")).toMatch(/^La correction demande le réseau/);
    expect(parseGrade("6", 5)).toEqual({ ok: false, error: "Au plus 5 points : ce que vaut la question." });
    const now = new Date("2026-01-03T12:00:00Z");
    expect(waitingFor("2026-01-03T11:15:00Z", now)).toBe("il y a 45 minutes");
    expect(waitingFor("2026-01-03T11:59:30Z", now)).toBe("à l’instant");
    const attempt = { state: "graded", score: 80, passed: true } as Attempt;
    expect(gradedOutcome(4, 5, attempt)).toBe(
      "Noté : 4 points sur 5. Le score de la tentative est définitif : 80 % (réussie) ; l’apprenant est prévenu.",
    );
  });
});
