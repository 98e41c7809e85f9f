// Where the learner screens (Catalog, Course, Lesson, Quiz) get their data: the app's commands
// over the offline cache, or, inside a package preview, the package on disk (previewSource).
// A screen asks with learnerSource(); the preview screen provides its own with provideSource().
import { getContext, setContext } from "svelte";
import { commands } from "./commands";
import { t, type MessageKey } from "./i18n";

/** What the learner screens read and write. */
export type LearnerSource = Pick<
  typeof commands,
  | "catalog"
  | "coursePage"
  | "lesson"
  | "completeLesson"
  | "setBookmark"
  | "enroll"
  | "syncNow"
  | "reviewCourse"
  | "recordVideoPosition"
  | "downloadLessonMedia"
  | "mediaUrl"
  | "streamedExtras"
  | "quiz"
  | "startAttempt"
  | "saveAnswer"
  | "submitAttempt"
  | "discardAttempt"
  | "attemptResult"
  | "courseBySlug"
>;

const KEY = Symbol("learner-source");

/** The source of the screen's nearest provider, else the app's commands. */
export function learnerSource(): LearnerSource {
  return getContext<LearnerSource | undefined>(KEY) ?? commands;
}

/** Makes `source` the one the screens below this component read from. */
export function provideSource(source: LearnerSource): void {
  setContext(KEY, source);
}

/** Refused in a preview, which records nothing (progress, bookmarks, enrolling, reviews): why,
 *  in the app's language at the time of asking. */
function notInPreview(why: MessageKey): Promise<never> {
  return Promise.reject({ code: "preview", message: t(why) });
}

/**
 * The package preview's source: every read answered from the package on disk, quizzes taken
 * and graded in memory (src-tauri/src/commands/package_preview.rs); nothing reaches the cache
 * or the network.
 */
export function previewSource(c: typeof commands = commands): LearnerSource {
  return {
    catalog: () => c.previewCatalog(),
    coursePage: () => c.previewCoursePage(),
    lesson: (lessonId) => c.previewLesson(lessonId),
    completeLesson: () => notInPreview("package_preview.no_progress"),
    setBookmark: () => notInPreview("package_preview.no_bookmark"),
    enroll: () => notInPreview("package_preview.no_enrolling"),
    syncNow: () => Promise.resolve(null),
    reviewCourse: () => notInPreview("package_preview.no_review"),
    recordVideoPosition: () => Promise.resolve(0),
    downloadLessonMedia: () => notInPreview("package_preview.no_streaming"),
    mediaUrl: () => notInPreview("package_preview.no_download"),
    // A preview's lesson carries its own poster and captions.
    streamedExtras: () => Promise.resolve({ poster_url: null, captions: [], pictures: [] }),
    quiz: (assessmentId) => c.previewQuiz(assessmentId),
    startAttempt: (assessmentId) => c.previewStartAttempt(assessmentId),
    saveAnswer: (attemptId, questionId, answer) => c.previewSaveAnswer(attemptId, questionId, answer),
    submitAttempt: (attemptId) => c.previewSubmitAttempt(attemptId),
    discardAttempt: (attemptId) => c.previewDiscardAttempt(attemptId),
    attemptResult: (attemptId) => c.previewAttemptResult(attemptId),
    // A preview has one course: a link to another package is not followed in it.
    courseBySlug: (slug) => c.previewCoursePage().then((p) => (p.card.slug === slug ? p.card.id : null)),
  };
}
