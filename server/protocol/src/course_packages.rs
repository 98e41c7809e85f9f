//! Courses as code on the wire: a whole course as one tree, what `skilltrack course push`
//! sends and `skilltrack course pull` receives (`docs/course-packages.md`).
//!
//! A tree names things the way a package folder does: modules, lessons and assessments by a
//! slug that is unique beside its siblings, labs and prerequisite courses by their own slugs,
//! the service and lab categories by slug. The server keeps those slugs, so pushing the same
//! folder twice finds the same rows and changes nothing, and a pull writes the same file names.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::assessments::{AssessmentDraft, QuestionDraft};
use crate::authoring::{CourseDraft, LabDraft, LessonDraft, ModuleDraft};
use crate::lab_steps::LabStepsDraft;

/// A course with everything in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CourseTree {
    /// The course. Its `service_id` is ignored on a push (the server resolves `service`), and
    /// its `is_published` state is never set by one (see [`CoursePush::publish`]).
    pub course: CourseDraft,
    /// The service it belongs to, by slug.
    pub service: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Courses to complete first, by slug.
    pub prerequisites: Vec<String>,
    /// Its modules, in order.
    pub modules: Vec<TreeModule>,
    /// Its assessments, in slug order.
    pub assessments: Vec<TreeAssessment>,
    /// The labs its lab lessons open, in slug order.
    pub labs: Vec<TreeLab>,
}

/// A module of a [`CourseTree`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TreeModule {
    /// Unique in the course: the package folder's name without its order prefix.
    pub slug: String,
    /// The module (its `sort_order` and `is_published` are the tree's to set).
    pub module: ModuleDraft,
    /// Its lessons, in order.
    pub lessons: Vec<TreeLesson>,
}

/// A lesson of a [`TreeModule`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TreeLesson {
    /// Unique in the module: the lesson file's name without its order prefix and `.md`.
    pub slug: String,
    /// The lesson (a lab lesson names its lab in `content_url`: `/labs/<slug>`).
    pub lesson: LessonDraft,
    /// A quiz or assignment lesson's assessment, by its slug in [`CourseTree::assessments`].
    #[serde(default)]
    #[ts(optional)]
    pub assessment: Option<String>,
    /// A lesson still being written (`draft: true` in its file): it stays unpublished, hidden
    /// from learners, even when the course is published. The lesson's own `is_published` is
    /// ignored on a push.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub draft: bool,
}

/// An assessment of a [`CourseTree`], with its questions and their keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TreeAssessment {
    /// Unique in the course: the package file's name without `.json`.
    pub slug: String,
    /// The assessment.
    pub assessment: AssessmentDraft,
    /// Its questions, in order.
    pub questions: Vec<QuestionDraft>,
}

/// A lab of a [`CourseTree`] with its steps and scripts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TreeLab {
    /// The lab (`category_id` is ignored: `category` names it; `related_courses` is left as the
    /// server has it).
    pub lab: LabDraft,
    /// Its category, by slug.
    #[serde(default)]
    #[ts(optional)]
    pub category: Option<String>,
    /// Its steps and finish page.
    pub steps: LabStepsDraft,
}

/// `PUT /api/v1/authoring/course-packages`: create or update a course (by its slug) from a
/// tree, as a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CoursePush {
    /// The course.
    pub tree: CourseTree,
    /// The revision this tree was pulled or last pushed at; absent for a course the folder
    /// has never been pushed as. When the course's revision on the server is another one (it
    /// was changed there since), the push is refused with `course_changed_on_server`.
    #[serde(default)]
    #[ts(optional)]
    pub base_revision: Option<String>,
    /// Push over changes made on the server since `base_revision`.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub force: bool,
    /// Only say what would change.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub dry_run: bool,
    /// Publish the course (and its assessments and labs) once written. Without it a push never
    /// changes whether the course is published.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub publish: bool,
}

/// What a push changes (or, in a dry run, would change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChangeAction {
    /// A new row.
    Create,
    /// Fields of a row.
    Update,
    /// A row the tree no longer has.
    Delete,
    /// The course or a lab goes live.
    Publish,
}

/// One change of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PackageChange {
    /// What happens.
    pub action: ChangeAction,
    /// What it happens to, as the package names it: `course intro-to-shell`,
    /// `module getting-started`, `lesson getting-started/welcome`, `assessment quiz`,
    /// `question quiz#2`, `lab first-lab`, `tags`, `prerequisites`, `steps of first-lab`.
    pub item: String,
}

/// The answer to a [`CoursePush`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CoursePushReport {
    /// The course (the nil id in a dry run that would create it).
    pub course_id: Uuid,
    /// The changes, in the order they are made; empty when the server has the tree already.
    pub changes: Vec<PackageChange>,
    /// Whether they were made (false in a dry run).
    pub applied: bool,
    /// The course's revision after the push (before it, in a dry run): the next push's
    /// `base_revision`.
    pub revision: String,
}

/// `GET /api/v1/authoring/course-packages/{id-or-slug}`: a course the caller manages, as a
/// tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PulledCourse {
    /// The course.
    pub course_id: Uuid,
    /// Its revision: a digest of the tree, which any change on the server changes.
    pub revision: String,
    /// Whether it is published.
    pub is_published: bool,
    /// Everything in it.
    pub tree: CourseTree,
}
