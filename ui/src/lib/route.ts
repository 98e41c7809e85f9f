// Which screen is showing. Plain data, so history is a list of these.
export type Route =
  | { screen: "catalog" }
  | { screen: "course"; courseId: string }
  | { screen: "lesson"; courseId: string; lessonId: string }
  | { screen: "learning" }
  | { screen: "settings" };
