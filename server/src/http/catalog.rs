//! The catalog, for anyone (anonymous visitors included): services, courses, lessons (for
//! those allowed to study them), lab categories, labs, tags.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use skilltrack_protocol::catalog::{
    CourseDetail, CoursePage, CourseTagList, LabCategoryList, LabDetail, LabPage, Lesson,
    ServiceList,
};
use skilltrack_protocol::{DifficultyLevel, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{AnyCaller, ApiPath, ApiQuery};
use super::pagination;
use super::validate::Checks;
use crate::course_page_cache;
use crate::db::catalog::{self, CourseFilter, CourseSort, Cursor, LabFilter};
use crate::db::session::{Access, Caller, begin};

/// The catalog's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_services))
        .routes(routes!(list_courses))
        .routes(routes!(get_course))
        .routes(routes!(get_lesson))
        .routes(routes!(list_lab_categories))
        .routes(routes!(list_labs))
        .routes(routes!(get_lab))
        .routes(routes!(list_course_tags))
}

fn check_page(limit: Option<u32>, q: Option<&str>) -> Result<u32, ApiError> {
    let limit = pagination::limit(limit)?;
    Checks::default()
        .length(q.unwrap_or(""), "/q", 0, 200)
        .finish()?;
    Ok(limit)
}

fn start(cursor: Option<&str>) -> Result<Option<Cursor>, ApiError> {
    Ok(pagination::start(cursor)?.map(|p| (p.key, p.id)))
}

/// Active services, in display order.
#[utoipa::path(
    get, path = "/api/v1/services", tag = "catalog",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The services", body = ServiceList),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_services(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
) -> Result<Json<ServiceList>, ApiError> {
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let items = catalog::services(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(ServiceList { items }))
}

/// How to sort courses.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortParam {
    /// Newest first (default).
    #[default]
    Newest,
    /// Best rated first.
    Rating,
    /// Most learners first.
    Popular,
}

/// Query of `GET /api/v1/courses`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CourseQuery {
    /// A service's slug.
    service: Option<String>,
    /// `Beginner`, `Intermediate` or `Advanced`.
    level: Option<DifficultyLevel>,
    /// A tag.
    tag: Option<String>,
    /// A language, e.g. `en`.
    language: Option<String>,
    /// `true`: free courses only; `false`: paid only.
    free: Option<bool>,
    /// Search words (`"exact phrase"`, `-exclude`, `or`).
    #[param(max_length = 200)]
    q: Option<String>,
    /// `newest` (default), `rating` or `popular`.
    #[param(inline)]
    sort: Option<SortParam>,
    /// Also the caller's own drafts (instructors) or every draft (admins).
    include_drafts: Option<bool>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Courses, filtered, searched and sorted.
#[utoipa::path(
    get, path = "/api/v1/courses", tag = "catalog",
    params(CourseQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of courses", body = CoursePage),
        (status = 400, description = "A bad parameter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_courses(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiQuery(query): ApiQuery<CourseQuery>,
) -> Result<Json<CoursePage>, ApiError> {
    let limit = check_page(query.limit, query.q.as_deref())?;
    let cursor = start(query.cursor.as_deref())?;
    let sort = match query.sort.unwrap_or_default() {
        SortParam::Newest => CourseSort::Newest,
        SortParam::Rating => CourseSort::Rating,
        SortParam::Popular => CourseSort::Popular,
    };
    let filter = CourseFilter {
        service: query.service,
        level: query.level,
        tag: query.tag,
        language: query.language,
        free: query.free,
        q: query.q.filter(|q| !q.trim().is_empty()),
        include_drafts: query.include_drafts.unwrap_or(false),
        sort,
    };
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let items = catalog::courses(&mut tx, &filter, cursor.as_ref(), limit + 1).await?;
    tx.commit().await?;
    let (items, next_cursor) = pagination::cut(items, limit, |c| {
        let (key, id) = catalog::course_cursor(c, sort);
        pagination::Position { key, id }
    });
    Ok(Json(CoursePage { items, next_cursor }))
}

/// A course page: details, syllabus (lessons for those who may study it), prerequisites, the
/// instructor, and the caller's enrollment.
#[utoipa::path(
    get, path = "/api/v1/courses/{id}", tag = "catalog",
    params(("id" = String, Path, description = "The course's id or slug")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The course", body = CourseDetail),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course, or not published", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_course(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CourseDetail>, ApiError> {
    let not_found = || ApiError::NotFound("No such course.".to_owned());
    let me = match caller {
        Caller::User(user) => Some(user),
        Caller::Anonymous => None,
    };
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    // The caller's part first (their enrollment, and whether they see what every
    // non-manager sees): then the shared part from memory if it is there at this version.
    let probe = catalog::course_page_probe(&mut tx, &id, me)
        .await?
        .ok_or_else(not_found)?;
    let studies = probe
        .enrollment
        .as_ref()
        .is_some_and(|e| course_page_cache::studies(e.status));
    if probe.shared {
        if let Some(mut detail) = state
            .course_pages
            .page(probe.course_id, probe.version, studies)
        {
            tx.commit().await?;
            detail.my_enrollment = probe.enrollment.map(|e| e.in_course(&detail.course));
            return Ok(Json(detail));
        }
    }
    let page = catalog::course_detail_versioned(&mut tx, &id, me)
        .await?
        .ok_or_else(not_found)?;
    tx.commit().await?;
    if page.shareable {
        let studies = page
            .detail
            .my_enrollment
            .as_ref()
            .is_some_and(|e| course_page_cache::studies(e.status));
        state
            .course_pages
            .remember(page.version, &page.detail, studies);
    }
    Ok(Json(page.detail))
}

/// A lesson's content, for enrolled learners, the course's instructor and admins.
#[utoipa::path(
    get, path = "/api/v1/lessons/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "The lesson")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The lesson", body = Lesson),
        (status = 400, description = "Not a lesson id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lesson, or not yours to study (enroll first)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_lesson(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Lesson>, ApiError> {
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let lesson = catalog::lesson(&mut tx, id).await?;
    tx.commit().await?;
    lesson.map(Json).ok_or_else(|| {
        ApiError::NotFound("No such lesson, or you are not enrolled in its course.".to_owned())
    })
}

/// All lab categories.
#[utoipa::path(
    get, path = "/api/v1/lab-categories", tag = "catalog",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The categories", body = LabCategoryList),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_lab_categories(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
) -> Result<Json<LabCategoryList>, ApiError> {
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let items = catalog::lab_categories(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(LabCategoryList { items }))
}

/// Query of `GET /api/v1/labs`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LabQuery {
    /// A category's slug.
    category: Option<String>,
    /// `Beginner`, `Intermediate` or `Advanced`.
    difficulty: Option<DifficultyLevel>,
    /// A technology, e.g. `git`.
    technology: Option<String>,
    /// A provider.
    provider: Option<String>,
    /// `true`: free labs only; `false`: paid only.
    free: Option<bool>,
    /// Search words.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Also the caller's own drafts (instructors) or every draft (admins).
    include_drafts: Option<bool>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Labs, filtered and searched, newest first.
#[utoipa::path(
    get, path = "/api/v1/labs", tag = "catalog",
    params(LabQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of labs", body = LabPage),
        (status = 400, description = "A bad parameter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_labs(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiQuery(query): ApiQuery<LabQuery>,
) -> Result<Json<LabPage>, ApiError> {
    let limit = check_page(query.limit, query.q.as_deref())?;
    let cursor = start(query.cursor.as_deref())?;
    let filter = LabFilter {
        category: query.category,
        difficulty: query.difficulty,
        technology: query.technology,
        provider: query.provider,
        free: query.free,
        q: query.q.filter(|q| !q.trim().is_empty()),
        include_drafts: query.include_drafts.unwrap_or(false),
    };
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let rows = catalog::labs(&mut tx, &filter, cursor.as_ref(), limit + 1).await?;
    tx.commit().await?;
    let (rows, next_cursor) = pagination::cut(rows, limit, |(lab, created)| {
        pagination::Position::at(*created, lab.id)
    });
    Ok(Json(LabPage {
        items: rows.into_iter().map(|(lab, _)| lab).collect(),
        next_cursor,
    }))
}

/// A lab page.
#[utoipa::path(
    get, path = "/api/v1/labs/{id}", tag = "catalog",
    params(("id" = String, Path, description = "The lab's id or slug")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The lab", body = LabDetail),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab, or not published", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_lab(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<LabDetail>, ApiError> {
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let lab = catalog::lab_detail(&mut tx, &id).await?;
    tx.commit().await?;
    lab.map(Json)
        .ok_or_else(|| ApiError::NotFound("No such lab.".to_owned()))
}

/// All course tags.
#[utoipa::path(
    get, path = "/api/v1/course-tags", tag = "catalog",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The tags", body = CourseTagList),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_course_tags(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
) -> Result<Json<CourseTagList>, ApiError> {
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let items = catalog::course_tags(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(CourseTagList { items }))
}
