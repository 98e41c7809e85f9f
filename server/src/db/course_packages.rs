//! A whole course read and named as a package names it (`docs/course-packages.md`): the rows
//! of a course with their package slugs, for `course pull` and for a push to compare against.
//! The writes of a push go through the authoring modules ([`super::authoring`],
//! [`super::assessments`], [`super::lab_steps`]); only the package's own columns (the slugs
//! and a lesson's assessment, `migrations/0062_package_slugs.sql`) are written here.
//!
//! Everything runs in the caller's transaction under RLS: a course, module, lesson or lab the
//! caller does not manage is not found.

use rust_decimal::Decimal;
use skilltrack_protocol::assessments::AssessmentDraft;
use skilltrack_protocol::authoring::{
    CourseDraft, LabDraft, LessonCaption, LessonContentType, LessonDraft, ModuleDraft,
};
use skilltrack_protocol::enums::{AssessmentType, DifficultyLevel, ReviewPolicy};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::{decode, with_scale};

/// A course the caller manages, with what only a package names by slug.
#[derive(Debug, Clone)]
pub struct CourseRow {
    /// Id.
    pub id: Uuid,
    /// The course as its draft.
    pub draft: CourseDraft,
    /// Its service's slug.
    pub service: String,
    /// Visible to learners.
    pub is_published: bool,
}

/// Any course with this slug that the caller can see, and whether the caller manages it.
pub async fn course_by_slug(
    conn: &mut PgConnection,
    slug: &str,
) -> Result<Option<(Uuid, bool)>, sqlx::Error> {
    let row: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM courses WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((id,)) = row else { return Ok(None) };
    let manages: Option<(Uuid,)> =
        sqlx::query_as("SELECT id FROM courses WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(Some((id, manages.is_some())))
}

/// The course `id`, locked, if the caller manages it.
pub async fn course(conn: &mut PgConnection, id: Uuid) -> Result<Option<CourseRow>, sqlx::Error> {
    let Some(r) = sqlx::query(
        "SELECT c.id, c.slug, c.service_id, s.slug AS service, c.title,
                coalesce(c.description, '') AS description, coalesce(c.duration, '') AS duration,
                c.level::text AS level, coalesce(c.price, 0) AS price, c.language, c.image_url,
                c.preview_video_url, coalesce(c.features, '{}') AS features,
                coalesce(c.objectives, '{}') AS objectives,
                coalesce(c.prerequisites, '{}') AS prerequisite_notes,
                coalesce(c.subtitles, '{}') AS subtitles, c.max_students, c.start_date,
                c.end_date, c.enrollment_deadline, coalesce(c.is_published, false) AS is_published
         FROM courses c JOIN services s ON s.id = c.service_id
         WHERE c.id = $1 FOR UPDATE OF c",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    let level: String = r.try_get("level")?;
    let price: Decimal = r.try_get("price")?;
    Ok(Some(CourseRow {
        id: r.try_get("id")?,
        service: r.try_get("service")?,
        is_published: r.try_get("is_published")?,
        draft: CourseDraft {
            slug: r.try_get("slug")?,
            service_id: r.try_get("service_id")?,
            title: r.try_get("title")?,
            description: r.try_get("description")?,
            duration: r.try_get("duration")?,
            level: decode::<DifficultyLevel>("level", &level)?,
            price: with_scale(price, 2),
            language: r.try_get("language")?,
            image_url: r.try_get("image_url")?,
            preview_video_url: r.try_get("preview_video_url")?,
            features: r.try_get("features")?,
            objectives: r.try_get("objectives")?,
            prerequisite_notes: r.try_get("prerequisite_notes")?,
            subtitles: r.try_get("subtitles")?,
            max_students: r.try_get("max_students")?,
            start_date: r.try_get("start_date")?,
            end_date: r.try_get("end_date")?,
            enrollment_deadline: r.try_get("enrollment_deadline")?,
        },
    }))
}

/// The course's tags, by name.
pub async fn tags(conn: &mut PgConnection, course: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT t.name FROM course_tag_relationships r JOIN course_tags t ON t.id = r.tag_id
         WHERE r.course_id = $1 ORDER BY t.name",
    )
    .bind(course)
    .fetch_all(conn)
    .await
}

/// The slugs of the courses this one requires, in slug order.
pub async fn prerequisites(
    conn: &mut PgConnection,
    course: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.slug FROM course_prerequisites p JOIN courses c ON c.id = p.prerequisite_course_id
         WHERE p.course_id = $1 ORDER BY c.slug",
    )
    .bind(course)
    .fetch_all(conn)
    .await
}

/// The ids of the visible courses with these slugs.
pub async fn courses_by_slug(
    conn: &mut PgConnection,
    slugs: &[String],
) -> Result<Vec<(String, Uuid)>, sqlx::Error> {
    sqlx::query_as("SELECT slug, id FROM courses WHERE slug = ANY ($1)")
        .bind(slugs)
        .fetch_all(conn)
        .await
}

/// The service with this slug.
pub async fn service_by_slug(
    conn: &mut PgConnection,
    slug: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM services WHERE slug = $1")
        .bind(slug)
        .fetch_optional(conn)
        .await
}

/// The lab category with this slug.
pub async fn category_by_slug(
    conn: &mut PgConnection,
    slug: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM lab_categories WHERE slug = $1")
        .bind(slug)
        .fetch_optional(conn)
        .await
}

/// A module with its package slug.
#[derive(Debug, Clone)]
pub struct ModuleRow {
    /// Id.
    pub id: Uuid,
    /// Its package slug, if a push or pull named it.
    pub package_slug: Option<String>,
    /// The module as its draft (`sort_order` and `is_published` as stored).
    pub draft: ModuleDraft,
}

/// The course's modules, in order.
pub async fn modules(conn: &mut PgConnection, course: Uuid) -> Result<Vec<ModuleRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id, package_slug, title, description, duration_minutes,
                coalesce(sort_order, 0) AS sort_order, coalesce(is_published, false) AS is_published
         FROM course_modules WHERE course_id = $1 ORDER BY sort_order, id",
    )
    .bind(course)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(ModuleRow {
            id: r.try_get("id")?,
            package_slug: r.try_get("package_slug")?,
            draft: ModuleDraft {
                title: r.try_get("title")?,
                description: r.try_get("description")?,
                duration_minutes: r.try_get("duration_minutes")?,
                sort_order: Some(r.try_get("sort_order")?),
                is_published: r.try_get("is_published")?,
            },
        })
    })
    .collect()
}

/// A lesson with its package keys.
#[derive(Debug, Clone)]
pub struct LessonRow {
    /// Id.
    pub id: Uuid,
    /// Its module.
    pub module_id: Uuid,
    /// Its package slug, if a push or pull named it.
    pub package_slug: Option<String>,
    /// A quiz or assignment lesson's assessment.
    pub assessment_id: Option<Uuid>,
    /// The lesson as its draft.
    pub draft: LessonDraft,
}

/// The course's lessons, module by module, in order.
pub async fn lessons(conn: &mut PgConnection, course: Uuid) -> Result<Vec<LessonRow>, sqlx::Error> {
    sqlx::query(
        "SELECT l.id, l.module_id, l.package_slug, l.assessment_id, l.title, l.description,
                l.content_type, l.content_body, l.content_url, l.poster_url, l.captions,
                l.duration_minutes, coalesce(l.sort_order, 0) AS sort_order,
                coalesce(l.is_published, false) AS is_published
         FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
         WHERE m.course_id = $1 ORDER BY m.sort_order, m.id, l.sort_order, l.id",
    )
    .bind(course)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| {
        let content_type: String = r.try_get("content_type")?;
        Ok(LessonRow {
            id: r.try_get("id")?,
            module_id: r.try_get("module_id")?,
            package_slug: r.try_get("package_slug")?,
            assessment_id: r.try_get("assessment_id")?,
            draft: LessonDraft {
                title: r.try_get("title")?,
                description: r.try_get("description")?,
                content_type: decode::<LessonContentType>("content_type", &content_type)?,
                content_body: r.try_get("content_body")?,
                content_url: r.try_get("content_url")?,
                poster_url: r.try_get("poster_url")?,
                captions: r
                    .try_get::<sqlx::types::Json<Vec<LessonCaption>>, _>("captions")?
                    .0,
                duration_minutes: r.try_get("duration_minutes")?,
                sort_order: Some(r.try_get("sort_order")?),
                is_published: r.try_get("is_published")?,
            },
        })
    })
    .collect()
}

/// An assessment with its package slug.
#[derive(Debug, Clone)]
pub struct AssessmentRow {
    /// Id.
    pub id: Uuid,
    /// Its package slug, if a push or pull named it.
    pub package_slug: Option<String>,
    /// Published.
    pub is_published: bool,
    /// The assessment as its draft.
    pub draft: AssessmentDraft,
}

/// The course's assessments, oldest first.
pub async fn assessments(
    conn: &mut PgConnection,
    course: Uuid,
) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id, package_slug, title, description, type::text AS kind, time_limit_minutes,
                max_attempts, coalesce(passing_score, 70) AS passing_score,
                review_policy::text AS review_policy,
                coalesce(is_published, false) AS is_published
         FROM assessments WHERE course_id = $1 ORDER BY created_at, id",
    )
    .bind(course)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| {
        let kind: String = r.try_get("kind")?;
        let policy: Option<String> = r.try_get("review_policy")?;
        Ok(AssessmentRow {
            id: r.try_get("id")?,
            package_slug: r.try_get("package_slug")?,
            is_published: r.try_get("is_published")?,
            draft: AssessmentDraft {
                title: r.try_get("title")?,
                description: r.try_get("description")?,
                kind: decode::<AssessmentType>("type", &kind)?,
                time_limit_minutes: r.try_get("time_limit_minutes")?,
                max_attempts: r.try_get("max_attempts")?,
                passing_score: r.try_get("passing_score")?,
                review_policy: policy
                    .map(|p| decode::<ReviewPolicy>("review_policy", &p))
                    .transpose()?,
            },
        })
    })
    .collect()
}

/// A lab with its category's slug.
#[derive(Debug, Clone)]
pub struct LabRow {
    /// Id.
    pub id: Uuid,
    /// Published.
    pub is_published: bool,
    /// Its category's slug.
    pub category: Option<String>,
    /// The lab as its draft.
    pub draft: LabDraft,
}

/// The labs with these slugs that the caller can see (locked when the caller manages them).
pub async fn labs_by_slug(
    conn: &mut PgConnection,
    slugs: &[String],
) -> Result<Vec<LabRow>, sqlx::Error> {
    sqlx::query(
        "SELECT l.id, coalesce(l.is_published, false) AS is_published, c.slug AS category,
                l.slug, l.category_id, l.title, coalesce(l.description, '') AS description,
                l.difficulty::text AS difficulty, coalesce(l.duration, '') AS duration,
                coalesce(l.technology, '{}') AS technology, coalesce(l.provider, '') AS provider,
                l.image_url, coalesce(l.features, '{}') AS features,
                coalesce(l.objectives, '{}') AS objectives,
                coalesce(l.prerequisites, '{}') AS prerequisite_notes, l.instructions,
                l.setup_instructions, l.cleanup_instructions, l.environment_template,
                l.resource_requirements, l.max_concurrent_users,
                coalesce(l.estimated_cost, 0) AS estimated_cost,
                coalesce(l.is_free, false) AS is_free,
                coalesce(l.related_courses, '{}') AS related_courses
         FROM labs l LEFT JOIN lab_categories c ON c.id = l.category_id
         WHERE l.slug = ANY ($1) ORDER BY l.slug",
    )
    .bind(slugs)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| {
        let difficulty: String = r.try_get("difficulty")?;
        let cost: Decimal = r.try_get("estimated_cost")?;
        Ok(LabRow {
            id: r.try_get("id")?,
            is_published: r.try_get("is_published")?,
            category: r.try_get("category")?,
            draft: LabDraft {
                slug: r.try_get("slug")?,
                category_id: r.try_get("category_id")?,
                title: r.try_get("title")?,
                description: r.try_get("description")?,
                difficulty: decode::<DifficultyLevel>("difficulty", &difficulty)?,
                duration: r.try_get("duration")?,
                technology: r.try_get("technology")?,
                provider: r.try_get("provider")?,
                image_url: r.try_get("image_url")?,
                features: r.try_get("features")?,
                objectives: r.try_get("objectives")?,
                prerequisite_notes: r.try_get("prerequisite_notes")?,
                instructions: r.try_get("instructions")?,
                setup_instructions: r.try_get("setup_instructions")?,
                cleanup_instructions: r.try_get("cleanup_instructions")?,
                environment_template: r.try_get("environment_template")?,
                resource_requirements: r.try_get("resource_requirements")?,
                max_concurrent_users: r.try_get("max_concurrent_users")?,
                estimated_cost: with_scale(cost, 4),
                is_free: r.try_get("is_free")?,
                related_courses: r.try_get("related_courses")?,
            },
        })
    })
    .collect()
}

/// Names a module as its package does.
pub async fn set_module_slug(
    conn: &mut PgConnection,
    id: Uuid,
    slug: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE course_modules SET package_slug = $2 WHERE id = $1 AND package_slug IS DISTINCT FROM $2")
        .bind(id)
        .bind(slug)
        .execute(conn)
        .await
        .map(drop)
}

/// Names an assessment as its package does.
pub async fn set_assessment_slug(
    conn: &mut PgConnection,
    id: Uuid,
    slug: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE assessments SET package_slug = $2 WHERE id = $1 AND package_slug IS DISTINCT FROM $2")
        .bind(id)
        .bind(slug)
        .execute(conn)
        .await
        .map(drop)
}

/// Names a lesson as its package does and links it to its assessment.
pub async fn set_lesson_keys(
    conn: &mut PgConnection,
    id: Uuid,
    slug: &str,
    assessment: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE course_lessons SET package_slug = $2, assessment_id = $3
         WHERE id = $1 AND (package_slug, assessment_id) IS DISTINCT FROM ($2, $3)",
    )
    .bind(id)
    .bind(slug)
    .bind(assessment)
    .execute(conn)
    .await
    .map(drop)
}

/// Publishes or hides an assessment.
pub async fn set_assessment_published(
    conn: &mut PgConnection,
    id: Uuid,
    published: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE assessments SET is_published = $2 WHERE id = $1")
        .bind(id)
        .bind(published)
        .execute(conn)
        .await
        .map(drop)
}
