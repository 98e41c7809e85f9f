// The lab page's presentation logic, unit-tested with Vitest: what the status line, the
// reconnect indicator and the file browser say, and how workspace paths are built.
import type { LabSession } from "../bindings/LabSession";
import type { TerminalState } from "../bindings/TerminalState";
import { hasMessage, t } from "./i18n";
import { levelName } from "./words";

/** A session that still runs or can run again (the others are history). */
export function isLive(session: LabSession | null): session is LabSession {
  return session !== null && ["starting", "active", "paused"].includes(session.status);
}

/** The session's status in words. */
export function sessionLabel(session: LabSession | null): string {
  if (!session) return t("lab.status.not_started");
  switch (session.status) {
    case "starting": return t("lab.status.starting");
    case "active": return t("lab.status.active");
    case "paused": return t("lab.status.paused");
    case "completed": return t("lab.status.completed");
    case "expired": return t("lab.status.expired");
  }
}

/** A difficulty (the server's fixed list: Beginner, Intermediate, Advanced) in words; one the
 *  app does not know yet shows as it came. */
export function difficultyLabel(difficulty: string): string {
  return levelName(difficulty);
}

/** Time left until `at` (RFC 3339), as a learner reads it: `12 min`, `1 h 05 min`, `45 s`. */
export function timeLeft(at: string | null, now: number): string | null {
  if (at === null) return null;
  const ms = Date.parse(at) - now;
  if (Number.isNaN(ms)) return null;
  if (ms <= 0) return t("lab.time_left.now");
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return t("lab.time_left.seconds", { seconds });
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return t("lab.time_left.minutes", { minutes });
  const hours = Math.floor(minutes / 60);
  return t("lab.time_left.hours", { hours, minutes: String(minutes % 60).padStart(2, "0") });
}

/** Money is exact decimal text from Rust: trimmed for display, never turned into a float. */
export function formatCost(decimal: string): string {
  const [whole, fraction = ""] = decimal.split(".");
  const kept = fraction.replace(/0+$/, "").padEnd(2, "0");
  return `$${whole}.${kept}`;
}

/** The reconnect indicator: a short label, a tone for its colour, and the detail. */
export interface TerminalLabel {
  label: string;
  tone: "connected" | "connecting" | "reconnecting" | "closed";
  detail: string | null;
}

export function describeTerminal(state: TerminalState, now = Date.now(), since = now): TerminalLabel {
  switch (state.state) {
    case "connecting":
      return { label: t("lab_terminal.connecting"), tone: "connecting", detail: null };
    case "connected":
      return {
        label: state.mode === "read_only" ? t("lab_terminal.watching") : t("lab_terminal.connected"),
        tone: "connected",
        detail: null,
      };
    case "reconnecting": {
      const left = Math.max(0, Math.ceil((state.retry_in_ms - (now - since)) / 1000));
      const when = left > 0 ? t("lab_terminal.retrying_in", { seconds: left }) : t("lab_terminal.retrying_now");
      // The reason is the engine's own words (Rust), shown as they came.
      return { label: t("lab_terminal.reconnecting", { attempt: state.attempt, when }), tone: "reconnecting", detail: state.reason };
    }
    case "closed":
      return { label: t("lab_terminal.closed"), tone: "closed", detail: state.reason };
  }
}

/** A directory's parts, for the file browser's breadcrumbs; the first is the workspace itself. */
export function breadcrumbs(path: string): { name: string; path: string }[] {
  const parts = path.split("/").filter((p) => p.length > 0);
  const crumbs = [{ name: t("lab_files.workspace"), path: "" }];
  parts.forEach((name, i) => crumbs.push({ name, path: parts.slice(0, i + 1).join("/") }));
  return crumbs;
}

/** The parent of a workspace path (`""` for the top). */
export function parentOf(path: string): string {
  const parts = path.split("/").filter((p) => p.length > 0);
  return parts.slice(0, -1).join("/");
}

/**
 * `dir/name` for a name the learner typed, or an error in words. The server checks paths too;
 * this catches the obvious before a round trip.
 */
export function childPath(dir: string, name: string): { path: string } | { error: string } {
  const trimmed = name.trim();
  if (trimmed.length === 0) return { error: t("lab_files.name_empty") };
  if (trimmed.includes("/")) return { error: t("lab_files.name_slash") };
  if (trimmed === "." || trimmed === "..") return { error: t("lab_files.name_reserved") };
  if (trimmed.includes("\0")) return { error: t("lab_files.name_bad_character") };
  return { path: dir ? `${dir}/${trimmed}` : trimmed };
}

/**
 * Keystrokes in order, one command in flight at a time: each command runs as its own task in
 * Rust, so two sent at once could arrive swapped. Keys typed while one is in flight are joined
 * into the next.
 */
export class InputQueue {
  private waiting = "";
  private busy = false;

  constructor(private readonly send: (data: string) => Promise<unknown>) {}

  push(data: string): void {
    this.waiting += data;
    if (!this.busy) void this.drain();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.waiting.length > 0) {
      const data = this.waiting;
      this.waiting = "";
      try {
        await this.send(data);
      } catch {
        // The terminal closed or is reconnecting: these keys are lost, as on a cut line.
      }
    }
    this.busy = false;
  }
}
