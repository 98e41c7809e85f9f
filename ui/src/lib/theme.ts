// The window's colours: the learner's choice in Settings, or the system's (followed live).
// app.css themes every screen from `data-theme` on the root element.
import type { Theme } from "../bindings/Theme";

let stopFollowing: (() => void) | null = null;

/** The colours `theme` means now, given whether the system prefers dark. */
export function resolvedTheme(theme: Theme, systemDark: boolean): "light" | "dark" {
  if (theme === "system") return systemDark ? "dark" : "light";
  return theme;
}

/** Applies `theme` to the window, following the system's changes while it is "system". */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  stopFollowing?.();
  stopFollowing = null;
  const query = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  const set = () => {
    root.dataset.theme = resolvedTheme(theme, query?.matches ?? false);
  };
  set();
  if (theme === "system" && query) {
    query.addEventListener("change", set);
    stopFollowing = () => query.removeEventListener("change", set);
  }
}
