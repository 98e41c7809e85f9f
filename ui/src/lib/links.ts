// Where a link in lesson, quiz or lab markdown leads, decided once for the sanitizer (which
// keeps only such links) and for the click handler (which acts on them). The window itself
// never navigates: the shell refuses any page but the app's own (src-tauri/src/navigation.rs).

/** What clicking a link does. */
export type LinkDestination =
  // Out of the app: opened in the OS browser (or mail client) once the learner confirms.
  | { kind: "external"; url: string }
  // A heading or anchor of the same page: scrolled to, in the app.
  | { kind: "in-page"; fragment: string }
  // Another lesson of the same course, written as the author's editor sees it: a relative link
  // to its file in the course package (`02-next.md`, `../02-branches/01-make-one.md`),
  // opened in the app (see lessonOfLink).
  | { kind: "lesson"; path: string; fragment: string | null }
  // A document the lesson links to on the server (a PDF, a data file): downloaded with the
  // course, opened in the learner's own application (open_attachment).
  | { kind: "attachment"; url: string };

// The kinds of documents a lesson may link to (as the engine's ATTACHMENT_EXTENSIONS).
const ATTACHMENT = /^\/media\/(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(?:pdf|txt|csv|zip|json|odt|ods)$/i;

const EXTERNAL_SCHEMES = new Set(["http:", "https:", "mailto:"]);

// A lesson file's path: `name.md`, `./name.md` or `../folder/name.md`, names of plain
// characters only (no scheme, no query, nothing above the course's folder).
const LESSON_PATH = /^(?:\.\/)?(?:\.\.\/[A-Za-z0-9_.-]+\/)?[A-Za-z0-9_-][A-Za-z0-9_.-]*\.md$/;

/** The destination of `href`, or null for anything the app will not follow. */
export function linkDestination(href: string | null | undefined): LinkDestination | null {
  const raw = (href ?? "").trim();
  if (raw.startsWith("#")) {
    return raw.length > 1 ? { kind: "in-page", fragment: decodeURIComponent(raw.slice(1)) } : null;
  }
  if (ATTACHMENT.test(raw) && !raw.includes("/../")) return { kind: "attachment", url: raw };
  const [path, fragment = null] = raw.split(/#(.*)/s, 2);
  if (LESSON_PATH.test(path) && !path.includes("/../") && !/\/\.\.?\//.test(path.replace(/^\.\.?\//, ""))) {
    return { kind: "lesson", path, fragment: fragment ? decodeURIComponent(fragment) : null };
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

/** A module of the course and its lessons, by their package names (see LinkDestination). */
export interface LinkableModule {
  slug: string | null;
  lessons: { id: string; slug: string | null }[];
}

/** A package name without its order prefix (`01-welcome` → `welcome`), as the package does. */
function withoutPrefix(name: string): string {
  const dash = name.indexOf("-");
  return dash < 0 ? name : name.slice(dash + 1);
}

/** The lesson a relative lesson link leads to, from the lesson `fromLessonId` (whose module the
 *  path is relative to); null when the course has no such lesson. */
export function lessonOfLink(path: string, fromLessonId: string, modules: LinkableModule[]): string | null {
  const here = modules.find((m) => m.lessons.some((l) => l.id === fromLessonId));
  if (!here) return null;
  const parts = path.split("/").filter((p) => p !== ".");
  let module: string | null = here.slug;
  if (parts[0] === "..") {
    if (parts.length !== 3) return null;
    module = withoutPrefix(parts[1]);
    parts.splice(0, 2);
  }
  if (parts.length !== 1 || module === null) return null;
  const lesson = withoutPrefix(parts[0].replace(/\.md$/, ""));
  return modules.find((m) => m.slug === module)?.lessons.find((l) => l.slug === lesson)?.id ?? null;
}

/** The event a click on a lesson link raises on the window; the lesson screen opens it. */
export const LESSON_LINK_EVENT = "skilltrack-lesson-link";
