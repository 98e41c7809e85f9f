// Where a link in lesson, quiz or lab markdown leads, decided once for the sanitizer (which
// keeps only such links) and for the click handler (which acts on them). The window itself
// never navigates: the shell refuses any page but the app's own (src-tauri/src/navigation.rs).

import { t } from "./i18n";

/** What clicking a link does. */
export type LinkDestination =
  // Out of the app: opened in the OS browser (or mail client) once the learner confirms.
  | { kind: "external"; url: string }
  // A heading or anchor of the same page: scrolled to, in the app.
  | { kind: "in-page"; fragment: string }
  // A lesson or a course, written as the author's editor sees it: a relative link to a file of
  // the course package (`02-next.md`, `../02-branches/01-make-one.md`), or of another package
  // beside it (`../../git-basics/`, `../../git-basics/01-first-steps/02-commit.md`), opened in
  // the app (see readPackagePath and followLink).
  | { kind: "package"; path: string; fragment: string | null }
  // The app's own link (`skilltrack://course/<id>`, as links.rs reads them): opened in the app.
  | { kind: "app"; target: "course" | "lesson" | "lab"; id: string }
  // A document the lesson links to on the server (a PDF, a data file): downloaded with the
  // course, opened in the learner's own application (open_attachment).
  | { kind: "attachment"; url: string };

// The kinds of documents a lesson may link to (as the engine's ATTACHMENT_EXTENSIONS).
const ATTACHMENT = /^\/media\/(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(?:pdf|txt|csv|zip|json|odt|ods)$/i;

const EXTERNAL_SCHEMES = new Set(["http:", "https:", "mailto:"]);

// A path in a course package, or in one beside it: a few `../` (a lab step's text is three
// folders deep), at most two folders, then a lesson file, `course.json` or nothing (a course's
// folder); names of plain characters only (no scheme, no query, no `.` or `..` inside).
const NAME = "[A-Za-z0-9_-][A-Za-z0-9_.-]*";
const PACKAGE_PATH = new RegExp(`^(?:\\./)?(?:\\.\\./){0,4}(?:${NAME}/){0,2}(?:${NAME}\\.md|course\\.json)?$`);

// The app's own links, exactly as links.rs accepts them (one trailing `/`, nothing else).
const APP_LINK = /^skilltrack:\/\/(course|lesson|lab)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i;

/** The destination of `href`, or null for anything the app will not follow. */
export function linkDestination(href: string | null | undefined): LinkDestination | null {
  const raw = (href ?? "").trim();
  if (raw.startsWith("#")) {
    return raw.length > 1 ? { kind: "in-page", fragment: decodeURIComponent(raw.slice(1)) } : null;
  }
  if (ATTACHMENT.test(raw) && !raw.includes("/../")) return { kind: "attachment", url: raw };
  const app = APP_LINK.exec(raw);
  if (app) return { kind: "app", target: app[1].toLowerCase() as "course" | "lesson" | "lab", id: app[2].toLowerCase() };
  const [path, fragment = null] = raw.split(/#(.*)/s, 2);
  if (PACKAGE_PATH.test(path) && readPackagePath(path) !== null) {
    return { kind: "package", path, fragment: fragment ? decodeURIComponent(fragment) : null };
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

/** What a package path names, by package names without their order prefixes. */
export type PackageTarget =
  // A lesson of the course the text is in; `module` null: the linking lesson's own module.
  | { kind: "lesson"; module: string | null; lesson: string }
  // Another package's course (its folder, the course's slug), or one of its lessons.
  | { kind: "course"; course: string; module: string | null; lesson: string | null };

/**
 * Reads a relative link of lesson, quiz or lab text. The layout of a package says what it
 * names, whatever the depth of the file it is written in (a lesson is in a module's folder,
 * an assessment in `assessments/`, a lab's step in `labs/<lab>/<step>/`): a bare `name.md` is
 * a lesson beside the linking one; `../module/name.md` a lesson of the course;
 * `../../course/module/name.md` a lesson of the package `course` beside this one, and
 * `../../course/` or `../../course/course.json` that course. Null for anything else.
 */
export function readPackagePath(path: string): PackageTarget | null {
  const parts = path.split("/");
  if (parts[0] === ".") parts.shift();
  let ups = 0;
  while (parts[0] === "..") {
    ups++;
    parts.shift();
  }
  const folder = parts.length > 0 && parts[parts.length - 1] === "";
  if (folder) parts.pop();
  if (parts.length === 0 || parts.some((p) => p === "" || p === "." || p === "..")) return null;
  const last = parts[parts.length - 1];
  if (folder || last === "course.json") {
    const course = parts.length === (folder ? 1 : 2) && ups >= 1 ? parts[0] : null;
    return course ? { kind: "course", course, module: null, lesson: null } : null;
  }
  if (!last.endsWith(".md")) return null;
  const lesson = withoutPrefix(last.slice(0, -3));
  if (parts.length === 1) return ups === 0 ? { kind: "lesson", module: null, lesson } : null;
  if (parts.length === 2) return ups >= 1 ? { kind: "lesson", module: withoutPrefix(parts[0]), lesson } : null;
  if (parts.length === 3 && ups >= 2) {
    return { kind: "course", course: parts[0], module: withoutPrefix(parts[1]), lesson };
  }
  return null;
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

/** The lesson `lesson` of module `module` (null: the module of `fromLessonId`), or null. */
function lessonIn(modules: LinkableModule[], module: string | null, lesson: string, fromLessonId: string | null): string | null {
  const slug = module ?? modules.find((m) => m.lessons.some((l) => l.id === fromLessonId))?.slug ?? null;
  if (slug === null) return null;
  return modules.find((m) => m.slug === slug)?.lessons.find((l) => l.slug === lesson)?.id ?? null;
}

/** The lesson a relative lesson link leads to, from the lesson `fromLessonId` (whose module the
 *  path is relative to); null when the course has no such lesson. */
export function lessonOfLink(path: string, fromLessonId: string, modules: LinkableModule[]): string | null {
  const target = readPackagePath(path);
  if (target?.kind !== "lesson") return null;
  return lessonIn(modules, target.module, target.lesson, fromLessonId);
}

/** Where the text with the link is: the courses to look in for a lesson of "this course" (a
 *  lesson's or a quiz's course; a lab's related courses, in order) and the linking lesson. */
export interface LinkPlace {
  courseIds: string[];
  lessonId: string | null;
}

/** What the screens need to follow a link: the course pages, a course by its slug, a lesson. */
export interface LinkSource {
  coursePage: (courseId: string) => Promise<{ modules: LinkableModule[] }>;
  courseBySlug: (slug: string) => Promise<string | null>;
  lesson: (lessonId: string) => Promise<{ course_id: string }>;
}

/** Where following a link goes, or why it cannot. */
export type LinkTarget =
  | { kind: "course"; courseId: string }
  | { kind: "lesson"; courseId: string; lessonId: string }
  | { kind: "lab"; labId: string }
  | { kind: "refused"; message: string };

/** Where the package or app link `link`, in text at `place`, leads on this device. */
export async function followLink(
  link: Extract<LinkDestination, { kind: "package" | "app" }>,
  place: LinkPlace,
  source: LinkSource,
): Promise<LinkTarget> {
  if (link.kind === "app") {
    if (link.target === "course") return { kind: "course", courseId: link.id };
    if (link.target === "lab") return { kind: "lab", labId: link.id };
    const lesson = await source.lesson(link.id).catch(() => null);
    return lesson
      ? { kind: "lesson", courseId: lesson.course_id, lessonId: link.id }
      : { kind: "refused", message: t("links.not_here", { link: `skilltrack://lesson/${link.id}` }) };
  }
  const target = readPackagePath(link.path);
  const noSuchLesson: LinkTarget = { kind: "refused", message: t("lesson.no_such_lesson", { path: link.path }) };
  if (target === null) return noSuchLesson;
  if (target.kind === "lesson") {
    for (const courseId of place.courseIds) {
      const page = await source.coursePage(courseId).catch(() => null);
      const lessonId = page ? lessonIn(page.modules, target.module, target.lesson, place.lessonId) : null;
      if (lessonId) return { kind: "lesson", courseId, lessonId };
    }
    return noSuchLesson;
  }
  const courseId = await source.courseBySlug(target.course).catch(() => null);
  if (!courseId) return { kind: "refused", message: t("links.no_such_course", { course: target.course }) };
  if (target.lesson !== null) {
    // Not enrolled, the course's lessons are not here: its page opens, to enroll from.
    const page = await source.coursePage(courseId).catch(() => null);
    const lessonId = page ? lessonIn(page.modules, target.module, target.lesson, null) : null;
    if (lessonId) return { kind: "lesson", courseId, lessonId };
  }
  return { kind: "course", courseId };
}

/** The event a click on a package, app or attachment link raises on the window; the screen
 *  showing the text follows it (it knows where the text is). */
export const COURSE_LINK_EVENT = "skilltrack-course-link";

/** Follows the course links clicked while a screen shows its text: `place` says where the text
 *  is (null: not known yet), `onTarget` opens what the link leads to. Answers the unsubscribe. */
export function followCourseLinks(
  place: () => LinkPlace | null,
  source: LinkSource,
  onTarget: (target: LinkTarget) => void,
  onAttachment?: (url: string) => void,
): () => void {
  const handler = (e: Event) => {
    const link = (e as CustomEvent<LinkDestination>).detail;
    if (link.kind === "attachment") {
      onAttachment?.(link.url);
      return;
    }
    const here = place();
    if ((link.kind !== "package" && link.kind !== "app") || !here) return;
    void followLink(link, here, source).then(onTarget);
  };
  window.addEventListener(COURSE_LINK_EVENT, handler);
  return () => window.removeEventListener(COURSE_LINK_EVENT, handler);
}
