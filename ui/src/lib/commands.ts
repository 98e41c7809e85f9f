// The app's commands, typed with the Rust types exported to ../bindings (never retyped here).
// Tauri maps these camelCase argument names to the commands' snake_case parameters.
import { invoke, type Channel } from "@tauri-apps/api/core";
import type { Account } from "../bindings/Account";
import type { CatalogQuery } from "../bindings/CatalogQuery";
import type { CourseCard } from "../bindings/CourseCard";
import type { CourseScreen } from "../bindings/CourseScreen";
import type { DownloadRecord } from "../bindings/DownloadRecord";
import type { LaunchState } from "../bindings/LaunchState";
import type { MyLearningPage } from "../bindings/MyLearningPage";
import type { LessonPage } from "../bindings/LessonPage";
import type { Preferences } from "../bindings/Preferences";
import type { CourseDownloadPlan } from "../bindings/CourseDownloadPlan";
import type { OfflineCourse } from "../bindings/OfflineCourse";
import type { NextLessonsState } from "../bindings/NextLessonsState";
import type { StreamedExtras } from "../bindings/StreamedExtras";
import type { SettingsPage } from "../bindings/SettingsPage";
import type { UpdateStatus } from "../bindings/UpdateStatus";
import type { AnswerValue } from "../bindings/AnswerValue";
import type { AttemptItem } from "../bindings/AttemptItem";
import type { NotificationsPage } from "../bindings/NotificationsPage";
import type { OpenAttempt } from "../bindings/OpenAttempt";
import type { QuizResult } from "../bindings/QuizResult";
import type { QuizScreen } from "../bindings/QuizScreen";
import type { Attempt } from "../bindings/Attempt";
import type { CourseDetail } from "../bindings/CourseDetail";
import type { GradingQueue } from "../bindings/GradingQueue";
import type { InstructorCourse } from "../bindings/InstructorCourse";
import type { LabQuery } from "../bindings/LabQuery";
import type { LabScreen } from "../bindings/LabScreen";
import type { LabSession } from "../bindings/LabSession";
import type { LabSteps } from "../bindings/LabSteps";
import type { LabSummary } from "../bindings/LabSummary";
import type { CheckResult } from "../bindings/CheckResult";
import type { SelfTestReport } from "../bindings/SelfTestReport";
import type { LabsScreen } from "../bindings/LabsScreen";
import type { SavedFile } from "../bindings/SavedFile";
import type { CertificateCheck } from "../bindings/CertificateCheck";
import type { TerminalMessage } from "../bindings/TerminalMessage";
import type { WorkspaceListing } from "../bindings/WorkspaceListing";
import type { PreviewLab } from "../bindings/PreviewLab";
import type { PreviewPush } from "../bindings/PreviewPush";
import type { PreviewStatus } from "../bindings/PreviewStatus";
import type { OpenedAttachment } from "../bindings/OpenedAttachment";
import type { OpenedLink } from "../bindings/OpenedLink";

export const commands = {
  launchState: () => invoke<LaunchState>("launch_state"),
  signIn: (email: string, password: string) => invoke<Account>("sign_in", { email, password }),
  signOut: () => invoke<null>("sign_out"),
  syncNow: () => invoke<null>("sync_now"),
  setServer: (url: string) => invoke<LaunchState>("set_server", { url }),
  catalog: (query: CatalogQuery) => invoke<CourseCard[]>("catalog", { query }),
  coursePage: (courseId: string) => invoke<CourseScreen>("course_page", { courseId }),
  lesson: (lessonId: string) => invoke<LessonPage>("lesson", { lessonId }),
  /** A streamed video's poster and captions, fetched online (kept nowhere). */
  streamedExtras: (lessonId: string) => invoke<StreamedExtras>("streamed_extras", { lessonId }),
  preferences: () => invoke<Preferences>("preferences"),
  setPreferences: (preferences: Preferences) => invoke<null>("set_preferences", { preferences }),
  // Courses kept offline: the size first, then a background queue (see offline_queue.rs).
  courseDownloadPlan: (courseId: string, moduleId: string | null) =>
    invoke<CourseDownloadPlan>("course_download_plan", { courseId, moduleId }),
  keepCourseOffline: (courseId: string, moduleId: string | null) =>
    invoke<null>("keep_course_offline", { courseId, moduleId }),
  openAttachment: (lessonId: string, url: string) => invoke<OpenedAttachment>("open_attachment", { lessonId, url }),
  pauseCourseDownload: (courseId: string, paused: boolean) =>
    invoke<null>("pause_course_download", { courseId, paused }),
  deleteCourseDownloads: (courseId: string) => invoke<number>("delete_course_downloads", { courseId }),
  offlineCourses: () => invoke<OfflineCourse[]>("offline_courses"),
  nextLessonsState: () => invoke<NextLessonsState | null>("next_lessons_state"),
  courseBySlug: (slug: string) => invoke<string | null>("course_by_slug", { slug }),
  completeLesson: (lessonId: string) => invoke<null>("complete_lesson", { lessonId }),
  setBookmark: (courseId: string, on: boolean) => invoke<null>("set_bookmark", { courseId, on }),
  myLearning: () => invoke<MyLearningPage>("my_learning"),
  // The certificate's signed credential, from the offline cache: saved into the downloads
  // directory, or verified against the issuer's keys cached at the last sync.
  saveCertificate: (certificateId: string, format: "json" | "pdf" | "png") =>
    invoke<SavedFile>("save_certificate", { certificateId, format }),
  verifyCertificate: (certificateId: string) => invoke<CertificateCheck>("verify_certificate", { certificateId }),
  downloadLessonMedia: (lessonId: string) =>
    invoke<DownloadRecord>("download_lesson_media", { lessonId }),
  settings: () => invoke<SettingsPage>("settings"),
  /** Opens the folder of the app's log file in the file manager. */
  openLogFolder: () => invoke<null>("open_log_folder"),
  /** Whether the server offers a newer version of the app (updates.rs). */
  checkForUpdate: () => invoke<UpdateStatus>("check_for_update"),
  /** Installs the update the last check found; the app restarts into it (answers only on failure). */
  installUpdate: () => invoke<null>("install_update"),
  /** The skilltrack:// links handed to the app since last asked (see links.rs). */
  openedLinks: () => invoke<OpenedLink[]>("opened_links"),
  // Learner: enrolling and signing up need the server; reviews and notifications work offline.
  /** Asks the server to mail a password reset link; answers the server's words to show. */
  requestPasswordReset: (email: string) => invoke<string>("request_password_reset", { email }),
  signUp: (email: string, password: string, fullName: string) =>
    invoke<Account>("sign_up", { email, password, fullName }),
  enroll: (courseId: string) => invoke<null>("enroll", { courseId }),
  reviewCourse: (courseId: string, rating: number, reviewText: string | null) =>
    invoke<null>("review_course", { courseId, rating, reviewText }),
  recordVideoPosition: (lessonId: string, positionSeconds: number, durationSeconds: number) =>
    invoke<number>("record_video_position", { lessonId, positionSeconds, durationSeconds }),
  notifications: () => invoke<NotificationsPage>("notifications"),
  unreadNotifications: () => invoke<number>("unread_notifications"),
  markNotificationRead: (notificationId: string) =>
    invoke<null>("mark_notification_read", { notificationId }),
  markAllNotificationsRead: () => invoke<null>("mark_all_notifications_read"),
  // Quizzes: untimed ones are taken on this device (offline too), timed ones on the server.
  quiz: (assessmentId: string) => invoke<QuizScreen>("quiz", { assessmentId }),
  startAttempt: (assessmentId: string) => invoke<OpenAttempt>("start_attempt", { assessmentId }),
  saveAnswer: (attemptId: string, questionId: string, answer: AnswerValue) =>
    invoke<null>("save_answer", { attemptId, questionId, answer }),
  submitAttempt: (attemptId: string) => invoke<AttemptItem>("submit_attempt", { attemptId }),
  discardAttempt: (attemptId: string) => invoke<null>("discard_attempt", { attemptId }),
  attemptResult: (attemptId: string) => invoke<QuizResult>("attempt_result", { attemptId }),
  // Instructor: the list reads the cache; publishing and grading are online only.
  instructorCourses: () => invoke<InstructorCourse[]>("instructor_courses"),
  publishCourse: (courseId: string) => invoke<CourseDetail>("publish_course", { courseId }),
  unpublishCourse: (courseId: string) => invoke<CourseDetail>("unpublish_course", { courseId }),
  gradingQueue: () => invoke<GradingQueue>("grading_queue"),
  gradeAnswer: (answerId: string, points: number, feedback: string | null) =>
    invoke<Attempt>("grade_answer", { answerId, points, feedback }),
  mediaUrl: (path: string) => invoke<string>("media_url", { path }),
  catalogInteractive: (cards: number) => invoke<null>("catalog_interactive", { cards }),
  // Labs: the catalog reads the cache; sessions, files and the terminal need the server.
  labs: (query: LabQuery) => invoke<LabsScreen>("labs", { query }),
  labPage: (labId: string) => invoke<LabScreen>("lab_page", { labId }),
  labLiveSession: (labId: string) => invoke<LabSession | null>("lab_live_session", { labId }),
  labSession: (sessionId: string) => invoke<LabSession>("lab_session", { sessionId }),
  startLab: (labId: string) => invoke<LabSession>("start_lab", { labId }),
  pauseLab: (sessionId: string) => invoke<LabSession>("pause_lab", { sessionId }),
  resumeLab: (sessionId: string) => invoke<LabSession>("resume_lab", { sessionId }),
  stopLab: (sessionId: string) => invoke<LabSession>("stop_lab", { sessionId }),
  // A lab's steps and their checks (the server runs the verify script in the sandbox).
  labSteps: (labId: string) => invoke<LabSteps>("lab_steps", { labId }),
  checkLabStep: (sessionId: string, stepId: string | null) =>
    invoke<CheckResult>("check_lab_step", { sessionId, stepId }),
  // Instructor: their labs (from the cache) and a lab's self-test in a fresh sandbox.
  instructorLabs: () => invoke<LabSummary[]>("instructor_labs"),
  selfTestLab: (labId: string) => invoke<SelfTestReport>("self_test_lab", { labId }),
  labFiles: (sessionId: string, path: string) => invoke<WorkspaceListing>("lab_files", { sessionId, path }),
  labMakeDirectory: (sessionId: string, path: string) => invoke<null>("lab_make_directory", { sessionId, path }),
  labDeleteFile: (sessionId: string, path: string) => invoke<null>("lab_delete_file", { sessionId, path }),
  // The file's bytes go as the raw body; headers carry ASCII only, hence the encoded path.
  labUploadFile: (sessionId: string, path: string, bytes: Uint8Array) =>
    invoke<null>("lab_upload_file", bytes, {
      headers: { "x-session-id": sessionId, "x-path": encodeURIComponent(path) },
    }),
  labDownloadFile: (sessionId: string, path: string) => invoke<SavedFile>("lab_download_file", { sessionId, path }),
  openTerminal: (sessionId: string, onEvent: Channel<TerminalMessage | ArrayBuffer>) =>
    invoke<string>("open_terminal", { sessionId, onEvent }),
  terminalInput: (terminalId: string, data: string) => invoke<null>("terminal_input", { terminalId, data }),
  terminalResize: (terminalId: string, cols: number, rows: number) =>
    invoke<null>("terminal_resize", { terminalId, cols, rows }),
  closeTerminal: (terminalId: string) => invoke<null>("close_terminal", { terminalId }),
  // The local preview of a course folder: read from disk, quizzes graded in memory, no server.
  openPackagePreview: (folder: string) => invoke<PreviewStatus>("open_package_preview", { folder }),
  pickPackageFolder: () => invoke<string | null>("pick_package_folder"),
  closePackagePreview: () => invoke<null>("close_package_preview"),
  packagePreviewStatus: () => invoke<PreviewStatus | null>("package_preview_status"),
  previewCatalog: () => invoke<CourseCard[]>("preview_catalog"),
  previewCoursePage: () => invoke<CourseScreen>("preview_course_page"),
  previewLesson: (lessonId: string) => invoke<LessonPage>("preview_lesson", { lessonId }),
  previewQuiz: (assessmentId: string) => invoke<QuizScreen>("preview_quiz", { assessmentId }),
  previewStartAttempt: (assessmentId: string) => invoke<OpenAttempt>("preview_start_attempt", { assessmentId }),
  previewSaveAnswer: (attemptId: string, questionId: string, answer: AnswerValue) =>
    invoke<null>("preview_save_answer", { attemptId, questionId, answer }),
  previewSubmitAttempt: (attemptId: string) => invoke<AttemptItem>("preview_submit_attempt", { attemptId }),
  previewDiscardAttempt: (attemptId: string) => invoke<null>("preview_discard_attempt", { attemptId }),
  previewAttemptResult: (attemptId: string) => invoke<QuizResult>("preview_attempt_result", { attemptId }),
  previewLab: (labId: string) => invoke<PreviewLab>("preview_lab", { labId }),
  // "Push as draft": the open folder to the signed-in server (`dryRun`: only say what changes).
  pushPackagePreview: (dryRun: boolean) => invoke<PreviewPush>("push_package_preview", { dryRun }),
};

/** The events the app sends, and their payload types. */
export const SYNC_STATUS_EVENT = "sync-status";
export const DOWNLOAD_PROGRESS_EVENT = "download-progress";
/** The event carrying a course's offline download progress (`CourseDownloadStatus`). */
export const COURSE_DOWNLOAD_EVENT = "course-download";
/** How keeping the next lessons of enrolled courses downloaded stands (offline_queue.rs). */
export const NEXT_LESSONS_EVENT = "next-lessons";
// The package preview read its folder again (a PreviewStatus).
export const PACKAGE_PREVIEW_EVENT = "package-preview";
// The shell refused to take the window to another page (src-tauri/src/navigation.rs).
export const NAVIGATION_REFUSED_EVENT = "navigation-refused";
// Links wait to be taken with openedLinks (src-tauri/src/links.rs).
export const LINK_OPENED_EVENT = "link-opened";
/** A desktop notification without a screen of its own was clicked (os_notifications.rs). */
export const NOTIFICATION_CLICKED_EVENT = "notification-clicked";
