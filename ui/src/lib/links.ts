// Where a link in lesson, quiz or lab markdown leads, decided once for the sanitizer (which
// keeps only such links) and for the click handler (which acts on them). The window itself
// never navigates: the shell refuses any page but the app's own (src-tauri/src/navigation.rs).

/** What clicking a link does. */
export type LinkDestination =
  // Out of the app: opened in the OS browser (or mail client) once the learner confirms.
  | { kind: "external"; url: string }
  // A heading or anchor of the same page: scrolled to, in the app.
  | { kind: "in-page"; fragment: string };

const EXTERNAL_SCHEMES = new Set(["http:", "https:", "mailto:"]);

/** The destination of `href`, or null for anything the app will not follow. */
export function linkDestination(href: string | null | undefined): LinkDestination | null {
  const raw = (href ?? "").trim();
  if (raw.startsWith("#")) {
    return raw.length > 1 ? { kind: "in-page", fragment: decodeURIComponent(raw.slice(1)) } : null;
  }
  let url: URL;
  try {
    // Absolute addresses only: a relative one has no place to go outside the app.
    url = new URL(raw);
  } catch {
    return null;
  }
  if (!EXTERNAL_SCHEMES.has(url.protocol)) return null;
  if (url.protocol !== "mailto:" && !url.hostname) return null;
  // The address as the browser will receive it, so the learner confirms exactly that.
  return { kind: "external", url: url.href };
}
