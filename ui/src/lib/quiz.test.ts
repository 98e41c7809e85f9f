import { describe, expect, it } from "vitest";
import type { QuizQuestion } from "../bindings/QuizQuestion";
import { attemptLine, deadlineOf, describeAnswer, describeKey, isAnswered, refusalAdvice, statusWords, timeLeft, toggleChoice, wordCount } from "./quiz";

const mc: QuizQuestion = {
  id: "q1",
  question_text: "Which?",
  question_type: "multiple_choice",
  options: { choices: [{ id: "a", text: "cd /" }, { id: "b", text: "cd .." }], multiple: false },
  points: 1,
};

describe("quiz answers", () => {
  it("picks one choice, or several when the question allows", () => {
    expect(toggleChoice(["a"], "b", false)).toEqual(["b"]);
    expect(toggleChoice(["a"], "b", true)).toEqual(["a", "b"]);
    expect(toggleChoice(["a", "b"], "a", true)).toEqual(["b"]);
    expect(toggleChoice(undefined, "a", true)).toEqual(["a"]);
  });

  it("counts empty text and no choice as unanswered, false as an answer", () => {
    expect(isAnswered(undefined)).toBe(false);
    expect(isAnswered([])).toBe(false);
    expect(isAnswered("  ")).toBe(false);
    expect(isAnswered(false)).toBe(true);
    expect(isAnswered("pwd")).toBe(true);
    expect(wordCount("  two  words ")).toBe(2);
    expect(wordCount("")).toBe(0);
  });

  it("says answers and keys in words", () => {
    expect(describeAnswer(mc, ["b"])).toBe("cd ..");
    expect(describeAnswer(mc, null)).toBe("No answer");
    expect(describeAnswer(mc, true)).toBe("True");
    expect(describeKey(mc, { kind: "choices", ids: ["b"] })).toBe("cd ..");
    expect(describeKey(mc, { kind: "accepted", answers: ["pwd", "PWD"] })).toBe("pwd or PWD");
    expect(describeKey(mc, null)).toBeNull();
  });
});

describe("attempts in words", () => {
  it("says an offline submission waits to be graded, and a graded one its score", () => {
    expect(statusWords("waiting_to_sync")).toContain("Waiting to be graded");
    const base = { id: "x", assessment_id: "y", started_at: "", completed_at: "", passed: false, local: true };
    expect(attemptLine({ ...base, attempt_number: null, status: "waiting_to_sync", score: null })).toBe(
      "Attempt (taken offline) · Waiting to be graded · sent when you are online",
    );
    expect(attemptLine({ ...base, attempt_number: 2, status: "graded", score: 67, local: false })).toBe(
      "Attempt 2 · 67% · not passed",
    );
  });

  it("knows a reopened timed attempt's deadline from its start", () => {
    expect(deadlineOf("2026-01-01T10:00:00Z", 30)).toBe("2026-01-01T10:30:30.000Z");
    expect(deadlineOf("not a time", 30)).toBeNull();
  });

  it("counts down to a deadline", () => {
    const now = new Date("2026-01-01T10:00:00Z");
    expect(timeLeft("2026-01-01T10:01:05Z", now)).toBe("1:05 left");
    expect(timeLeft("2026-01-01T09:59:00Z", now)).toBe("Time is up");
  });
});

describe("a refused offline attempt", () => {
  it("says when only discarding helps, and when submitting again might", () => {
    expect(refusalAdvice("no_attempts_left")).toMatch(/cannot count: discard it/);
    expect(refusalAdvice("forbidden")).toMatch(/enrolled/);
    expect(refusalAdvice("timed_attempt_must_start_online")).toMatch(/start again while connected/);
    expect(refusalAdvice("something_new")).toMatch(/Submit it again/);
  });
});

