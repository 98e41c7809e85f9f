// Pure presentation logic, unit-tested with Vitest: what the screens say.
import type { CommandError } from "../bindings/CommandError";
import type { SyncStatus } from "../bindings/SyncStatus";

/** The offline indicator: a short label, a tone for its colour, and the problem in words. */
export interface SyncLabel {
  label: string;
  tone: "online" | "offline" | "syncing" | "problem";
  detail: string | null;
}

export function waiting(pending: number): string {
  if (pending === 0) return "nothing waiting";
  return pending === 1 ? "1 change waiting" : `${pending} changes waiting`;
}

export function describeSync(status: SyncStatus): SyncLabel {
  const detail = status.problem ?? null;
  if (status.syncing) return { label: `Syncing · ${waiting(status.pending)}`, tone: "syncing", detail };
  if (!status.online) {
    // Never synced yet and no problem: the app has just started.
    if (status.last_synced_at === null && detail === null) {
      return { label: `Connecting · ${waiting(status.pending)}`, tone: "syncing", detail };
    }
    return { label: `Offline · ${waiting(status.pending)}`, tone: "offline", detail };
  }
  if (detail) return { label: `Sync problem · ${waiting(status.pending)}`, tone: "problem", detail };
  return { label: `Online · ${waiting(status.pending)}`, tone: "online", detail };
}

/** Words for any failure a command reports. */
export function errorMessage(error: unknown): string {
  if (typeof error === "string") return error;
  if (error && typeof error === "object" && "message" in error) {
    return String((error as CommandError).message);
  }
  return "Something went wrong.";
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Prices are exact decimal text from Rust; never parse them into floats for display. */
export function formatPrice(price: string, isFree: boolean): string {
  return isFree ? "Free" : `$${price}`;
}

/** Download progress, 0–100, or null while the size is unknown. */
export function downloadPercent(done: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  return Math.min(100, Math.floor((done * 100) / total));
}

/** A language tag's name in the UI's language (`fr` → "French"), or the tag itself when the
 *  webview cannot name it. */
export function languageName(tag: string, locale = "en"): string {
  try {
    return new Intl.DisplayNames([locale], { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}
