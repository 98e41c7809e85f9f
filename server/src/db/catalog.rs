//! The catalog's reads, under the caller's RLS role: anonymous visitors and learners see what is
//! published; instructors also their own drafts; admins everything. Lessons appear only for
//! those allowed to study them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use skilltrack_protocol::authoring::LessonCaption;
use skilltrack_protocol::catalog::{
    CourseDetail, CourseRef, CourseSummary, CourseTag, LabCategory, LabDetail, LabRef, LabSummary,
    Lesson, LessonSummary, PublicProfile, Service,
};
use skilltrack_protocol::learning::Enrollment;
use skilltrack_protocol::{DifficultyLevel, EnrollmentStatus, PgEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{decode, with_scale};

/// How course lists are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CourseSort {
    /// Newest first.
    #[default]
    Newest,
    /// Best rated first.
    Rating,
    /// Most learners first.
    Popular,
}

impl CourseSort {
    /// The column sorted on and its SQL type (for the cursor's value).
    fn key(self) -> (&'static str, &'static str) {
        match self {
            Self::Newest => ("created_at", "timestamptz"),
            Self::Rating => ("rating", "numeric"),
            Self::Popular => ("student_count", "integer"),
        }
    }
}

/// Filters of the course list; all optional.
#[derive(Debug, Clone, Default)]
pub struct CourseFilter {
    /// A service's slug.
    pub service: Option<String>,
    /// A level.
    pub level: Option<DifficultyLevel>,
    /// A tag.
    pub tag: Option<String>,
    /// A language.
    pub language: Option<String>,
    /// Only free (true) or only paid (false) courses.
    pub free: Option<bool>,
    /// Words to search for (web-search syntax: `"exact phrase"`, `-not`, `or`).
    pub q: Option<String>,
    /// Include the caller's own drafts (instructors) or all drafts (admins).
    pub include_drafts: bool,
    /// Order.
    pub sort: CourseSort,
}

/// Where a page starts: after this sort value (as text) and id.
pub type Cursor = (String, Uuid);

const COURSE_COLUMNS: &str =
    "c.id, c.slug, c.service_id, c.title, c.description, c.duration, c.level::text AS level,
         c.price, c.rating, c.student_count, c.instructor_id, c.image_url, c.tags, c.language,
         c.is_published, c.created_at, c.updated_at";

/// The course page statement, with `$extra` columns after the page's JSON (a macro, so that
/// each variant is one constant string).
macro_rules! course_page_statement {
    ($extra:literal) => {
        concat!(
            "
        WITH c AS (SELECT * FROM courses WHERE id = $1 OR slug = $2 LIMIT 1)
        SELECT json_build_object(
          'course', json_build_object(
            'id', c.id, 'slug', c.slug, 'service_id', c.service_id, 'title', c.title,
            'description', c.description, 'duration', c.duration, 'level', c.level,
            'price', c.price::text, 'rating', c.rating::text, 'student_count', c.student_count,
            'instructor_id', c.instructor_id, 'image_url', c.image_url, 'tags', c.tags,
            'language', c.language, 'is_published', c.is_published,
            'created_at', c.created_at, 'updated_at', c.updated_at),
          'features', c.features, 'objectives', c.objectives,
          'prerequisite_notes', c.prerequisites, 'preview_video_url', c.preview_video_url,
          'subtitles', c.subtitles, 'max_students', c.max_students, 'start_date', c.start_date,
          'end_date', c.end_date, 'enrollment_deadline', c.enrollment_deadline,
          'instructor', (
            SELECT json_build_object('id', p.id, 'full_name', p.full_name,
                                     'avatar_url', p.avatar_url, 'bio', p.bio)
            FROM public.public_profile_cards(ARRAY[c.instructor_id]) p),
          'required_courses', coalesce((
            SELECT json_agg(json_build_object('id', p.id, 'slug', p.slug, 'title', p.title)
                            ORDER BY p.title)
            FROM course_prerequisites cp JOIN courses p ON p.id = cp.prerequisite_course_id
            WHERE cp.course_id = c.id), '[]'),
          'modules', coalesce((
            SELECT json_agg(json_build_object(
              'id', m.id, 'title', m.title, 'description', m.description,
              'duration_minutes', m.duration_minutes, 'sort_order', m.sort_order,
              'is_published', m.is_published,
              'lessons', coalesce((
                SELECT json_agg(json_build_object(
                  'id', l.id, 'title', l.title, 'description', l.description,
                  'content_type', l.content_type, 'duration_minutes', l.duration_minutes,
                  'sort_order', l.sort_order, 'is_published', l.is_published)
                  ORDER BY l.sort_order, l.id)
                FROM course_lessons l WHERE l.module_id = m.id), '[]'))
              ORDER BY m.sort_order, m.id)
            FROM course_modules m WHERE m.course_id = c.id), '[]'),
          'my_enrollment', (
            SELECT json_build_object(
              'id', e.id, 'course', json_build_object('id', c.id, 'slug', c.slug, 'title', c.title),
              'status', e.status, 'enrolled_at', e.enrolled_at, 'completed_at', e.completed_at,
              'progress_percentage', e.progress_percentage)
            FROM enrollments e WHERE e.user_id = $3 AND e.course_id = c.id))",
            $extra,
            "
        FROM c"
        )
    };
}

/// The SQL of a course page; `bench/` replays it in pgbench.
pub mod course_page_sql {
    /// The whole page as one JSON document, in one round trip: the course, its modules with the
    /// lessons the caller may see (RLS decides), the courses it requires, its instructor's
    /// public card, and the caller's enrollment. `$1`: id (or NULL), `$2`: slug, `$3`: the
    /// caller (or NULL). No row: no such course, or not visible to the caller.
    pub const PAGE: &str = course_page_statement!("");

    /// [`PAGE`], then the page's version and whether the page may be kept for other callers
    /// (`crate::course_page_cache`): the course is published, the caller manages nothing (no
    /// admin, no course of their own: RLS shows them exactly what it shows any learner), and
    /// the instructor's card is public by their role (another user's card depends on their
    /// reviews, which no version follows). Read in one statement, so all of it is of one
    /// snapshot.
    pub const PAGE_VERSIONED: &str = course_page_statement!(
        ",
          coalesce((SELECT v.version FROM private.course_page_versions v
                    WHERE v.course_id = c.id), 0),
          c.is_published
            AND NOT (SELECT private.is_admin())
            AND NOT EXISTS (SELECT 1 FROM courses t WHERE t.instructor_id = $3)
            AND (c.instructor_id IS NULL OR private.card_is_public_by_role(c.instructor_id))"
    );

    /// The per-caller part of a course page, under the caller's role: the course (if they may
    /// see it), its page's version, whether they see what every non-manager sees, and their
    /// enrollment. Same parameters as [`PAGE`].
    pub const PROBE: &str = "
        SELECT c.id AS course_id,
               coalesce(v.version, 0) AS version,
               c.is_published
                 AND NOT (SELECT private.is_admin())
                 AND NOT EXISTS (SELECT 1 FROM courses t WHERE t.instructor_id = $3) AS shared,
               e.id AS enrollment_id, e.status::text AS status, e.enrolled_at, e.completed_at,
               e.progress_percentage
        FROM (SELECT id, is_published FROM courses WHERE id = $1 OR slug = $2 LIMIT 1) c
        LEFT JOIN private.course_page_versions v ON v.course_id = c.id
        LEFT JOIN enrollments e ON e.user_id = $3 AND e.course_id = c.id";

    /// Public cards. `$1`: user ids.
    pub const CARDS: &str =
        "SELECT id, full_name, avatar_url, bio FROM public.public_profile_cards($1)";
}

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

/// The sort value of a course, for the next page's cursor.
pub fn course_cursor(c: &CourseSummary, sort: CourseSort) -> Cursor {
    let value = match sort {
        CourseSort::Newest => c.created_at.to_rfc3339(),
        CourseSort::Rating => c.rating.to_string(),
        CourseSort::Popular => c.student_count.to_string(),
    };
    (value, c.id)
}

/// Active services, in display order.
pub async fn services(conn: &mut PgConnection) -> Result<Vec<Service>, sqlx::Error> {
    sqlx::query_as::<
        _,
        (
            Uuid,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            bool,
            i32,
            i32,
        ),
    >(
        "SELECT id, slug, title, description, icon, image_url, color, featured, course_count,
                student_count
         FROM services WHERE is_active ORDER BY sort_order, title",
    )
    .fetch_all(conn)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|r| Service {
                id: r.0,
                slug: r.1,
                title: r.2,
                description: r.3,
                icon: r.4,
                image_url: r.5,
                color: r.6,
                featured: r.7,
                course_count: r.8,
                student_count: r.9,
            })
            .collect()
    })
}

/// A page of courses matching `filter`, after `cursor`.
pub async fn courses(
    conn: &mut PgConnection,
    filter: &CourseFilter,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Vec<CourseSummary>, sqlx::Error> {
    let (key, key_type) = filter.sort.key();
    // `key` comes from the closed list above, never from the request.
    let sql = format!(
        "SELECT {COURSE_COLUMNS} FROM courses c
         WHERE ($1 OR c.is_published)
           AND ($2::text IS NULL OR c.service_id = (SELECT id FROM services WHERE slug = $2))
           AND ($3::difficulty_level IS NULL OR c.level = $3::difficulty_level)
           AND ($4::text IS NULL OR c.tags @> ARRAY[$4::text])
           AND ($5::text IS NULL OR c.language = $5)
           AND ($6::boolean IS NULL OR (c.price = 0) = $6)
           AND ($7::text IS NULL OR c.search @@ websearch_to_tsquery('english', $7))
           AND ($8::text IS NULL OR (c.{key}, c.id) < ($8::{key_type}, $9::uuid))
         ORDER BY c.{key} DESC, c.id DESC
         LIMIT $10"
    );
    sqlx::query_as::<_, CourseRow>(&sql)
        .bind(filter.include_drafts)
        .bind(filter.service.as_deref())
        .bind(filter.level.map(DifficultyLevel::as_str))
        .bind(filter.tag.as_deref())
        .bind(filter.language.as_deref())
        .bind(filter.free)
        .bind(filter.q.as_deref())
        .bind(cursor.map(|c| c.0.as_str()))
        .bind(cursor.map(|c| c.1))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(CourseSummary::try_from)
        .collect()
}

/// Public cards for these users (instructors, reviewers).
pub async fn profile_cards(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<PublicProfile>, sqlx::Error> {
    sqlx::query_as::<_, (Uuid, Option<String>, Option<String>, Option<String>)>(
        course_page_sql::CARDS,
    )
    .bind(ids)
    .fetch_all(conn)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|(id, full_name, avatar_url, bio)| PublicProfile {
                id,
                full_name,
                avatar_url,
                bio,
            })
            .collect()
    })
}

/// A course page by id or slug — with the caller's enrollment when `me` is given — if the
/// caller may see the course. One statement ([`course_page_sql::PAGE`]).
pub async fn course_detail(
    conn: &mut PgConnection,
    id_or_slug: &str,
    me: Option<Uuid>,
) -> Result<Option<CourseDetail>, sqlx::Error> {
    let page: Option<serde_json::Value> = sqlx::query_scalar(course_page_sql::PAGE)
        .bind(id_or_slug.parse::<Uuid>().ok())
        .bind(id_or_slug)
        .bind(me)
        .fetch_optional(conn)
        .await?;
    page.map(|json| serde_json::from_value(json).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .transpose()
}

/// A course page's per-caller part: what [`crate::course_page_cache`] needs to serve the
/// shared part from memory.
#[derive(Debug, Clone)]
pub struct CoursePageProbe {
    /// The course.
    pub course_id: Uuid,
    /// Its page's version (`private.course_page_versions`).
    pub version: i64,
    /// Whether the caller sees the page every non-manager sees: the course is published and the
    /// caller is neither an admin nor any course's instructor.
    pub shared: bool,
    /// The caller's enrollment, without its course (the page has it).
    pub enrollment: Option<EnrollmentInPage>,
}

/// The caller's enrollment as a course page shows it.
#[derive(Debug, Clone)]
pub struct EnrollmentInPage {
    /// Id.
    pub id: Uuid,
    /// Status.
    pub status: EnrollmentStatus,
    /// Joined.
    pub enrolled_at: DateTime<Utc>,
    /// Completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// 0–100.
    pub progress_percentage: i32,
}

impl EnrollmentInPage {
    /// The enrollment in `course`.
    pub fn in_course(&self, course: &CourseSummary) -> Enrollment {
        Enrollment {
            id: self.id,
            course: CourseRef {
                id: course.id,
                slug: course.slug.clone(),
                title: course.title.clone(),
            },
            status: self.status,
            enrolled_at: self.enrolled_at,
            completed_at: self.completed_at,
            progress_percentage: self.progress_percentage,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ProbeRow {
    course_id: Uuid,
    version: i64,
    shared: bool,
    enrollment_id: Option<Uuid>,
    status: Option<String>,
    enrolled_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    progress_percentage: Option<i32>,
}

/// The per-caller part of a course page by id or slug ([`course_page_sql::PROBE`]), if the
/// caller may see the course.
pub async fn course_page_probe(
    conn: &mut PgConnection,
    id_or_slug: &str,
    me: Option<Uuid>,
) -> Result<Option<CoursePageProbe>, sqlx::Error> {
    let Some(row) = sqlx::query_as::<_, ProbeRow>(course_page_sql::PROBE)
        .bind(id_or_slug.parse::<Uuid>().ok())
        .bind(id_or_slug)
        .bind(me)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let enrollment = match (
        row.enrollment_id,
        row.status,
        row.enrolled_at,
        row.progress_percentage,
    ) {
        (Some(id), Some(status), Some(enrolled_at), Some(progress_percentage)) => {
            Some(EnrollmentInPage {
                id,
                status: decode("status", &status)?,
                enrolled_at,
                completed_at: row.completed_at,
                progress_percentage,
            })
        }
        _ => None,
    };
    Ok(Some(CoursePageProbe {
        course_id: row.course_id,
        version: row.version,
        shared: row.shared,
        enrollment,
    }))
}

/// A course page read whole under the caller's role, with what the cache needs to keep it.
#[derive(Debug, Clone)]
pub struct VersionedCoursePage {
    /// The page, as RLS shows it to the caller.
    pub detail: CourseDetail,
    /// Its version, read in the same statement.
    pub version: i64,
    /// Whether every non-manager sees this page (but for the enrollment and, with it, the
    /// lessons): the caller manages nothing, the course is published, and its instructor's
    /// card is public by their role alone.
    pub shareable: bool,
}

/// [`course_detail`] with the page's version and whether it may be shared
/// ([`course_page_sql::PAGE_VERSIONED`]).
pub async fn course_detail_versioned(
    conn: &mut PgConnection,
    id_or_slug: &str,
    me: Option<Uuid>,
) -> Result<Option<VersionedCoursePage>, sqlx::Error> {
    let Some((json, version, shareable)) =
        sqlx::query_as::<_, (serde_json::Value, i64, bool)>(course_page_sql::PAGE_VERSIONED)
            .bind(id_or_slug.parse::<Uuid>().ok())
            .bind(id_or_slug)
            .bind(me)
            .fetch_optional(conn)
            .await?
    else {
        return Ok(None);
    };
    let detail = serde_json::from_value(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Some(VersionedCoursePage {
        detail,
        version,
        shareable,
    }))
}

/// A lesson's content, if the caller may study it.
pub async fn lesson(conn: &mut PgConnection, id: Uuid) -> Result<Option<Lesson>, sqlx::Error> {
    let row = sqlx::query_as::<
        _,
        (
            Uuid,
            Uuid,
            Uuid,
            String,
            Option<String>,
            String,
            Option<i32>,
            i32,
            bool,
            Option<String>,
            Option<String>,
            Option<String>,
            sqlx::types::Json<Vec<LessonCaption>>,
        ),
    >(
        "SELECT l.id, l.module_id, m.course_id, l.title, l.description, l.content_type,
                l.duration_minutes, l.sort_order, l.is_published, l.content_body, l.content_url,
                l.poster_url, l.captions
         FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
         WHERE l.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Lesson {
        lesson: LessonSummary {
            id: r.0,
            title: r.3,
            description: r.4,
            content_type: r.5,
            duration_minutes: r.6,
            sort_order: r.7,
            is_published: r.8,
        },
        module_id: r.1,
        course_id: r.2,
        content_body: r.9,
        content_url: r.10,
        poster_url: r.11,
        captions: r.12.0,
    }))
}

/// All lab categories, by name.
pub async fn lab_categories(conn: &mut PgConnection) -> Result<Vec<LabCategory>, sqlx::Error> {
    sqlx::query_as::<_, (Uuid, String, String, String, String, i32)>(
        "SELECT id, slug, name, description, icon, lab_count FROM lab_categories ORDER BY name",
    )
    .fetch_all(conn)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|r| LabCategory {
                id: r.0,
                slug: r.1,
                name: r.2,
                description: r.3,
                icon: r.4,
                lab_count: r.5,
            })
            .collect()
    })
}

/// Filters of the lab list; all optional.
#[derive(Debug, Clone, Default)]
pub struct LabFilter {
    /// A category's slug.
    pub category: Option<String>,
    /// A difficulty.
    pub difficulty: Option<DifficultyLevel>,
    /// A technology.
    pub technology: Option<String>,
    /// A provider.
    pub provider: Option<String>,
    /// Only free (true) or only paid (false) labs.
    pub free: Option<bool>,
    /// Words to search for.
    pub q: Option<String>,
    /// Include drafts the caller may see.
    pub include_drafts: bool,
}

const LAB_COLUMNS: &str = "l.id, l.slug, l.category_id, l.title, l.description,
    l.difficulty::text AS difficulty, l.duration, l.technology, l.provider, l.rating,
    l.student_count, l.image_url, l.is_popular, l.is_free, l.estimated_cost, l.is_published,
    l.created_at";

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

impl LabRow {
    fn into_summary(self) -> Result<(LabSummary, DateTime<Utc>), sqlx::Error> {
        Ok((
            LabSummary {
                id: self.id,
                slug: self.slug,
                category_id: self.category_id,
                title: self.title,
                description: self.description,
                difficulty: decode("difficulty", &self.difficulty)?,
                duration: self.duration,
                technology: self.technology,
                provider: self.provider,
                rating: with_scale(self.rating, 2),
                student_count: self.student_count,
                image_url: self.image_url,
                is_popular: self.is_popular,
                is_free: self.is_free,
                estimated_cost: with_scale(self.estimated_cost, 4),
                is_published: self.is_published,
            },
            self.created_at,
        ))
    }
}

/// A page of labs, newest first, after `cursor` (`created_at` as RFC 3339, id); each with its
/// `created_at` for the next cursor.
pub async fn labs(
    conn: &mut PgConnection,
    filter: &LabFilter,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Vec<(LabSummary, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as::<_, LabRow>(&format!(
        "SELECT {LAB_COLUMNS} FROM labs l
         WHERE ($1 OR l.is_published)
           AND ($2::text IS NULL OR l.category_id = (SELECT id FROM lab_categories WHERE slug = $2))
           AND ($3::difficulty_level IS NULL OR l.difficulty = $3::difficulty_level)
           AND ($4::text IS NULL OR l.technology @> ARRAY[$4::text])
           AND ($5::text IS NULL OR l.provider = $5)
           AND ($6::boolean IS NULL OR l.is_free = $6)
           AND ($7::text IS NULL OR l.search @@ websearch_to_tsquery('english', $7))
           AND ($8::text IS NULL OR (l.created_at, l.id) < ($8::timestamptz, $9::uuid))
         ORDER BY l.created_at DESC, l.id DESC
         LIMIT $10"
    ))
    .bind(filter.include_drafts)
    .bind(filter.category.as_deref())
    .bind(filter.difficulty.map(DifficultyLevel::as_str))
    .bind(filter.technology.as_deref())
    .bind(filter.provider.as_deref())
    .bind(filter.free)
    .bind(filter.q.as_deref())
    .bind(cursor.map(|c| c.0.as_str()))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(LabRow::into_summary)
    .collect()
}

#[derive(sqlx::FromRow)]
struct LabExtraRow {
    features: Vec<String>,
    objectives: Vec<String>,
    prerequisites: Vec<String>,
    instructions: Option<String>,
    setup_instructions: Option<String>,
    cleanup_instructions: Option<String>,
    environment_template: Option<String>,
    resource_requirements: serde_json::Value,
    max_concurrent_users: i32,
    instructor_id: Option<Uuid>,
    related_courses: Vec<Uuid>,
}

/// A lab page by id or slug, if the caller may see the lab.
pub async fn lab_detail(
    conn: &mut PgConnection,
    id_or_slug: &str,
) -> Result<Option<LabDetail>, sqlx::Error> {
    let id = id_or_slug.parse::<Uuid>().ok();
    let Some(row) = sqlx::query_as::<_, LabRow>(&format!(
        "SELECT {LAB_COLUMNS} FROM labs l WHERE l.id = $1 OR l.slug = $2"
    ))
    .bind(id)
    .bind(id_or_slug)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let (lab, _) = row.into_summary()?;
    let extra = sqlx::query_as::<_, LabExtraRow>(
        "SELECT features, objectives, prerequisites, instructions, setup_instructions,
                cleanup_instructions, environment_template, resource_requirements,
                max_concurrent_users, instructor_id, related_courses
         FROM labs WHERE id = $1",
    )
    .bind(lab.id)
    .fetch_one(&mut *conn)
    .await?;
    let required_labs = sqlx::query_as::<_, (Uuid, String, String)>(
        "SELECT p.id, p.slug, p.title FROM lab_prerequisites lp
         JOIN labs p ON p.id = lp.prerequisite_lab_id WHERE lp.lab_id = $1 ORDER BY p.title",
    )
    .bind(lab.id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(id, slug, title)| LabRef { id, slug, title })
    .collect();
    let related_courses = sqlx::query_as::<_, (Uuid, String, String)>(
        "SELECT id, slug, title FROM courses WHERE id = ANY ($1) ORDER BY title",
    )
    .bind(&extra.related_courses)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(id, slug, title)| CourseRef { id, slug, title })
    .collect();
    let instructor = match extra.instructor_id {
        Some(id) => profile_cards(conn, &[id]).await?.into_iter().next(),
        None => None,
    };
    Ok(Some(LabDetail {
        lab,
        features: extra.features,
        objectives: extra.objectives,
        prerequisite_notes: extra.prerequisites,
        instructions: extra.instructions,
        setup_instructions: extra.setup_instructions,
        cleanup_instructions: extra.cleanup_instructions,
        environment_template: extra.environment_template,
        resource_requirements: extra.resource_requirements,
        max_concurrent_users: extra.max_concurrent_users,
        instructor,
        required_labs,
        related_courses,
    }))
}

/// All course tags, by name.
pub async fn course_tags(conn: &mut PgConnection) -> Result<Vec<CourseTag>, sqlx::Error> {
    sqlx::query_as::<_, (Uuid, String, Option<String>, Option<String>)>(
        "SELECT id, name, description, color FROM course_tags ORDER BY name",
    )
    .fetch_all(conn)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|(id, name, description, color)| CourseTag {
                id,
                name,
                description,
                color,
            })
            .collect()
    })
}
