// Pure presentation logic, unit-tested with Vitest: what the screens say.
import type { CommandError } from "../bindings/CommandError";
import type { SyncStatus } from "../bindings/SyncStatus";
import { formatNumber, hasMessage, language, messageOr, t, tn } from "./i18n";

/** The offline indicator: a short label, a tone for its colour, and the problem in words. */
export interface SyncLabel {
  label: string;
  tone: "online" | "offline" | "syncing" | "problem";
  detail: string | null;
}

export function waiting(pending: number): string {
  if (pending === 0) return t("sync.waiting_zero");
  return tn("sync.waiting", pending);
}

export function describeSync(status: SyncStatus): SyncLabel {
  const detail = syncProblem(status.problem ?? null);
  if (status.syncing) return { label: t("sync.syncing", { waiting: waiting(status.pending) }), tone: "syncing", detail };
  if (!status.online) {
    // Never synced yet and no problem: the app has just started.
    if (status.last_synced_at === null && detail === null) {
      return { label: t("sync.connecting", { waiting: waiting(status.pending) }), tone: "syncing", detail };
    }
    return { label: t("sync.offline", { waiting: waiting(status.pending) }), tone: "offline", detail };
  }
  if (detail) return { label: t("sync.problem", { waiting: waiting(status.pending) }), tone: "problem", detail };
  return { label: t("sync.online", { waiting: waiting(status.pending) }), tone: "online", detail };
}

/** Words for any failure a command reports. In English, the server's or the engine's own
 *  message (it names the details); in another language, the catalog's words for its stable
 *  code when the catalog has them, else that message as it came. */
export function errorMessage(error: unknown): string {
  if (typeof error === "string") return error;
  if (error && typeof error === "object" && "message" in error) {
    const { code, message } = error as CommandError;
    const key = `error.${code}`;
    if (language() !== "en" && hasMessage(key)) return t(key);
    return String(message);
  }
  return t("error.unknown");
}

/** The sync indicator's problem: the engine's words in English, else the catalog's for it. */
export function syncProblem(problem: string | null): string | null {
  if (problem === null || language() === "en") return problem;
  return t("sync.problem_detail");
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return t("bytes.b", { value: bytes });
  const units = ["bytes.kib", "bytes.mib", "bytes.gib", "bytes.tib"] as const;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value < 10 ? 1 : 0;
  return t(units[unit], { value: formatNumber(value, { minimumFractionDigits: digits, maximumFractionDigits: digits }) });
}

/** Prices are exact decimal text from Rust; never parse them into floats for display. */
export function formatPrice(price: string, isFree: boolean): string {
  return isFree ? t("common.free") : `$${price}`;
}

/** A course's level (`Beginner`, …, as the server names it) in the UI's language. */
export function levelName(level: string): string {
  return messageOr(`level.${level}`, level);
}

/** A lesson's kind (`video`, `text`, …) in the UI's language. */
export function contentTypeName(kind: string): string {
  return messageOr(`content_type.${kind}`, kind.replace(/_/g, " "));
}

/** An assessment's kind (`quiz`, `final_exam`, …) in the UI's language. */
export function assessmentKindName(kind: string): string {
  return messageOr(`assessment_kind.${kind}`, kind.replace(/_/g, " "));
}

/** Download progress, 0–100, or null while the size is unknown. */
export function downloadPercent(done: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  return Math.min(100, Math.floor((done * 100) / total));
}

/** A language tag's name in the UI's language (`fr` → "French"), or the tag itself when the
 *  webview cannot name it. */
export function languageName(tag: string, locale: string = language()): string {
  try {
    return new Intl.DisplayNames([locale], { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}
