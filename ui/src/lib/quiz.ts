// What the quiz screens say and how answers are built, unit-tested with Vitest.
import type { AnswerKey } from "../bindings/AnswerKey";
import type { AnswerValue } from "../bindings/AnswerValue";
import type { AttemptItem } from "../bindings/AttemptItem";
import type { AttemptStatus } from "../bindings/AttemptStatus";
import type { QuizQuestion } from "../bindings/QuizQuestion";
import { t } from "./i18n";

/** Picks or unpicks a choice: one at a time unless the question allows several. */
export function toggleChoice(answer: AnswerValue | undefined, choice: string, multiple: boolean): AnswerValue {
  const picked = Array.isArray(answer) ? answer : [];
  if (!multiple) return [choice];
  return picked.includes(choice) ? picked.filter((c) => c !== choice) : [...picked, choice];
}

/** Whether a question has an answer worth sending (an empty text or no choice is none). */
export function isAnswered(answer: AnswerValue | undefined): boolean {
  if (answer === undefined || answer === null) return false;
  if (Array.isArray(answer)) return answer.length > 0;
  if (typeof answer === "string") return answer.trim().length > 0;
  return true;
}

export function wordCount(text: string): number {
  return text.trim() === "" ? 0 : text.trim().split(/\s+/).length;
}

/** An attempt's status in words. */
export function statusWords(status: AttemptStatus): string {
  switch (status) {
    case "in_progress":
      return t("quiz.status.in_progress");
    case "waiting_to_sync":
      return t("quiz.status.waiting_to_sync");
    case "awaiting_grading":
      return t("quiz.status.awaiting_grading");
    case "graded":
      return t("quiz.status.graded");
  }
}

/**
 * What a learner can do about an attempt taken offline that the server refused (by its stable
 * code): whether submitting again could help, or only discarding it.
 */
export function refusalAdvice(code: string): string {
  switch (code) {
    case "no_attempts_left":
      return t("quiz.refusal.no_attempts_left");
    case "forbidden":
    case "not_found":
      return t("quiz.refusal.not_found");
    case "timed_attempt_must_start_online":
      return t("quiz.refusal.became_timed");
    case "validation_failed":
      return t("quiz.refusal.changed");
    default:
      return t("quiz.refusal.other");
  }
}

/** One line about an attempt: its number, status and score. */
export function attemptLine(a: AttemptItem): string {
  const name = a.attempt_number === null ? t("quiz.attempt_offline") : t("quiz.attempt_number", { number: a.attempt_number });
  if (a.status === "graded" && a.score !== null) {
    return `${name} · ${a.score}% · ${a.passed ? t("quiz.passed_lower") : t("quiz.not_passed_lower")}`;
  }
  return `${name} · ${statusWords(a.status)}`;
}

function choiceText(q: QuizQuestion, id: string): string {
  return q.options.choices?.find((c) => c.id === id)?.text ?? id;
}

/** An answer as the learner reads it: picked choices by their text. */
export function describeAnswer(q: QuizQuestion, answer: AnswerValue | null): string {
  if (answer === null || answer === undefined) return t("quiz.no_answer");
  if (Array.isArray(answer)) return answer.length ? answer.map((id) => choiceText(q, id)).join("; ") : t("quiz.no_answer");
  if (typeof answer === "boolean") return answer ? t("quiz.true") : t("quiz.false");
  return answer;
}

/** The right answer in words. */
export function describeKey(q: QuizQuestion, key: AnswerKey | null): string | null {
  if (!key) return null;
  switch (key.kind) {
    case "choices":
      return key.ids.map((id) => choiceText(q, id)).join("; ");
    case "true_false":
      return key.value ? t("quiz.true") : t("quiz.false");
    case "accepted":
      return key.answers.join(t("quiz.or"));
  }
}

/** The words a timed attempt's countdown shows, from its deadline. */
export function timeLeft(deadline: string, now: Date): string {
  const ms = Date.parse(deadline) - now.getTime();
  if (!(ms > 0)) return t("quiz.time_up");
  const total = Math.floor(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return t("quiz.time_left", { time: `${minutes}:${String(seconds).padStart(2, "0")}` });
}

/** A timed attempt's deadline as the server sets it (start + limit + 30 s for the network), for
 *  an attempt reopened from the cache, whose row does not carry it. */
export function deadlineOf(startedAt: string, limitMinutes: number): string | null {
  const start = Date.parse(startedAt);
  if (Number.isNaN(start)) return null;
  return new Date(start + limitMinutes * 60_000 + 30_000).toISOString();
}
