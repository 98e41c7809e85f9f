// A lab in steps, as the step panel shows it: which step is showing, how far the learner has
// come, what the buttons say. Pure functions over the Rust types (../bindings), unit-tested
// with Vitest; the panel (screens/LabSteps.svelte) stays thin. The server keeps the progress
// (LabSession.steps): the panel never decides a step passed, it shows what a check answered.
import type { CheckResult } from "../bindings/CheckResult";
import type { LabStep } from "../bindings/LabStep";
import type { SelfTestPhaseKind } from "../bindings/SelfTestPhaseKind";
import type { StepProgress } from "../bindings/StepProgress";
import type { StepRecord } from "../bindings/StepRecord";
import { t, tn } from "./i18n";

/** The progress of a session that has not checked anything yet: on step 1. */
export function startingProgress(total: number): StepProgress {
  return { current: 1, total, completed_at: null, records: [] };
}

/** The session's progress, or the start when it has none yet (the server adds it at the first check). */
export function progressOf(steps: StepProgress | null | undefined, total: number): StepProgress {
  return steps ?? startingProgress(total);
}

/**
 * The furthest page the learner may look at: the step they are on, or the finish page
 * (`total + 1`) once every step has passed. Steps ahead of that stay hidden.
 */
export function reachedPosition(progress: StepProgress, total: number): number {
  if (total === 0) return 1;
  return Math.min(Math.max(progress.current, 1), total + 1);
}

/** A page to show, kept between the first step and the furthest one reached. */
export function clampPosition(position: number, progress: StepProgress, total: number): number {
  return Math.min(Math.max(position, 1), reachedPosition(progress, total));
}

/**
 * The page to show after the progress changed (a check, or a refresh of the session): a
 * learner who was on the step they had reached moves on with it; one looking back at an
 * earlier step stays there.
 */
export function followProgress(viewing: number, before: StepProgress, after: StepProgress, total: number): number {
  if (viewing >= reachedPosition(before, total)) return reachedPosition(after, total);
  return clampPosition(viewing, after, total);
}

/** Steps passed so far. */
export function passedCount(progress: StepProgress): number {
  return progress.records.filter((r) => r.passed_at !== null).length;
}

/** How far through the lab, 0 to 100, for the progress bar. */
export function progressPercent(progress: StepProgress, total: number): number {
  if (total === 0) return 0;
  return Math.round((Math.min(passedCount(progress), total) * 100) / total);
}

/** The counter above the step: "Step 2 of 4", or "Finished" on the finish page (in the app's language). */
export function stepCounter(position: number, total: number): string {
  return position > total ? t("steps.finished") : t("steps.counter", { position, total });
}

/** What the learner's checks of a step came to, if it was checked. */
export function recordAt(progress: StepProgress, position: number): StepRecord | null {
  return progress.records.find((r) => r.position === position) ?? null;
}

/** The step's button: a checked step is checked; one without a verify script is moved on from. */
export function checkLabel(step: LabStep, running: boolean): string {
  if (running) return step.checked ? t("steps.checking") : t("steps.continuing");
  return step.checked ? t("steps.check") : t("steps.continue");
}

/** A check's result as the panel shows it: the tone of its box and whether its output shows. */
export function describeCheck(result: CheckResult): { tone: "ok" | "bad" | "warn"; showOutput: boolean } {
  switch (result.outcome) {
    case "passed":
      return { tone: "ok", showOutput: false };
    case "failed":
      return { tone: "bad", showOutput: result.output.trim().length > 0 };
    case "timed_out":
      return { tone: "warn", showOutput: result.output.trim().length > 0 };
  }
}

/** A step's check history in words, for the instructor watching: "3 checks · passed". */
export function recordSummary(record: StepRecord | null): string {
  if (!record) return t("steps.not_checked");
  const checks = tn("steps.checks", record.attempts);
  if (record.passed_at !== null || record.last_passed) return t("steps.summary_passed", { checks });
  return t("steps.summary_not_passed", { checks });
}

/** The label of the hint button: the first, then the next, none once all are showing. */
export function hintLabel(shown: number, total: number): string | null {
  if (shown >= total) return null;
  return shown === 0 ? t("steps.show_hint") : t("steps.show_another_hint");
}

/** A self-test phase in words. */
export function phaseLabel(kind: SelfTestPhaseKind): string {
  switch (kind) {
    case "setup": return t("steps.phase.setup");
    case "verify_before": return t("steps.phase.verify_before");
    case "solve": return t("steps.phase.solve");
    case "verify_after": return t("steps.phase.verify_after");
  }
}

/** A session id as pasted (spaces trimmed, any case), or the reason it is not one. */
export function parseSessionId(text: string): { ok: true; id: string } | { ok: false; error: string } {
  const id = text.trim().toLowerCase();
  if (id === "") return { ok: false, error: t("steps.session_id_missing") };
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    return { ok: false, error: t("steps.session_id_invalid") };
  }
  return { ok: true, id };
}
