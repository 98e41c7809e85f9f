// The API contract: the server's OpenAPI document and the UI's own bindings (generated from
// the Rust protocol types by ts-rs) describe the same wire, for every route the client engine
// (src-tauri/client) calls. Nothing here runs: `npm run contract` generates
// `generated/openapi.ts` from the document (`skilltrack-server openapi`) with openapi-typescript
// and type-checks this file, so a drift between the two descriptions fails to compile.
// `scripts/test-all` runs it. Decisions 262 and 263 say what is covered, how, and what it found.

import type { components, paths } from "./generated/openapi";

import type { AnswerEntry } from "../bindings/AnswerEntry";
import type { AnswerSave } from "../bindings/AnswerSave";
import type { Attempt } from "../bindings/Attempt";
import type { AttemptStart } from "../bindings/AttemptStart";
import type { AttemptSubmission } from "../bindings/AttemptSubmission";
import type { CertificateCredential } from "../bindings/CertificateCredential";
import type { CertificateList } from "../bindings/CertificateList";
import type { CertificateVerification } from "../bindings/CertificateVerification";
import type { CheckRequest } from "../bindings/CheckRequest";
import type { CheckResult } from "../bindings/CheckResult";
import type { ContentUpload } from "../bindings/ContentUpload";
import type { CourseDetail } from "../bindings/CourseDetail";
import type { DesktopUpdate } from "../bindings/DesktopUpdate";
import type { CoursePage } from "../bindings/CoursePage";
import type { CoursePush } from "../bindings/CoursePush";
import type { CoursePushReport } from "../bindings/CoursePushReport";
import type { Enrollment } from "../bindings/Enrollment";
import type { EnrollmentList } from "../bindings/EnrollmentList";
import type { GradingQueue } from "../bindings/GradingQueue";
import type { IssuerDocument } from "../bindings/IssuerDocument";
import type { JwkSet } from "../bindings/JwkSet";
import type { LabProgress } from "../bindings/LabProgress";
import type { LabSession } from "../bindings/LabSession";
import type { LabSessionList } from "../bindings/LabSessionList";
import type { LabStart } from "../bindings/LabStart";
import type { LabSteps } from "../bindings/LabSteps";
import type { Lesson } from "../bindings/Lesson";
import type { LiveSignal } from "../bindings/LiveSignal";
import type { MakeDirectory } from "../bindings/MakeDirectory";
import type { Mutation } from "../bindings/Mutation";
import type { MutationKind } from "../bindings/MutationKind";
import type { ManualGrade } from "../bindings/ManualGrade";
import type { Problem } from "../bindings/Problem";
import type { Profile } from "../bindings/Profile";
import type { ProgressList } from "../bindings/ProgressList";
import type { ProgressReport } from "../bindings/ProgressReport";
import type { ProgressUpdate } from "../bindings/ProgressUpdate";
import type { PullPage } from "../bindings/PullPage";
import type { PulledCourse } from "../bindings/PulledCourse";
import type { PushRequest } from "../bindings/PushRequest";
import type { PushResponse } from "../bindings/PushResponse";
import type { MailRequestAccepted } from "../bindings/MailRequestAccepted";
import type { PasswordResetRequest } from "../bindings/PasswordResetRequest";
import type { RefreshRequest } from "../bindings/RefreshRequest";
import type { RowChange } from "../bindings/RowChange";
import type { SelfTestReport } from "../bindings/SelfTestReport";
import type { SelfTestRequest } from "../bindings/SelfTestRequest";
import type { Session } from "../bindings/Session";
import type { SignInRequest } from "../bindings/SignInRequest";
import type { SignUpRequest } from "../bindings/SignUpRequest";
import type { WorkspaceListing } from "../bindings/WorkspaceListing";
import type { JsonValue } from "../bindings/serde_json/JsonValue";

// ---- How two descriptions are compared ----

/** `true` when A and B are the same type: same fields, same optionality, same field types. */
export type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** The fields in which two object types differ: missing on one side, or typed differently. */
type Differ<A, B> =
  | Exclude<keyof A, keyof B>
  | Exclude<keyof B, keyof A>
  | { [K in keyof A & keyof B]: Equal<Pick<A, K>, Pick<B, K>> extends true ? never : K }[keyof A &
      keyof B];

/**
 * An answer: the document and the bindings are the same type. `true`, or (in the compiler's
 * message) the fields in which they differ.
 */
type Same<Document, Bindings> =
  Equal<Document, Bindings> extends true
    ? true
    : { differ: Differ<Document, Bindings>; document: Document; bindings: Bindings };

/**
 * A request: whatever the bindings let the UI send, the document accepts, and both name the
 * same fields. The document may accept more (a field the server defaults when absent is
 * optional there, while the bindings always send it).
 */
type Accepts<Document, Bindings> = [Bindings] extends [Document]
  ? Equal<keyof Document, keyof Bindings> extends true
    ? true
    : { fields_differ: Differ<Document, Bindings>; document: Document; bindings: Bindings }
  : { refused: Differ<Document, Bindings>; document: Document; bindings: Bindings };

type Assert<T extends true> = T;
type Schemas = components["schemas"];

type Operation<P extends keyof paths, M extends keyof paths[P]> = NonNullable<paths[P][M]>;

/** The JSON body a route takes. */
type RequestJson<P extends keyof paths, M extends keyof paths[P]> =
  Operation<P, M> extends { requestBody: { content: { "application/json": infer B } } }
    ? B
    : Operation<P, M> extends { requestBody?: { content: { "application/json": infer B } } }
      ? B
      : "no JSON request body";

/** The body a route answers with status S, as content type C. */
type Answer<
  P extends keyof paths,
  M extends keyof paths[P],
  S extends number,
  C extends string = "application/json",
> = Operation<P, M> extends { responses: { [K in S]: { content: { [T in C]: infer R } } } }
  ? R
  : `no ${C} answer with status ${S}`;

/** The query parameters a route takes. */
type Query<P extends keyof paths, M extends keyof paths[P]> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

// ---- Sign-in and sessions (src-tauri/client/src/api.rs, online.rs) ----

export type SignIn = [
  Assert<Accepts<RequestJson<"/api/v1/auth/sign-in", "post">, SignInRequest>>,
  Assert<Same<Answer<"/api/v1/auth/sign-in", "post", 200>, Session>>,
];
export type Refresh = [
  Assert<Accepts<RequestJson<"/api/v1/auth/refresh", "post">, RefreshRequest>>,
  Assert<Same<Answer<"/api/v1/auth/refresh", "post", 200>, Session>>,
];
export type SignUp = [
  Assert<Accepts<RequestJson<"/api/v1/auth/sign-up", "post">, SignUpRequest>>,
  Assert<Same<Answer<"/api/v1/auth/sign-up", "post", 201>, Session>>,
];
export type PasswordReset = [
  Assert<Accepts<RequestJson<"/api/v1/auth/password-reset", "post">, PasswordResetRequest>>,
  Assert<Same<Answer<"/api/v1/auth/password-reset", "post", 202>, MailRequestAccepted>>,
];
export type Me = [Assert<Same<Answer<"/api/v1/me", "get", 200>, Profile>>];

// ---- Offline sync (api.rs): the catalog, lessons, progress and enrollments arrive as pulled rows ----

// A pulled row's columns are any JSON object: `Record<string, unknown>` in the document,
// `{ [key in string]?: JsonValue }` in the bindings, absent (never null) for a delete.
type Pulled = Answer<"/api/v1/sync/pull", "get", 200>;
export type SyncPull = [
  Assert<Same<Omit<Pulled, "changes">, Omit<PullPage, "changes">>>,
  Assert<Same<Pulled["changes"], Array<Schemas["RowChange"]>>>,
  Assert<Same<Omit<Schemas["RowChange"], "row">, Omit<RowChange, "row">>>,
  Assert<Same<Schemas["RowChange"]["row"], Record<string, unknown> | undefined>>,
  Assert<Same<RowChange["row"], { [key in string]?: JsonValue } | undefined>>,
  Assert<Equal<keyof Query<"/api/v1/sync/pull", "get">, "cursor" | "limit">>,
];
export type SyncPush = [
  Assert<Accepts<RequestJson<"/api/v1/sync/push", "post">, PushRequest>>,
  Assert<Accepts<Schemas["Mutation"], Mutation>>,
  // The same kinds of offline write, each accepted as the bindings write it.
  Assert<Same<Schemas["MutationKind"]["kind"], MutationKind["kind"]>>,
  Assert<Accepts<Schemas["MutationKind"], MutationKind>>,
  Assert<Same<Answer<"/api/v1/sync/push", "post", 200>, PushResponse>>,
];
export type SyncLive = [
  // Each event is `pull`, its data the JSON text of a LiveSignal (the document's
  // `contentSchema`, which is not a TypeScript type: the schema itself is compared).
  Assert<Same<Answer<"/api/v1/sync/live", "get", 200, "text/event-stream">["event"], "pull">>,
  Assert<Same<Schemas["LiveSignal"], LiveSignal>>,
];

// ---- Online actions (online.rs): enrollment and online attempts ----

export type Enroll = [
  Assert<Same<Answer<"/api/v1/courses/{id}/enrollment", "post", 201>, Enrollment>>,
];
export type StartAttempt = [
  Assert<Accepts<RequestJson<"/api/v1/assessments/{id}/attempts", "post">, AttemptStart>>,
  Assert<Same<Answer<"/api/v1/assessments/{id}/attempts", "post", 200>, Attempt>>,
  Assert<Same<Answer<"/api/v1/assessments/{id}/attempts", "post", 201>, Attempt>>,
];
export type SaveAnswer = [
  Assert<Accepts<RequestJson<"/api/v1/attempts/{id}/answers/{question}", "put">, AnswerSave>>,
  Assert<Same<Answer<"/api/v1/attempts/{id}/answers/{question}", "put", 200>, AnswerEntry>>,
];
export type Submit = [
  Assert<Accepts<RequestJson<"/api/v1/attempts/{id}/submission", "put">, AttemptSubmission>>,
  Assert<Same<Answer<"/api/v1/attempts/{id}/submission", "put", 200>, Attempt>>,
];
export type GetAttempt = [Assert<Same<Answer<"/api/v1/attempts/{id}", "get", 200>, Attempt>>];

// ---- Authoring (authoring.rs, course_packages.rs) ----

export type Publish = [
  Assert<Same<Answer<"/api/v1/authoring/courses/{id}/publish", "post", 200>, CourseDetail>>,
  Assert<Same<Answer<"/api/v1/authoring/courses/{id}/unpublish", "post", 200>, CourseDetail>>,
];
export type Grading = [
  Assert<Same<Answer<"/api/v1/authoring/grading-queue", "get", 200>, GradingQueue>>,
  Assert<Equal<keyof Query<"/api/v1/authoring/grading-queue", "get">, "course" | "limit">>,
  Assert<Accepts<RequestJson<"/api/v1/authoring/answers/{id}/grade", "put">, ManualGrade>>,
  Assert<Same<Answer<"/api/v1/authoring/answers/{id}/grade", "put", 200>, Attempt>>,
];
export type CoursePackages = [
  Assert<Accepts<RequestJson<"/api/v1/authoring/course-packages", "put">, CoursePush>>,
  Assert<Same<Answer<"/api/v1/authoring/course-packages", "put", 200>, CoursePushReport>>,
  // The pulled tree is the package format the push takes: the document states its defaulted
  // fields (a question's points, a quiz's passing score...) as optional for both.
  Assert<
    Same<
      Omit<Answer<"/api/v1/authoring/course-packages/{course}", "get", 200>, "tree">,
      Omit<PulledCourse, "tree">
    >
  >,
  Assert<
    Accepts<Answer<"/api/v1/authoring/course-packages/{course}", "get", 200>["tree"], PulledCourse["tree"]>
  >,
  Assert<Same<Answer<"/api/v1/uploads", "post", 201>, ContentUpload>>,
  Assert<Equal<keyof Query<"/api/v1/uploads", "post">, "filename" | "entity_type" | "entity_id">>,
];

// ---- Certificates (certificates.rs) ----

export type Certificates = [
  Assert<Same<Answer<"/api/v1/certificates/issuer", "get", 200>, IssuerDocument>>,
  Assert<Same<Answer<"/.well-known/jwks.json", "get", 200>, JwkSet>>,
  Assert<Same<Answer<"/api/v1/certificates/status/{list}", "get", 200, "application/vc+jwt">, string>>,
  Assert<Same<Answer<"/api/v1/me/certificates/{id}/credential", "get", 200>, CertificateCredential>>,
  Assert<Same<Answer<"/api/v1/me/certificates", "get", 200>, CertificateList>>,
  Assert<Same<Answer<"/api/v1/certificates/{number}", "get", 200>, CertificateVerification>>,
];

// ---- Labs (labs.rs) ----

export type Labs = [
  Assert<Same<Answer<"/api/v1/me/lab-sessions", "get", 200>, LabSessionList>>,
  Assert<Equal<keyof Query<"/api/v1/me/lab-sessions", "get">, "live">>,
  Assert<Same<Answer<"/api/v1/lab-sessions/{id}", "get", 200>, LabSession>>,
  Assert<Same<Answer<"/api/v1/labs/{id}/steps", "get", 200>, LabSteps>>,
  Assert<Accepts<RequestJson<"/api/v1/lab-sessions/{id}/check", "post">, CheckRequest>>,
  Assert<Same<Answer<"/api/v1/lab-sessions/{id}/check", "post", 200>, CheckResult>>,
  Assert<Accepts<RequestJson<"/api/v1/authoring/lab-self-tests", "post">, SelfTestRequest>>,
  Assert<Same<Answer<"/api/v1/authoring/lab-self-tests", "post", 200>, SelfTestReport>>,
  Assert<Accepts<RequestJson<"/api/v1/labs/{id}/sessions", "post">, LabStart>>,
  Assert<Same<Answer<"/api/v1/labs/{id}/sessions", "post", 201>, LabSession>>,
  Assert<Same<Answer<"/api/v1/lab-sessions/{id}/pause", "post", 200>, LabSession>>,
  Assert<Same<Answer<"/api/v1/lab-sessions/{id}/resume", "post", 200>, LabSession>>,
  Assert<Same<Answer<"/api/v1/lab-sessions/{id}/stop", "post", 200>, LabSession>>,
  Assert<Accepts<RequestJson<"/api/v1/lab-sessions/{id}/progress", "put">, LabProgress>>,
  Assert<Same<Answer<"/api/v1/lab-sessions/{id}/progress", "put", 200>, LabSession>>,
  Assert<Same<Answer<"/api/v1/lab-sessions/{id}/files", "get", 200>, WorkspaceListing>>,
  Assert<Equal<keyof Query<"/api/v1/lab-sessions/{id}/files", "get">, "path">>,
  Assert<Accepts<RequestJson<"/api/v1/lab-sessions/{id}/files/directories", "post">, MakeDirectory>>,
];

// ---- The catalog, lessons and progress online (the same types the pulled rows feed) ----

export type Catalog = [
  Assert<Same<Answer<"/api/v1/courses", "get", 200>, CoursePage>>,
  Assert<Same<Answer<"/api/v1/courses/{id}", "get", 200>, CourseDetail>>,
  Assert<Same<Answer<"/api/v1/lessons/{id}", "get", 200>, Lesson>>,
  Assert<Same<Answer<"/api/v1/me/enrollments", "get", 200>, EnrollmentList>>,
  Assert<Same<Answer<"/api/v1/me/progress", "get", 200>, ProgressList>>,
  Assert<Accepts<RequestJson<"/api/v1/lessons/{id}/progress", "put">, ProgressUpdate>>,
  Assert<Same<Answer<"/api/v1/lessons/{id}/progress", "put", 200>, ProgressReport>>,
];

// ---- Desktop updates (desktop_releases.rs): what Tauri's updater reads ----

export type DesktopUpdates = [
  Assert<
    Same<
      Answer<"/api/v1/desktop/updates/{target}/{arch}/{bundle}/{current_version}", "get", 200>,
      DesktopUpdate
    >
  >,
];

// ---- Errors: every error the client engine reads is a problem document ----

export type Errors = [Assert<Same<Schemas["Problem"], Problem>>];
