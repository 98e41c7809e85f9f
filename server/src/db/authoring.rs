//! Instructor authoring: writing courses, modules, lessons, prerequisites, tags and labs.
//!
//! Everything runs in the caller's request transaction, so RLS decides which rows are
//! reachable (`migrations/0006_row_level_security.sql`: instructors manage their own courses and
//! labs and everything under them, admins everything). The `lock_*` functions are how a handler
//! asks the database whether the caller manages a row: `SELECT … FOR UPDATE` applies the
//! table's UPDATE policy as well as its SELECT policy, so it finds a row only if the caller may
//! change it, and locks it for the rest of the transaction (a learner enrolling, which locks the
//! course row too, waits for a deletion to finish, and the other way round).
//!
//! Reads after a write go through [`super::catalog`], so authors get the catalog's own types.
//! `/authoring` lists filter on the caller's id: that scopes them to the caller (an admin gets
//! their own courses, not everyone's), it does not authorize.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use skilltrack_protocol::PgEnum;
use skilltrack_protocol::authoring::{
    CourseDraft, CoursePatch, LabDraft, LabPatch, LessonCaption, LessonContentType, LessonDraft,
    LessonPatch, ModuleDraft, ModulePatch,
};
use skilltrack_protocol::catalog::{CourseSummary, LabSummary, LessonSummary, ModuleOutline};
use sqlx::{Encode, PgConnection, Postgres, QueryBuilder, Type};
use uuid::Uuid;

use super::{decode, with_scale};

/// Where a page of the caller's courses or labs starts: after this `(created_at, id)`.
pub type Cursor = (DateTime<Utc>, Uuid);

/// The `SET` list of an `UPDATE` built from a patch: only the fields present are written.
/// Column names come from the code, never from the request.
pub(super) struct Assignments {
    query: QueryBuilder<'static, Postgres>,
    any: bool,
}

impl Assignments {
    pub(super) fn new(table: &'static str) -> Self {
        Self {
            query: QueryBuilder::new(format!("UPDATE {table} SET ")),
            any: false,
        }
    }

    fn column(&mut self, column: &'static str) -> &mut QueryBuilder<'static, Postgres> {
        if self.any {
            self.query.push(", ");
        }
        self.any = true;
        self.query.push(column).push(" = ")
    }

    pub(super) fn set<T>(&mut self, column: &'static str, value: Option<T>) -> &mut Self
    where
        T: 'static + Encode<'static, Postgres> + Type<Postgres> + Send,
    {
        if let Some(value) = value {
            self.column(column).push_bind(value);
        }
        self
    }

    /// A value of a PostgreSQL enum, bound as text and cast.
    fn set_enum(&mut self, column: &'static str, value: Option<&'static str>, cast: &str) {
        if let Some(value) = value {
            self.column(column).push_bind(value).push(cast);
        }
    }

    /// Runs the update of row `id`; nothing to set runs nothing.
    pub(super) async fn run(
        mut self,
        conn: &mut PgConnection,
        id: Uuid,
    ) -> Result<(), sqlx::Error> {
        if !self.any {
            return Ok(());
        }
        self.query.push(" WHERE id = ").push_bind(id);
        self.query.build().execute(conn).await.map(drop)
    }
}

// Courses --------------------------------------------------------------------------------------

/// What the handlers need to know of a course they are about to change.
#[derive(Debug, Clone)]
pub struct CourseState {
    /// Id.
    pub id: Uuid,
    /// Visible to learners.
    pub is_published: bool,
    /// Starts.
    pub start_date: Option<DateTime<Utc>>,
    /// Ends.
    pub end_date: Option<DateTime<Utc>>,
    /// No enrollment after.
    pub enrollment_deadline: Option<DateTime<Utc>>,
}

/// Locks the course if the caller manages it (its instructor, or an admin); `None` otherwise.
pub async fn lock_course(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CourseState>, sqlx::Error> {
    sqlx::query_as::<
        _,
        (
            Uuid,
            bool,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        ),
    >(
        "SELECT id, is_published, start_date, end_date, enrollment_deadline
         FROM courses WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .map(|row| {
        row.map(
            |(id, is_published, start_date, end_date, enrollment_deadline)| CourseState {
                id,
                is_published,
                start_date,
                end_date,
                enrollment_deadline,
            },
        )
    })
}

/// Whether the caller can see this service (an active one; admins see all).
pub async fn service_exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM services WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Creates an unpublished course of `instructor`'s. RLS refuses (42501) anyone who is not an
/// instructor or an admin; the slug's uniqueness is 23505.
pub async fn create_course(
    conn: &mut PgConnection,
    instructor: Uuid,
    draft: &CourseDraft,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO courses (id, instructor_id, is_published, slug, service_id, title,
             description, duration, level, price, language, image_url, preview_video_url,
             features, objectives, prerequisites, subtitles, max_students, start_date, end_date,
             enrollment_deadline)
         VALUES ($1, $2, false, $3, $4, $5, $6, $7, $8::difficulty_level, $9,
                 coalesce($10, 'en'), $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(id)
    .bind(instructor)
    .bind(&draft.slug)
    .bind(draft.service_id)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(&draft.duration)
    .bind(draft.level.as_str())
    .bind(draft.price)
    .bind(draft.language.as_deref())
    .bind(draft.image_url.as_deref())
    .bind(draft.preview_video_url.as_deref())
    .bind(&draft.features)
    .bind(&draft.objectives)
    .bind(&draft.prerequisite_notes)
    .bind(&draft.subtitles)
    .bind(draft.max_students)
    .bind(draft.start_date)
    .bind(draft.end_date)
    .bind(draft.enrollment_deadline)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Writes the fields present in `patch` (already validated and normalised: `Some(None)`
/// clears).
pub async fn update_course(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &CoursePatch,
) -> Result<(), sqlx::Error> {
    let p = patch.clone();
    let mut set = Assignments::new("courses");
    set.set("slug", p.slug)
        .set("service_id", p.service_id)
        .set("title", p.title)
        .set("description", p.description)
        .set("duration", p.duration)
        .set("price", p.price)
        .set("language", p.language)
        .set("image_url", p.image_url)
        .set("preview_video_url", p.preview_video_url)
        .set("features", p.features)
        .set("objectives", p.objectives)
        .set("prerequisites", p.prerequisite_notes)
        .set("subtitles", p.subtitles)
        .set("max_students", p.max_students)
        .set("start_date", p.start_date)
        .set("end_date", p.end_date)
        .set("enrollment_deadline", p.enrollment_deadline);
    set.set_enum("level", p.level.map(PgEnum::as_str), "::difficulty_level");
    set.run(conn, id).await
}

/// Publishes or unpublishes a course.
pub async fn set_course_published(
    conn: &mut PgConnection,
    id: Uuid,
    published: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE courses SET is_published = $2 WHERE id = $1 AND is_published <> $2")
        .bind(id)
        .bind(published)
        .execute(conn)
        .await
        .map(drop)
}

/// How many learners have ever enrolled in the course (cancelled ones included: they keep
/// their progress and may come back). The course's instructor and admins see them all.
pub async fn course_learners(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM enrollments WHERE course_id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Deletes a course and everything under it. A payment for it refuses (23503).
pub async fn delete_course(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM courses WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}

/// What keeps a course from being published.
#[derive(Debug, Clone, Default)]
pub struct CourseGaps {
    /// The description is empty.
    pub description_blank: bool,
    /// How many of its modules are published.
    pub published_modules: i64,
    /// How many published modules have at least one published lesson.
    pub ready_modules: i64,
    /// Published lessons (in published modules) without their content: id, title.
    pub lessons_without_content: Vec<(Uuid, String)>,
    /// Required courses that are not published (or no longer visible): id and slug if visible.
    pub unpublished_prerequisites: Vec<(Uuid, Option<String>)>,
}

/// Looks for what a learner would miss in the course.
pub async fn course_gaps(conn: &mut PgConnection, id: Uuid) -> Result<CourseGaps, sqlx::Error> {
    let (description_blank, published_modules, ready_modules) =
        sqlx::query_as::<_, (bool, i64, i64)>(
            "SELECT btrim(c.description) = '',
                (SELECT count(*) FROM course_modules m WHERE m.course_id = c.id AND m.is_published),
                (SELECT count(*) FROM course_modules m
                 WHERE m.course_id = c.id AND m.is_published
                   AND EXISTS (SELECT 1 FROM course_lessons l
                               WHERE l.module_id = m.id AND l.is_published))
         FROM courses c WHERE c.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let lessons_without_content = sqlx::query_as::<_, (Uuid, String)>(
        "SELECT l.id, l.title FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
         WHERE m.course_id = $1 AND m.is_published AND l.is_published
           AND ((l.content_type = 'text' AND coalesce(btrim(l.content_body), '') = '')
             OR (l.content_type = 'video' AND coalesce(btrim(l.content_url), '') = ''))
         ORDER BY m.sort_order, l.sort_order, l.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let unpublished_prerequisites = sqlx::query_as::<_, (Uuid, Option<String>)>(
        "SELECT cp.prerequisite_course_id, p.slug FROM course_prerequisites cp
         LEFT JOIN courses p ON p.id = cp.prerequisite_course_id
         WHERE cp.course_id = $1 AND (p.id IS NULL OR NOT p.is_published)
         ORDER BY p.slug",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(CourseGaps {
        description_blank,
        published_modules,
        ready_modules,
        lessons_without_content,
        unpublished_prerequisites,
    })
}

/// Which of `ids` are courses the caller can see.
pub async fn visible_courses(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM courses WHERE id = ANY ($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Which prerequisites: of courses (`course_prerequisites`) or of labs (`lab_prerequisites`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prerequisites {
    /// Courses a learner completes before enrolling in a course.
    Course,
    /// Labs a learner completes before starting a lab.
    Lab,
}

impl Prerequisites {
    /// Table, the column naming what requires, the column naming what is required.
    fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Course => (
                "course_prerequisites",
                "course_id",
                "prerequisite_course_id",
            ),
            Self::Lab => ("lab_prerequisites", "lab_id", "prerequisite_lab_id"),
        }
    }
}

/// Which of `ids` are labs the caller can see.
pub async fn visible_labs(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM labs WHERE id = ANY ($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Whether requiring `prerequisites` would make `of` (directly or through their own
/// prerequisites) a prerequisite of itself.
pub async fn prerequisite_cycle(
    conn: &mut PgConnection,
    kind: Prerequisites,
    of: Uuid,
    prerequisites: &[Uuid],
) -> Result<bool, sqlx::Error> {
    let (table, owner, required) = kind.columns();
    sqlx::query_scalar(&format!(
        "WITH RECURSIVE reach(id) AS (
             SELECT unnest($2::uuid[])
             UNION
             SELECT p.{required} FROM {table} p JOIN reach r ON p.{owner} = r.id)
         SELECT EXISTS (SELECT 1 FROM reach WHERE id = $1)"
    ))
    .bind(of)
    .bind(prerequisites)
    .fetch_one(conn)
    .await
}

/// Replaces what `of` requires.
pub async fn set_prerequisites(
    conn: &mut PgConnection,
    kind: Prerequisites,
    of: Uuid,
    prerequisites: &[Uuid],
) -> Result<(), sqlx::Error> {
    let (table, owner, required) = kind.columns();
    sqlx::query(&format!(
        "DELETE FROM {table} WHERE {owner} = $1 AND NOT ({required} = ANY ($2))"
    ))
    .bind(of)
    .bind(prerequisites)
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {table} ({owner}, {required}) SELECT $1, unnest($2::uuid[])
         ON CONFLICT ({owner}, {required}) DO NOTHING"
    ))
    .bind(of)
    .bind(prerequisites)
    .execute(conn)
    .await
    .map(drop)
}

/// Replaces the course's tags: creates the ones that do not exist yet (authors may) and links
/// the course to exactly these; a trigger keeps `courses.tags` (what the catalog filters and
/// searches) in step (`migrations/0017_course_tags_in_step.sql`).
pub async fn set_tags(
    conn: &mut PgConnection,
    course: Uuid,
    names: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO course_tags (name)
         SELECT n FROM unnest($1::text[]) n
         WHERE NOT EXISTS (SELECT 1 FROM course_tags t WHERE t.name = n)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(names)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM course_tag_relationships r
         WHERE r.course_id = $1
           AND NOT EXISTS (SELECT 1 FROM course_tags t WHERE t.id = r.tag_id AND t.name = ANY ($2))",
    )
    .bind(course)
    .bind(names)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO course_tag_relationships (course_id, tag_id)
         SELECT $1, t.id FROM course_tags t WHERE t.name = ANY ($2)
         ON CONFLICT (course_id, tag_id) DO NOTHING",
    )
    .bind(course)
    .bind(names)
    .execute(conn)
    .await
    .map(drop)
}

const COURSE_COLUMNS: &str = "c.id, c.slug, c.service_id, c.title, c.description, c.duration,
    c.level::text AS level, c.price, c.rating, c.student_count, c.instructor_id, c.image_url,
    c.tags, c.language, c.is_published, c.created_at, c.updated_at";

#[derive(sqlx::FromRow)]
struct CourseRow {
    id: Uuid,
    slug: String,
    service_id: Uuid,
    title: String,
    description: String,
    duration: String,
    level: String,
    price: Decimal,
    rating: Decimal,
    student_count: i32,
    instructor_id: Option<Uuid>,
    image_url: Option<String>,
    tags: Vec<String>,
    language: String,
    is_published: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CourseRow> for CourseSummary {
    type Error = sqlx::Error;
    fn try_from(r: CourseRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: r.id,
            slug: r.slug,
            service_id: r.service_id,
            title: r.title,
            description: r.description,
            duration: r.duration,
            level: decode("level", &r.level)?,
            price: with_scale(r.price, 2),
            rating: with_scale(r.rating, 2),
            student_count: r.student_count,
            instructor_id: r.instructor_id,
            image_url: r.image_url,
            tags: r.tags,
            language: r.language,
            is_published: r.is_published,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A page of the courses `instructor` teaches, drafts included, newest first.
pub async fn my_courses(
    conn: &mut PgConnection,
    instructor: Uuid,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Vec<CourseSummary>, sqlx::Error> {
    sqlx::query_as::<_, CourseRow>(&format!(
        "SELECT {COURSE_COLUMNS} FROM courses c
         WHERE c.instructor_id = $1
           AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2, $3::uuid))
         ORDER BY c.created_at DESC, c.id DESC
         LIMIT $4"
    ))
    .bind(instructor)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(CourseSummary::try_from)
    .collect()
}

// Modules --------------------------------------------------------------------------------------

/// Locks the module if the caller manages its course; returns its course.
pub async fn lock_module(conn: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT course_id FROM course_modules WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Adds a module to the course, after its last one unless `sort_order` says where.
pub async fn create_module(
    conn: &mut PgConnection,
    course: Uuid,
    draft: &ModuleDraft,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO course_modules (id, course_id, title, description, duration_minutes,
             sort_order, is_published)
         VALUES ($1, $2, $3, $4, $5,
                 coalesce($6, (SELECT coalesce(max(sort_order) + 1, 0) FROM course_modules
                               WHERE course_id = $2)),
                 $7)",
    )
    .bind(id)
    .bind(course)
    .bind(&draft.title)
    .bind(draft.description.as_deref())
    .bind(draft.duration_minutes)
    .bind(draft.sort_order)
    .bind(draft.is_published)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Writes the fields present in `patch`.
pub async fn update_module(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &ModulePatch,
) -> Result<(), sqlx::Error> {
    let p = patch.clone();
    let mut set = Assignments::new("course_modules");
    set.set("title", p.title)
        .set("description", p.description)
        .set("duration_minutes", p.duration_minutes)
        .set("sort_order", p.sort_order)
        .set("is_published", p.is_published);
    set.run(conn, id).await
}

/// How many learners have progress in the module's lessons.
pub async fn module_progress(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(DISTINCT p.user_id) FROM user_progress p
         JOIN course_lessons l ON l.id = p.lesson_id WHERE l.module_id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Deletes a module and its lessons.
pub async fn delete_module(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM course_modules WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}

/// A module with every lesson the caller may see, in order.
pub async fn module_outline(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ModuleOutline>, sqlx::Error> {
    let Some((id, title, description, duration_minutes, sort_order, is_published)) =
        sqlx::query_as::<_, (Uuid, String, Option<String>, Option<i32>, i32, bool)>(
            "SELECT id, title, description, duration_minutes, sort_order, is_published
             FROM course_modules WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let lessons = sqlx::query_as::<
        _,
        (
            Uuid,
            String,
            Option<String>,
            String,
            Option<i32>,
            i32,
            bool,
        ),
    >(
        "SELECT id, title, description, content_type, duration_minutes, sort_order, is_published
         FROM course_lessons WHERE module_id = $1 ORDER BY sort_order, id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(
        |(id, title, description, content_type, duration_minutes, sort_order, is_published)| {
            LessonSummary {
                id,
                title,
                description,
                content_type,
                duration_minutes,
                sort_order,
                is_published,
            }
        },
    )
    .collect();
    Ok(Some(ModuleOutline {
        id,
        title,
        description,
        duration_minutes,
        sort_order,
        is_published,
        lessons,
    }))
}

// Lessons --------------------------------------------------------------------------------------

/// What the handlers need to know of a lesson they are about to change.
#[derive(Debug, Clone)]
pub struct LessonState {
    /// Id.
    pub id: Uuid,
    /// Its module.
    pub module_id: Uuid,
    /// What it is.
    pub content_type: LessonContentType,
    /// Markdown.
    pub content_body: Option<String>,
    /// Media.
    pub content_url: Option<String>,
    /// Visible to enrolled learners.
    pub is_published: bool,
}

/// Locks the lesson if the caller manages its course.
pub async fn lock_lesson(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LessonState>, sqlx::Error> {
    let row = sqlx::query_as::<_, (Uuid, Uuid, String, Option<String>, Option<String>, bool)>(
        "SELECT id, module_id, content_type, content_body, content_url, is_published
         FROM course_lessons WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(
        |(id, module_id, content_type, content_body, content_url, is_published)| {
            Ok(LessonState {
                id,
                module_id,
                content_type: decode("content_type", &content_type)?,
                content_body,
                content_url,
                is_published,
            })
        },
    )
    .transpose()
}

/// A lesson's captions as they are kept: in the order of their language tags, so the same
/// tracks sent in any order are the same row (a package's push and pull agree).
fn in_language_order(mut captions: Vec<LessonCaption>) -> Vec<LessonCaption> {
    captions.sort();
    captions
}

/// Adds a lesson to the module, after its last one unless `sort_order` says where.
pub async fn create_lesson(
    conn: &mut PgConnection,
    module: Uuid,
    draft: &LessonDraft,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO course_lessons (id, module_id, title, description, content_type,
             content_body, content_url, duration_minutes, sort_order, is_published,
             poster_url, captions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                 coalesce($9, (SELECT coalesce(max(sort_order) + 1, 0) FROM course_lessons
                               WHERE module_id = $2)),
                 $10, $11, $12)",
    )
    .bind(id)
    .bind(module)
    .bind(&draft.title)
    .bind(draft.description.as_deref())
    .bind(draft.content_type.as_str())
    .bind(draft.content_body.as_deref())
    .bind(draft.content_url.as_deref())
    .bind(draft.duration_minutes)
    .bind(draft.sort_order)
    .bind(draft.is_published)
    .bind(draft.poster_url.as_deref())
    .bind(sqlx::types::Json(in_language_order(draft.captions.clone())))
    .execute(conn)
    .await?;
    Ok(id)
}

/// Writes the fields present in `patch`.
pub async fn update_lesson(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &LessonPatch,
) -> Result<(), sqlx::Error> {
    let p = patch.clone();
    let mut set = Assignments::new("course_lessons");
    set.set("title", p.title)
        .set("description", p.description)
        .set(
            "content_type",
            p.content_type.map(LessonContentType::as_str),
        )
        .set("content_body", p.content_body)
        .set("content_url", p.content_url)
        .set("poster_url", p.poster_url)
        .set(
            "captions",
            p.captions.map(|c| sqlx::types::Json(in_language_order(c))),
        )
        .set("duration_minutes", p.duration_minutes)
        .set("sort_order", p.sort_order)
        .set("is_published", p.is_published);
    set.run(conn, id).await
}

/// How many learners have progress in the lesson.
pub async fn lesson_progress(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM user_progress WHERE lesson_id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Deletes a lesson.
pub async fn delete_lesson(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM course_lessons WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}

// Labs -----------------------------------------------------------------------------------------

/// What the handlers need to know of a lab they are about to change.
#[derive(Debug, Clone)]
pub struct LabState {
    /// Id.
    pub id: Uuid,
    /// Visible to learners.
    pub is_published: bool,
}

/// Locks the lab if the caller manages it (its instructor, or an admin).
pub async fn lock_lab(conn: &mut PgConnection, id: Uuid) -> Result<Option<LabState>, sqlx::Error> {
    sqlx::query_as::<_, (Uuid, bool)>("SELECT id, is_published FROM labs WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map(|row| row.map(|(id, is_published)| LabState { id, is_published }))
}

/// Whether this lab category exists.
pub async fn lab_category_exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM lab_categories WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// The resource requirements of a lab that does not say.
const DEFAULT_RESOURCES: &str = r#"{"cpu": 1, "memory": 2, "storage": 10}"#;

/// Creates an unpublished lab of `instructor`'s. RLS refuses (42501) anyone who is not an
/// instructor or an admin; the slug's uniqueness is 23505.
pub async fn create_lab(
    conn: &mut PgConnection,
    instructor: Uuid,
    draft: &LabDraft,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO labs (id, instructor_id, is_published, slug, category_id, title, description,
             difficulty, duration, technology, provider, image_url, features, objectives,
             prerequisites, instructions, setup_instructions, cleanup_instructions,
             environment_template, resource_requirements, max_concurrent_users, estimated_cost,
             is_free, related_courses)
         VALUES ($1, $2, false, $3, $4, $5, $6, $7::difficulty_level, $8, $9, $10, $11, $12, $13,
                 $14, $15, $16, $17, $18, coalesce($19, $20::jsonb), coalesce($21, 100), $22,
                 $23, $24)",
    )
    .bind(id)
    .bind(instructor)
    .bind(&draft.slug)
    .bind(draft.category_id)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(draft.difficulty.as_str())
    .bind(&draft.duration)
    .bind(&draft.technology)
    .bind(&draft.provider)
    .bind(draft.image_url.as_deref())
    .bind(&draft.features)
    .bind(&draft.objectives)
    .bind(&draft.prerequisite_notes)
    .bind(draft.instructions.as_deref())
    .bind(draft.setup_instructions.as_deref())
    .bind(draft.cleanup_instructions.as_deref())
    .bind(draft.environment_template.as_deref())
    .bind(draft.resource_requirements.as_ref())
    .bind(DEFAULT_RESOURCES)
    .bind(draft.max_concurrent_users)
    .bind(draft.estimated_cost)
    .bind(draft.is_free)
    .bind(&draft.related_courses)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Writes the fields present in `patch`.
pub async fn update_lab(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &LabPatch,
) -> Result<(), sqlx::Error> {
    let p = patch.clone();
    let mut set = Assignments::new("labs");
    set.set("slug", p.slug)
        .set("category_id", p.category_id)
        .set("title", p.title)
        .set("description", p.description)
        .set("duration", p.duration)
        .set("technology", p.technology)
        .set("provider", p.provider)
        .set("image_url", p.image_url)
        .set("features", p.features)
        .set("objectives", p.objectives)
        .set("prerequisites", p.prerequisite_notes)
        .set("instructions", p.instructions)
        .set("setup_instructions", p.setup_instructions)
        .set("cleanup_instructions", p.cleanup_instructions)
        .set("environment_template", p.environment_template)
        .set("resource_requirements", p.resource_requirements)
        .set("max_concurrent_users", p.max_concurrent_users)
        .set("estimated_cost", p.estimated_cost)
        .set("is_free", p.is_free)
        .set("related_courses", p.related_courses);
    set.set_enum(
        "difficulty",
        p.difficulty.map(PgEnum::as_str),
        "::difficulty_level",
    );
    set.run(conn, id).await
}

/// Publishes or unpublishes a lab.
pub async fn set_lab_published(
    conn: &mut PgConnection,
    id: Uuid,
    published: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE labs SET is_published = $2 WHERE id = $1 AND is_published <> $2")
        .bind(id)
        .bind(published)
        .execute(conn)
        .await
        .map(drop)
}

/// What keeps a lab from being published: (description blank, instructions blank, no
/// category).
pub async fn lab_gaps(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(bool, bool, bool), sqlx::Error> {
    sqlx::query_as(
        "SELECT btrim(description) = '', coalesce(btrim(instructions), '') = '',
                category_id IS NULL
         FROM labs WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// How many learners have started the lab (the lab's instructor and admins see their
/// sessions).
pub async fn lab_learners(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(DISTINCT user_id) FROM lab_sessions WHERE lab_id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Deletes a lab.
pub async fn delete_lab(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM labs WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}

#[derive(sqlx::FromRow)]
struct LabRow {
    id: Uuid,
    slug: String,
    category_id: Option<Uuid>,
    title: String,
    description: String,
    difficulty: String,
    duration: String,
    technology: Vec<String>,
    provider: String,
    rating: Decimal,
    student_count: i32,
    image_url: Option<String>,
    is_popular: bool,
    is_free: bool,
    estimated_cost: Decimal,
    is_published: bool,
    created_at: DateTime<Utc>,
}

/// A page of the labs `instructor` authored, drafts included, newest first; each with its
/// `created_at` for the next cursor.
pub async fn my_labs(
    conn: &mut PgConnection,
    instructor: Uuid,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Vec<(LabSummary, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as::<_, LabRow>(
        "SELECT l.id, l.slug, l.category_id, l.title, l.description,
                l.difficulty::text AS difficulty, l.duration, l.technology, l.provider, l.rating,
                l.student_count, l.image_url, l.is_popular, l.is_free, l.estimated_cost,
                l.is_published, l.created_at
         FROM labs l
         WHERE l.instructor_id = $1
           AND ($2::timestamptz IS NULL OR (l.created_at, l.id) < ($2, $3::uuid))
         ORDER BY l.created_at DESC, l.id DESC
         LIMIT $4",
    )
    .bind(instructor)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok((
            LabSummary {
                id: r.id,
                slug: r.slug,
                category_id: r.category_id,
                title: r.title,
                description: r.description,
                difficulty: decode("difficulty", &r.difficulty)?,
                duration: r.duration,
                technology: r.technology,
                provider: r.provider,
                rating: with_scale(r.rating, 2),
                student_count: r.student_count,
                image_url: r.image_url,
                is_popular: r.is_popular,
                is_free: r.is_free,
                estimated_cost: with_scale(r.estimated_cost, 4),
                is_published: r.is_published,
            },
            r.created_at,
        ))
    })
    .collect()
}
