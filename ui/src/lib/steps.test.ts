import { afterEach, describe, expect, it } from "vitest";
import type { CheckResult } from "../bindings/CheckResult";
import type { LabStep } from "../bindings/LabStep";
import type { StepProgress } from "../bindings/StepProgress";
import type { StepRecord } from "../bindings/StepRecord";
import { setLanguage } from "./i18n";
import {
  checkLabel, clampPosition, describeCheck, followProgress, hintLabel, parseSessionId, passedCount, phaseLabel,
  progressOf, progressPercent, reachedPosition, recordAt, recordSummary, stepCounter,
} from "./steps";

afterEach(() => setLanguage("en"));

const record = (position: number, passed: boolean, attempts = 1): StepRecord => ({
  step_id: `step-${position}`,
  position,
  attempts,
  passed_at: passed ? "2026-01-01T10:00:00Z" : null,
  last_checked_at: "2026-01-01T10:00:00Z",
  last_passed: passed,
  last_output: passed ? "" : "There is no ~/lab/notes directory yet",
});

const on = (current: number, passed: number[] = [], total = 4): StepProgress => ({
  current,
  total,
  completed_at: current > total ? "2026-01-01T10:00:00Z" : null,
  records: passed.map((p) => record(p, true)),
});

const step = (checked: boolean): LabStep => ({ id: "s", position: 1, title: "t", body: "", hints: [], checked });

describe("where the learner is in a lab's steps", () => {
  it("starts on step 1 before the first check", () => {
    expect(progressOf(null, 4)).toEqual({ current: 1, total: 4, completed_at: null, records: [] });
    expect(reachedPosition(progressOf(undefined, 4), 4)).toBe(1);
  });

  it("reaches the step the learner is on, and the finish page once every step passed", () => {
    expect(reachedPosition(on(2, [1]), 4)).toBe(2);
    expect(reachedPosition(on(5, [1, 2, 3, 4]), 4)).toBe(5);
    // A progress from before the lab lost steps never points past the finish page.
    expect(reachedPosition(on(9, [1, 2]), 4)).toBe(5);
  });

  it("keeps navigation between the first step and the furthest reached", () => {
    expect(clampPosition(0, on(3, [1, 2]), 4)).toBe(1);
    expect(clampPosition(2, on(3, [1, 2]), 4)).toBe(2);
    expect(clampPosition(4, on(3, [1, 2]), 4)).toBe(3);
  });

  it("moves on with a passed check, but not when the learner looks back", () => {
    expect(followProgress(1, on(1), on(2, [1]), 4)).toBe(2);
    expect(followProgress(4, on(4, [1, 2, 3]), on(5, [1, 2, 3, 4]), 4)).toBe(5);
    expect(followProgress(1, on(3, [1, 2]), on(4, [1, 2, 3]), 4)).toBe(1);
    // A failed check changes nothing.
    expect(followProgress(2, on(2, [1]), on(2, [1]), 4)).toBe(2);
  });

  it("counts passed steps for the bar and says which step shows", () => {
    expect(passedCount(on(3, [1, 2]))).toBe(2);
    expect(progressPercent(on(3, [1, 2]), 4)).toBe(50);
    expect(progressPercent(on(1), 0)).toBe(0);
    expect(stepCounter(2, 4)).toBe("Step 2 of 4");
    expect(stepCounter(5, 4)).toBe("Finished");
  });
});

describe("the step's buttons and results", () => {
  it("checks a checked step and continues from one without a verify script", () => {
    expect(checkLabel(step(true), false)).toBe("Check");
    expect(checkLabel(step(true), true)).toBe("Checking…");
    expect(checkLabel(step(false), false)).toBe("Continue");
  });

  it("shows a failed check's output, never a passed one's", () => {
    const result = (outcome: CheckResult["outcome"], output: string) => ({ outcome, output } as CheckResult);
    expect(describeCheck(result("passed", "ok\n"))).toEqual({ tone: "ok", showOutput: false });
    expect(describeCheck(result("failed", "no notes\n"))).toEqual({ tone: "bad", showOutput: true });
    expect(describeCheck(result("failed", "  \n"))).toEqual({ tone: "bad", showOutput: false });
    expect(describeCheck(result("timed_out", "")).tone).toBe("warn");
  });

  it("reveals hints one at a time", () => {
    expect(hintLabel(0, 2)).toBe("Show a hint");
    expect(hintLabel(1, 2)).toBe("Show another hint");
    expect(hintLabel(2, 2)).toBeNull();
    expect(hintLabel(0, 0)).toBeNull();
  });

  it("sums up a step's checks for the instructor", () => {
    expect(recordSummary(null)).toBe("Not checked yet");
    expect(recordSummary(record(1, false, 3))).toBe("3 checks · not passed yet");
    expect(recordSummary(record(1, true, 1))).toBe("1 check · passed");
    expect(recordAt(on(2, [1]), 1)?.attempts).toBe(1);
    expect(recordAt(on(2, [1]), 2)).toBeNull();
  });

  it("takes a pasted session id and refuses anything else", () => {
    expect(parseSessionId(" 0190C3A2-1B2C-7D3E-8F40-123456789ABC \n")).toEqual({
      ok: true,
      id: "0190c3a2-1b2c-7d3e-8f40-123456789abc",
    });
    expect(parseSessionId("").ok).toBe(false);
    expect(parseSessionId("0190c3a2").ok).toBe(false);
  });
});

describe("in French", () => {
  it("counts steps, labels the buttons and sums up checks", () => {
    setLanguage("fr");
    expect(stepCounter(2, 4)).toBe("Étape 2 sur 4");
    expect(stepCounter(5, 4)).toBe("Terminé");
    expect(checkLabel(step(true), false)).toBe("Vérifier");
    expect(checkLabel(step(false), true)).toBe("Passage à la suite…");
    expect(hintLabel(1, 2)).toBe("Afficher un autre indice");
    expect(recordSummary(null)).toBe("Pas encore vérifiée");
    expect(recordSummary(record(1, false, 3))).toBe("3 vérifications · pas encore réussie");
    expect(recordSummary(record(1, true, 1))).toBe("1 vérification · réussie");
    expect(phaseLabel("verify_after")).toBe("Vérification après la solution (doit réussir)");
    expect(parseSessionId("")).toEqual({ ok: false, error: "Collez d’abord l’identifiant de la session." });
  });
});
