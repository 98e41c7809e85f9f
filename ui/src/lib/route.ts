// Which screen is showing. Plain data, so history is a list of these.
import type { PreviewStatus } from "../bindings/PreviewStatus";

export type Route =
  | { screen: "catalog" }
  | { screen: "course"; courseId: string }
  | { screen: "lesson"; courseId: string; lessonId: string }
  | { screen: "learning" }
  | { screen: "settings" }
  | { screen: "quiz"; courseId: string; assessmentId: string }
  | { screen: "notifications" }
  // The instructor's screens; previews show the learner screens over a draft, with a banner.
  | { screen: "instructor" }
  | { screen: "grading" }
  | { screen: "preview-course"; courseId: string }
  | { screen: "preview-lesson"; courseId: string; lessonId: string }
  // A course folder on this computer, previewed with no server (signed in or not).
  | { screen: "package-preview"; opened: PreviewStatus }
  // Labs: the list (from the cache) and a lab's page with its terminal and files; an
  // instructor watching a learner's session opens it read-only.
  | { screen: "labs" }
  | { screen: "lab"; labId: string; watchSessionId?: string };
