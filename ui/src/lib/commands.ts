// The app's commands, typed with the Rust types exported to ../bindings (never retyped here).
// Tauri maps these camelCase argument names to the commands' snake_case parameters.
import { invoke } from "@tauri-apps/api/core";
import type { Account } from "../bindings/Account";
import type { CatalogQuery } from "../bindings/CatalogQuery";
import type { CourseCard } from "../bindings/CourseCard";
import type { CourseScreen } from "../bindings/CourseScreen";
import type { DownloadRecord } from "../bindings/DownloadRecord";
import type { LaunchState } from "../bindings/LaunchState";
import type { LearningItem } from "../bindings/LearningItem";
import type { LessonPage } from "../bindings/LessonPage";
import type { SettingsPage } from "../bindings/SettingsPage";

export const commands = {
  launchState: () => invoke<LaunchState>("launch_state"),
  signIn: (email: string, password: string) => invoke<Account>("sign_in", { email, password }),
  signOut: () => invoke<null>("sign_out"),
  syncNow: () => invoke<null>("sync_now"),
  setServer: (url: string) => invoke<LaunchState>("set_server", { url }),
  catalog: (query: CatalogQuery) => invoke<CourseCard[]>("catalog", { query }),
  coursePage: (courseId: string) => invoke<CourseScreen>("course_page", { courseId }),
  lesson: (lessonId: string) => invoke<LessonPage>("lesson", { lessonId }),
  completeLesson: (lessonId: string) => invoke<null>("complete_lesson", { lessonId }),
  setBookmark: (courseId: string, on: boolean) => invoke<null>("set_bookmark", { courseId, on }),
  myLearning: () => invoke<LearningItem[]>("my_learning"),
  downloadLessonMedia: (lessonId: string) =>
    invoke<DownloadRecord>("download_lesson_media", { lessonId }),
  settings: () => invoke<SettingsPage>("settings"),
};

/** The events the app sends, and their payload types. */
export const SYNC_STATUS_EVENT = "sync-status";
export const DOWNLOAD_PROGRESS_EVENT = "download-progress";
