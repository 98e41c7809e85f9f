//! The catalog: services, courses with their modules and lessons, lab categories, labs, tags.
//! Money and ratings are exact decimals, written as strings (`"49.00"`, `"4.33"`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::enums::DifficultyLevel;
use crate::learning::Enrollment;

/// A person as the public sees them: an instructor on a course page, a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PublicProfile {
    /// The user.
    pub id: Uuid,
    /// Display name.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub full_name: Option<String>,
    /// Picture URL.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub avatar_url: Option<String>,
    /// About them (instructors only).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub bio: Option<String>,
}

/// A service: a top-level area of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Service {
    /// Id.
    pub id: Uuid,
    /// URL name.
    pub slug: String,
    /// Name.
    pub title: String,
    /// What it covers.
    pub description: String,
    /// An icon name (lucide).
    pub icon: String,
    /// Picture URL.
    pub image_url: Option<String>,
    /// Accent colour, e.g. `#7c3aed`.
    pub color: Option<String>,
    /// Shown first when true.
    pub featured: bool,
    /// Published courses in it.
    pub course_count: i32,
    /// Learners across its courses.
    pub student_count: i32,
}

/// All services, in display order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ServiceList {
    /// The services.
    pub items: Vec<Service>,
}

/// A short reference to a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseRef {
    /// Id.
    pub id: Uuid,
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
}

/// A course as catalog lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseSummary {
    /// Id.
    pub id: Uuid,
    /// URL name.
    pub slug: String,
    /// Its service.
    pub service_id: Uuid,
    /// Title.
    pub title: String,
    /// What it teaches.
    pub description: String,
    /// e.g. `6 weeks`.
    pub duration: String,
    /// How demanding.
    pub level: DifficultyLevel,
    /// Price in USD; `"0.00"` is free.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "49.00"))]
    #[ts(type = "string")]
    pub price: Decimal,
    /// Average review, `"0.00"` to `"5.00"`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "4.50"))]
    #[ts(type = "string")]
    pub rating: Decimal,
    /// Enrolled learners.
    pub student_count: i32,
    /// The instructor.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub instructor_id: Option<Uuid>,
    /// Picture URL.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub image_url: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Language (BCP 47).
    pub language: String,
    /// Visible to learners (false: a draft, seen only by its instructor and admins).
    pub is_published: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A page of courses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CoursePage {
    /// The courses.
    pub items: Vec<CourseSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// A lesson as the syllabus lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LessonSummary {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// One line about it.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    /// `video`, `text`, `quiz`, `lab` or `assignment`.
    pub content_type: String,
    /// Minutes.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub duration_minutes: Option<i32>,
    /// Position in its module.
    pub sort_order: i32,
    /// Visible to learners.
    pub is_published: bool,
}

/// A module and, for those allowed to study it, its lessons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ModuleOutline {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// What it covers.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    /// Minutes.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub duration_minutes: Option<i32>,
    /// Position in the course.
    pub sort_order: i32,
    /// Visible to learners.
    pub is_published: bool,
    /// Empty unless the caller may study the course (enrolled, its instructor, or an admin).
    pub lessons: Vec<LessonSummary>,
}

/// Everything a course page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseDetail {
    /// The course's list fields.
    pub course: CourseSummary,
    /// What it includes.
    pub features: Vec<String>,
    /// What a learner will be able to do.
    pub objectives: Vec<String>,
    /// Knowledge it assumes (free text).
    pub prerequisite_notes: Vec<String>,
    /// A trailer.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub preview_video_url: Option<String>,
    /// Subtitle languages.
    pub subtitles: Vec<String>,
    /// Seats; none means unlimited.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub max_students: Option<i32>,
    /// Starts.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub start_date: Option<DateTime<Utc>>,
    /// Ends; no enrollment after.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub end_date: Option<DateTime<Utc>>,
    /// No enrollment after.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub enrollment_deadline: Option<DateTime<Utc>>,
    /// The instructor's public card.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub instructor: Option<PublicProfile>,
    /// Courses to complete first.
    pub required_courses: Vec<CourseRef>,
    /// The syllabus.
    pub modules: Vec<ModuleOutline>,
    /// The caller's enrollment, if any.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub my_enrollment: Option<Enrollment>,
}

/// A lesson's content, for those allowed to study it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Lesson {
    /// The syllabus fields.
    pub lesson: LessonSummary,
    /// Its module.
    pub module_id: Uuid,
    /// Its course.
    pub course_id: Uuid,
    /// Markdown, for text lessons.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub content_body: Option<String>,
    /// Media (a video) for the lesson, e.g. `/media/demo/intro.webm`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub content_url: Option<String>,
    /// The video's poster image.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub poster_url: Option<String>,
    /// The video's captions, one WebVTT track per language.
    pub captions: Vec<crate::authoring::LessonCaption>,
}

/// A lab category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabCategory {
    /// Id.
    pub id: Uuid,
    /// URL name.
    pub slug: String,
    /// Name.
    pub name: String,
    /// What its labs practise.
    pub description: String,
    /// An icon name (lucide).
    pub icon: String,
    /// Published labs in it.
    pub lab_count: i32,
}

/// All lab categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabCategoryList {
    /// The categories, by name.
    pub items: Vec<LabCategory>,
}

/// A short reference to a lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabRef {
    /// Id.
    pub id: Uuid,
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
}

/// A lab as catalog lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabSummary {
    /// Id.
    pub id: Uuid,
    /// URL name.
    pub slug: String,
    /// Its category.
    pub category_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// What it practises.
    pub description: String,
    /// How demanding.
    pub difficulty: DifficultyLevel,
    /// e.g. `45 minutes`.
    pub duration: String,
    /// Tools used.
    pub technology: Vec<String>,
    /// Where it runs.
    pub provider: String,
    /// Average review.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "4.50"))]
    #[ts(type = "string")]
    pub rating: Decimal,
    /// Learners who started it.
    pub student_count: i32,
    /// Picture URL.
    pub image_url: Option<String>,
    /// Popular.
    pub is_popular: bool,
    /// Free.
    pub is_free: bool,
    /// Estimated cost per hour in USD.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.0150"))]
    #[ts(type = "string")]
    pub estimated_cost: Decimal,
    /// Visible to learners.
    pub is_published: bool,
}

/// A page of labs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabPage {
    /// The labs.
    pub items: Vec<LabSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Everything a lab page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabDetail {
    /// The list fields.
    pub lab: LabSummary,
    /// What it includes.
    pub features: Vec<String>,
    /// What a learner will be able to do.
    pub objectives: Vec<String>,
    /// Knowledge it assumes (free text).
    pub prerequisite_notes: Vec<String>,
    /// Step-by-step instructions (markdown).
    pub instructions: Option<String>,
    /// Before starting (markdown).
    pub setup_instructions: Option<String>,
    /// After finishing (markdown).
    pub cleanup_instructions: Option<String>,
    /// The sandbox profile it runs in.
    pub environment_template: Option<String>,
    /// CPU, memory (GiB) and storage (GiB) it needs.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[ts(type = "Record<string, number>")]
    pub resource_requirements: serde_json::Value,
    /// How many learners may run it at once.
    pub max_concurrent_users: i32,
    /// Its author's public card (none for platform labs).
    pub instructor: Option<PublicProfile>,
    /// Labs to do first.
    pub required_labs: Vec<LabRef>,
    /// Courses that go with it.
    pub related_courses: Vec<CourseRef>,
}

/// A course tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseTag {
    /// Id.
    pub id: Uuid,
    /// The tag.
    pub name: String,
    /// What it means.
    pub description: Option<String>,
    /// Colour.
    pub color: Option<String>,
}

/// All tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CourseTagList {
    /// The tags, by name.
    pub items: Vec<CourseTag>,
}
