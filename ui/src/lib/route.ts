// Which screen is showing. Plain data, so history is a list of these.
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
  // Labs: the list (from the cache) and a lab's page with its terminal and files; an
  // instructor watching a learner's session opens it read-only.
  | { screen: "labs" }
  | { screen: "lab"; labId: string; watchSessionId?: string };
