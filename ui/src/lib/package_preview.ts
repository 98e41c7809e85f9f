// The package preview's small rules, kept out of the screens so Vitest can check them.
import type { PackageChange } from "../bindings/PackageChange";
import type { PackageProblem } from "../bindings/PackageProblem";
import type { PreviewStatus } from "../bindings/PreviewStatus";
import { formatTime, t, tn } from "./i18n";

/** Where a problem is, as `skilltrack course validate` prints it: `file:line:column`. */
export function problemLocation(p: PackageProblem): string {
  return `${p.file}:${p.line}:${p.column}`;
}

/** What the banner says about the latest read of the folder. */
export function readLine(status: PreviewStatus, now: Date = new Date()): string {
  const at = new Date(status.read_at_ms);
  const seconds = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  const when = seconds < 5 ? t("package_preview.just_now") : t("package_preview.at_time", { time: formatTime(at) });
  const read = tn("package_preview.read", status.version, { when });
  const problems = status.problems.length;
  return problems === 0
    ? t("package_preview.reads_cleanly", { read })
    : tn("package_preview.has_problems", problems, { read });
}

/** Whether an event's read is newer news for the preview showing `current`. */
export function isNewer(current: PreviewStatus | null, next: PreviewStatus): boolean {
  if (!current) return true;
  return next.folder !== current.folder || next.version > current.version;
}

/** One change of a push as `skilltrack course push` prints it: `+ create  lesson basics/intro`. */
export function changeLine(c: PackageChange): string {
  const sign = { create: "+", update: "~", delete: "-", publish: "*" }[c.action];
  return `${sign} ${c.action.padEnd(7)} ${c.item}`;
}
