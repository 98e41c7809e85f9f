//! Courses as code (`docs/course-packages.md`): `GET` a course the caller manages as one tree
//! (`skilltrack course pull`), `PUT` a tree to create or update the course as a draft
//! (`skilltrack course push`).
//!
//! A push is one transaction. It checks the whole tree first with the authoring API's own rules
//! (the `prepare_*` functions of [`super::authoring`] and [`super::assessment_authoring`], every
//! problem at once with its pointer into the tree), then writes only what differs from the
//! server's rows, through the same database functions the API uses. Rows are matched by their
//! package slugs (`migrations/0062_package_slugs.sql`), so a second push of the same folder
//! finds every row and changes nothing, and a learner's progress stays with its lesson. A dry
//! run makes the same writes and rolls them back, so what it reports is exactly what a push
//! would do.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use skilltrack_protocol::FieldError;
use skilltrack_protocol::Problem;
use skilltrack_protocol::authoring::{LessonContentType, ModulePatch};
use skilltrack_protocol::course_packages::{
    ChangeAction, CoursePush, CoursePushReport, CourseTree, PackageChange, PulledCourse,
    TreeAssessment, TreeLab, TreeLesson, TreeModule,
};
use skilltrack_protocol::lab_steps::{LabStepDraft, LabStepsDraft};
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::assessment_authoring::{
    assessment_draft_as_patch, prepare_assessment, prepare_question, question_draft_of,
};
use super::authoring::{
    course_draft_as_patch, ensure_service, lab_draft_as_patch, lesson_draft_as_patch, not_found,
    prepare_course, prepare_lab, prepare_lesson, prepare_module, prepare_tags,
    publish_locked_course, publish_locked_lab, rule, write_error,
};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, SignedIn};
use super::lab_steps::check_steps;
use crate::db::assessments as db_assessments;
use crate::db::authoring as db_authoring;
use crate::db::course_packages::{
    self as db, AssessmentRow, CourseRow, LabRow, LessonRow, ModuleRow,
};
use crate::db::lab_steps as db_steps;
use crate::db::session::{Access, begin};

/// A whole course fits: 500 lessons of markdown are a few megabytes.
const MAX_TREE_BYTES: usize = 64 << 20;

/// The course package routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pull_course))
        .routes(routes!(push_course))
        .layer(DefaultBodyLimit::max(MAX_TREE_BYTES))
}

// The server's rows, as a tree ------------------------------------------------------------------

/// A lesson with the slug a package names it by.
type NamedLesson = (LessonRow, String);
/// A module with its slug and its lessons.
type NamedModule = (ModuleRow, String, Vec<NamedLesson>);
/// An assessment with its slug and its questions.
type NamedAssessment = (AssessmentRow, String, Vec<db_assessments::QuestionRecord>);

/// A course the caller manages, every row of it with the slug a package names it by.
struct Current {
    course: CourseRow,
    tags: Vec<String>,
    prerequisites: Vec<String>,
    modules: Vec<NamedModule>,
    assessments: Vec<NamedAssessment>,
    labs: Vec<(LabRow, LabStepsDraft)>,
}

/// A slug made from a title, for rows no package has named yet: `Getting started!` →
/// `getting-started`.
fn slug_of(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 80 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "untitled".to_owned()
    } else {
        slug
    }
}

/// Slugs for siblings: their own where a package named them, else one from the title, made
/// unique with `-2`, `-3`, ….
fn sibling_slugs<'a>(
    rows: impl Iterator<Item = (Option<&'a str>, &'a str)> + Clone,
) -> Vec<String> {
    let mut taken: HashSet<String> = rows
        .clone()
        .filter_map(|(own, _)| own.map(str::to_owned))
        .collect();
    rows.map(|(own, title)| {
        if let Some(own) = own {
            return own.to_owned();
        }
        let base = slug_of(title);
        let mut slug = base.clone();
        let mut n = 2;
        while taken.contains(&slug) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(slug.clone());
        slug
    })
    .collect()
}

/// The slug a lab lesson's `content_url` names.
fn lab_of(lesson: &skilltrack_protocol::authoring::LessonDraft) -> Option<&str> {
    (lesson.content_type == LessonContentType::Lab)
        .then(|| lesson.content_url.as_deref()?.strip_prefix("/labs/"))
        .flatten()
}

async fn read_current(conn: &mut PgConnection, id: Uuid) -> Result<Option<Current>, ApiError> {
    let Some(course) = db::course(conn, id).await? else {
        return Ok(None);
    };
    let tags = db::tags(conn, id).await?;
    let prerequisites = db::prerequisites(conn, id).await?;
    let module_rows = db::modules(conn, id).await?;
    let mut lesson_rows = db::lessons(conn, id).await?;
    let module_slugs = sibling_slugs(
        module_rows
            .iter()
            .map(|m| (m.package_slug.as_deref(), m.draft.title.as_str())),
    );
    let mut modules = Vec::with_capacity(module_rows.len());
    for (module, slug) in module_rows.into_iter().zip(module_slugs) {
        let (lessons, rest): (Vec<LessonRow>, Vec<LessonRow>) = lesson_rows
            .into_iter()
            .partition(|l| l.module_id == module.id);
        lesson_rows = rest;
        let slugs = sibling_slugs(
            lessons
                .iter()
                .map(|l| (l.package_slug.as_deref(), l.draft.title.as_str())),
        );
        modules.push((
            module,
            slug,
            lessons.into_iter().zip(slugs).collect::<Vec<_>>(),
        ));
    }
    let assessment_rows = db::assessments(conn, id).await?;
    let assessment_slugs = sibling_slugs(
        assessment_rows
            .iter()
            .map(|a| (a.package_slug.as_deref(), a.draft.title.as_str())),
    );
    let mut assessments = Vec::with_capacity(assessment_rows.len());
    for (row, slug) in assessment_rows.into_iter().zip(assessment_slugs) {
        let questions = db_assessments::questions_with_keys(conn, row.id).await?;
        assessments.push((row, slug, questions));
    }
    assessments.sort_by(|a, b| a.1.cmp(&b.1));
    let lab_slugs: Vec<String> = modules
        .iter()
        .flat_map(|(_, _, lessons)| lessons.iter())
        .filter_map(|(l, _)| lab_of(&l.draft).map(str::to_owned))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut labs = Vec::new();
    for lab in db::labs_by_slug(conn, &lab_slugs).await? {
        // Labs of other authors that a lesson opens are theirs to write, not the package's.
        if let Some(authored) = db_steps::authored_steps(conn, lab.id).await? {
            let steps = LabStepsDraft {
                steps: authored
                    .steps
                    .into_iter()
                    .map(|s| LabStepDraft {
                        title: s.step.title,
                        body: s.step.body,
                        hints: s.step.hints,
                        setup: s.setup,
                        verify: s.verify,
                        solve: s.solve,
                    })
                    .collect(),
                finish: authored.finish,
            };
            labs.push((lab, steps));
        }
    }
    Ok(Some(Current {
        course,
        tags,
        prerequisites,
        modules,
        assessments,
        labs,
    }))
}

/// A lab as a tree holds it: what a package carries, nothing it does not.
fn tree_lab(row: &LabRow, steps: &LabStepsDraft) -> TreeLab {
    let mut lab = row.draft.clone();
    lab.category_id = None;
    lab.related_courses = Vec::new();
    TreeLab {
        lab,
        category: row.category.clone(),
        steps: steps.clone(),
    }
}

fn tree_of(current: &Current) -> CourseTree {
    let slug_of_assessment: HashMap<Uuid, &str> = current
        .assessments
        .iter()
        .map(|(row, slug, _)| (row.id, slug.as_str()))
        .collect();
    CourseTree {
        course: current.course.draft.clone(),
        service: current.course.service.clone(),
        tags: current.tags.clone(),
        prerequisites: current.prerequisites.clone(),
        modules: current
            .modules
            .iter()
            .enumerate()
            .map(|(i, (module, slug, lessons))| TreeModule {
                slug: slug.clone(),
                module: skilltrack_protocol::authoring::ModuleDraft {
                    sort_order: Some(position(i)),
                    ..module.draft.clone()
                },
                lessons: lessons
                    .iter()
                    .enumerate()
                    .map(|(j, (lesson, slug))| TreeLesson {
                        slug: slug.clone(),
                        lesson: skilltrack_protocol::authoring::LessonDraft {
                            sort_order: Some(position(j)),
                            ..lesson.draft.clone()
                        },
                        assessment: lesson
                            .assessment_id
                            .and_then(|a| slug_of_assessment.get(&a))
                            .map(|s| (*s).to_owned()),
                        draft: !lesson.draft.is_published,
                    })
                    .collect(),
            })
            .collect(),
        assessments: current
            .assessments
            .iter()
            .map(|(row, slug, questions)| TreeAssessment {
                slug: slug.clone(),
                assessment: row.draft.clone(),
                questions: questions.iter().map(question_draft_of).collect(),
            })
            .collect(),
        labs: current
            .labs
            .iter()
            .map(|(row, steps)| tree_lab(row, steps))
            .collect(),
    }
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// A digest of everything in the tree: any change on the server changes it.
fn revision_of(tree: &CourseTree) -> String {
    let bytes = serde_json::to_vec(tree).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

// Pull ------------------------------------------------------------------------------------------

/// A course the caller manages, by id or slug, as one tree with its answer keys and lab
/// scripts: what `skilltrack course pull` writes as a package.
#[utoipa::path(
    get, path = "/api/v1/authoring/course-packages/{course}", tag = "authoring",
    params(("course" = String, Path, description = "The course's id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course as a tree, with its revision", body = PulledCourse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn pull_course(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course): ApiPath<String>,
) -> Result<Json<PulledCourse>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let id = match Uuid::parse_str(&course) {
        Ok(id) => Some(id),
        Err(_) => db::course_by_slug(&mut tx, &course)
            .await?
            .and_then(|(id, manages)| manages.then_some(id)),
    };
    let current = match id {
        Some(id) => read_current(&mut tx, id).await?,
        None => None,
    }
    .ok_or_else(|| not_found("course"))?;
    // Nothing was written; the locks go with the rollback.
    tx.rollback().await?;
    let tree = tree_of(&current);
    Ok(Json(PulledCourse {
        course_id: current.course.id,
        revision: revision_of(&tree),
        is_published: current.course.is_published,
        tree,
    }))
}

// Push: checks ----------------------------------------------------------------------------------

/// Moves a rule's field errors under `prefix` (their pointers are relative to one draft).
fn collect(errors: &mut Vec<FieldError>, prefix: &str, result: Result<(), ApiError>) {
    match result {
        Ok(()) => {}
        Err(ApiError::Validation { errors: found, .. }) => {
            errors.extend(found.into_iter().map(|e| FieldError {
                pointer: format!("{prefix}{}", e.pointer),
                ..e
            }));
        }
        Err(other) => errors.push(FieldError {
            pointer: prefix.to_owned(),
            code: "invalid".to_owned(),
            detail: other.to_string(),
        }),
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn check_slugs<'a>(errors: &mut Vec<FieldError>, at: &str, slugs: impl Iterator<Item = &'a str>) {
    let mut seen = HashSet::new();
    for (i, slug) in slugs.enumerate() {
        let pointer = format!("{at}/{i}/slug");
        if !is_slug(slug) {
            errors.push(FieldError {
                pointer,
                code: "invalid_slug".to_owned(),
                detail: "Lowercase letters and digits in words joined by `-`, at most 100 \
                         characters."
                    .to_owned(),
            });
        } else if !seen.insert(slug) {
            errors.push(FieldError {
                pointer,
                code: "duplicate_slug".to_owned(),
                detail: format!("`{slug}` is used twice here."),
            });
        }
    }
}

/// The tree's assessments and labs, normalised and checked (see [`prepare_tree`]).
fn prepare_assessments_and_labs(tree: &mut CourseTree, errors: &mut Vec<FieldError>) {
    for (i, assessment) in tree.assessments.iter_mut().enumerate() {
        let at = format!("/tree/assessments/{i}");
        collect(
            errors,
            &format!("{at}/assessment"),
            prepare_assessment(&mut assessment.assessment),
        );
        for (j, question) in assessment.questions.iter_mut().enumerate() {
            question.sort_order = None;
            collect(
                errors,
                &format!("{at}/questions/{j}"),
                prepare_question(question.clone()).map(drop),
            );
        }
    }
    let mut lab_slugs = HashSet::new();
    for (i, lab) in tree.labs.iter_mut().enumerate() {
        let at = format!("/tree/labs/{i}");
        lab.lab.category_id = None;
        lab.lab.related_courses = Vec::new();
        lab.lab.max_concurrent_users.get_or_insert(100);
        lab.lab
            .resource_requirements
            .get_or_insert_with(|| serde_json::json!({"cpu": 1, "memory": 2, "storage": 10}));
        collect(errors, &format!("{at}/lab"), prepare_lab(&mut lab.lab));
        for step in &mut lab.steps.steps {
            step.title = step.title.trim().to_owned();
        }
        collect(errors, &format!("{at}/steps"), check_steps(&lab.steps));
        if !lab_slugs.insert(lab.lab.slug.clone()) {
            errors.push(FieldError {
                pointer: format!("{at}/lab/slug"),
                code: "duplicate_slug".to_owned(),
                detail: format!("The lab `{}` is in the tree twice.", lab.lab.slug),
            });
        }
    }
}

/// Normalises the tree as the server stores it and checks every rule, all problems at once.
/// Content follows the course: every module, lesson and assessment of a pushed course is
/// published, and the course's own state decides whether learners see any of it.
fn prepare_tree(tree: &mut CourseTree) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    tree.course.language.get_or_insert_with(|| "en".to_owned());
    collect(
        &mut errors,
        "/tree/course",
        prepare_course(&mut tree.course),
    );
    match prepare_tags(&tree.tags) {
        Ok(mut tags) => {
            tags.sort();
            tree.tags = tags;
        }
        Err(e) => {
            let mut found = Vec::new();
            collect(&mut found, "", Err(e));
            errors.extend(found.into_iter().map(|e| FieldError {
                pointer: e.pointer.replacen("/names", "/tree/tags", 1),
                ..e
            }));
        }
    }
    tree.prerequisites.sort();
    tree.prerequisites.dedup();
    check_slugs(
        &mut errors,
        "/tree/modules",
        tree.modules.iter().map(|m| m.slug.as_str()),
    );
    check_slugs(
        &mut errors,
        "/tree/assessments",
        tree.assessments.iter().map(|a| a.slug.as_str()),
    );
    tree.assessments.sort_by(|a, b| a.slug.cmp(&b.slug));
    let assessments: HashSet<&str> = tree.assessments.iter().map(|a| a.slug.as_str()).collect();
    for (i, module) in tree.modules.iter_mut().enumerate() {
        let at = format!("/tree/modules/{i}");
        module.module.sort_order = Some(position(i));
        module.module.is_published = true;
        collect(
            &mut errors,
            &format!("{at}/module"),
            prepare_module(&mut module.module),
        );
        check_slugs(
            &mut errors,
            &format!("{at}/lessons"),
            module.lessons.iter().map(|l| l.slug.as_str()),
        );
        for (j, lesson) in module.lessons.iter_mut().enumerate() {
            let at = format!("{at}/lessons/{j}");
            lesson.lesson.sort_order = Some(position(j));
            lesson.lesson.is_published = !lesson.draft;
            collect(
                &mut errors,
                &format!("{at}/lesson"),
                prepare_lesson(&mut lesson.lesson),
            );
            if let Some(a) = &lesson.assessment {
                if !assessments.contains(a.as_str()) {
                    errors.push(FieldError {
                        pointer: format!("{at}/assessment"),
                        code: "unknown_assessment".to_owned(),
                        detail: format!("No assessment `{a}` in this course."),
                    });
                }
            }
        }
    }
    prepare_assessments_and_labs(tree, &mut errors);
    tree.labs.sort_by(|a, b| a.lab.slug.cmp(&b.lab.slug));
    if errors.is_empty() {
        return Ok(());
    }
    let detail = if errors.len() == 1 {
        format!("{}: {}", errors[0].pointer, errors[0].detail)
    } else {
        format!("{} problems in the course.", errors.len())
    };
    Err(ApiError::Validation { detail, errors })
}

// Push: writes ----------------------------------------------------------------------------------

/// The changes of one push, in the order they are made.
#[derive(Default)]
struct Changes(Vec<PackageChange>);

impl Changes {
    fn add(&mut self, action: ChangeAction, item: impl Into<String>) {
        self.0.push(PackageChange {
            action,
            item: item.into(),
        });
    }
}

fn conflict(code: &str, detail: String) -> ApiError {
    rule(StatusCode::CONFLICT, code, detail, Vec::new())
}

/// Creates or updates the course `tree` names by its slug, as a draft of the caller's, and
/// says what changed. Refused (`course_changed_on_server`) when the course was changed on the
/// server since `base_revision`, unless `force`.
#[utoipa::path(
    put, path = "/api/v1/authoring/course-packages", tag = "authoring",
    request_body = CoursePush,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What changed (or, in a dry run, would change)", body = CoursePushReport),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_an_instructor`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`course_changed_on_server` (pull, or push with `force`), `slug_taken` (another instructor's course or lab), `lesson_has_progress`, `module_has_progress`, `question_has_answers` or `assessment_has_attempts` (a deletion that would lose learners' work), `course_incomplete` or `lab_incomplete` (with `publish`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every rule the tree breaks, each at its pointer (`/tree/modules/0/lessons/2/lesson/title`), or an unknown service, category or prerequisite", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn push_course(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(push): ApiJson<CoursePush>,
) -> Result<Json<CoursePushReport>, ApiError> {
    let CoursePush {
        mut tree,
        base_revision,
        force,
        dry_run,
        publish,
    } = push;
    prepare_tree(&mut tree)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let service = db::service_by_slug(&mut tx, &tree.service)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "/tree/service",
                "unknown_service",
                format!("No service `{}`.", tree.service),
            )
        })?;
    tree.course.service_id = service;
    ensure_service(&mut tx, Some(service)).await?;
    let mut changes = Changes::default();
    let slug = tree.course.slug.clone();
    let (id, current) = course_to_write(
        &mut tx,
        me.0.sub,
        &tree,
        base_revision.as_deref(),
        force,
        &mut changes,
    )
    .await?;
    if let Some(current) = &current {
        if current.course.draft != tree.course {
            db_authoring::update_course(&mut tx, id, &course_draft_as_patch(&tree.course))
                .await
                .map_err(|e| write_error(e, "course"))?;
            changes.add(ChangeAction::Update, format!("course {slug}"));
        }
    }
    write_tags_and_prerequisites(&mut tx, id, current.as_ref(), &tree, &mut changes).await?;
    let assessment_ids =
        write_assessments(&mut tx, id, current.as_ref(), &tree, &mut changes).await?;
    write_labs(&mut tx, me.0.sub, &tree, &mut changes).await?;
    write_modules(
        &mut tx,
        id,
        current.as_ref(),
        &tree,
        &assessment_ids,
        &mut changes,
    )
    .await?;
    if publish {
        if publish_locked_course(&mut tx, id).await? {
            changes.add(ChangeAction::Publish, format!("course {slug}"));
        }
        for lab in &tree.labs {
            if let Some(row) = db::labs_by_slug(&mut tx, std::slice::from_ref(&lab.lab.slug))
                .await?
                .first()
            {
                if publish_locked_lab(&mut tx, row.id).await? {
                    changes.add(ChangeAction::Publish, format!("lab {}", lab.lab.slug));
                }
            }
        }
    }
    let after = read_current(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("course"))?;
    let revision = revision_of(&tree_of(&after));
    let applied = !dry_run;
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
        if !changes.0.is_empty() {
            tracing::info!(
                instructor = %me.0.sub, course = %id, changes = changes.0.len(),
                "course pushed from a package"
            );
        }
    }
    Ok(Json(CoursePushReport {
        course_id: if dry_run && current.is_none() {
            Uuid::nil()
        } else {
            id
        },
        changes: changes.0,
        applied,
        revision,
    }))
}

/// The course the tree names by its slug: the caller's, unchanged on the server since
/// `base_revision` (or the same as the tree, or `force`), with its rows; or a new one.
async fn course_to_write(
    tx: &mut PgConnection,
    instructor: Uuid,
    tree: &CourseTree,
    base_revision: Option<&str>,
    force: bool,
    changes: &mut Changes,
) -> Result<(Uuid, Option<Current>), ApiError> {
    let slug = tree.course.slug.clone();
    Ok(match db::course_by_slug(tx, &slug).await? {
        Some((id, true)) => {
            let current = read_current(tx, id)
                .await?
                .ok_or_else(|| not_found("course"))?;
            let server = tree_of(&current);
            let revision = revision_of(&server);
            if !force && base_revision != Some(revision.as_str()) && server != *tree {
                let detail = if base_revision.is_some() {
                    format!(
                        "The course `{slug}` was changed on the server since this folder was \
                         last pulled or pushed: pull it to see the changes, or push with --force \
                         to replace them."
                    )
                } else {
                    format!(
                        "A course `{slug}` exists on the server and this folder was never pulled \
                         from it or pushed to it: pull it first, or push with --force to replace \
                         it."
                    )
                };
                return Err(conflict("course_changed_on_server", detail));
            }
            (id, Some(current))
        }
        Some((_, false)) => {
            return Err(conflict(
                "slug_taken",
                format!("Another instructor's course has the slug `{slug}`: choose another."),
            ));
        }
        None => {
            let id = db_authoring::create_course(tx, instructor, &tree.course)
                .await
                .map_err(|e| write_error(e, "course"))?;
            changes.add(ChangeAction::Create, format!("course {slug}"));
            (id, None)
        }
    })
}

async fn write_tags_and_prerequisites(
    tx: &mut PgConnection,
    id: Uuid,
    current: Option<&Current>,
    tree: &CourseTree,
    changes: &mut Changes,
) -> Result<(), ApiError> {
    if current.map_or(!tree.tags.is_empty(), |c| c.tags != tree.tags) {
        db_authoring::set_tags(tx, id, &tree.tags).await?;
        changes.add(ChangeAction::Update, "tags");
    }
    if current.map_or(!tree.prerequisites.is_empty(), |c| {
        c.prerequisites != tree.prerequisites
    }) {
        let found: HashMap<String, Uuid> = db::courses_by_slug(tx, &tree.prerequisites)
            .await?
            .into_iter()
            .collect();
        let mut ids = Vec::new();
        let mut errors = Vec::new();
        for (i, slug) in tree.prerequisites.iter().enumerate() {
            match found.get(slug) {
                Some(p) if *p != id => ids.push(*p),
                Some(_) => errors.push(FieldError {
                    pointer: format!("/tree/prerequisites/{i}"),
                    code: "self_prerequisite".to_owned(),
                    detail: "A course cannot require itself.".to_owned(),
                }),
                None => errors.push(FieldError {
                    pointer: format!("/tree/prerequisites/{i}"),
                    code: "unknown_course".to_owned(),
                    detail: format!("No course `{slug}` that you can see."),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation {
                detail: format!(
                    "{} prerequisite(s) are not courses you can require.",
                    errors.len()
                ),
                errors,
            });
        }
        let kind = db_authoring::Prerequisites::Course;
        if db_authoring::prerequisite_cycle(tx, kind, id, &ids).await? {
            return Err(rule(
                StatusCode::UNPROCESSABLE_ENTITY,
                "prerequisite_cycle",
                "One of these courses already requires this one (perhaps through another): no \
                 learner could ever enroll."
                    .to_owned(),
                Vec::new(),
            ));
        }
        db_authoring::set_prerequisites(tx, kind, id, &ids).await?;
        changes.add(ChangeAction::Update, "prerequisites");
    }
    Ok(())
}

/// Writes the assessments and their questions; answers each slug's id.
async fn write_assessments(
    tx: &mut PgConnection,
    course: Uuid,
    current: Option<&Current>,
    tree: &CourseTree,
    changes: &mut Changes,
) -> Result<HashMap<String, Uuid>, ApiError> {
    let mut existing: BTreeMap<&str, &NamedAssessment> = current
        .map(|c| c.assessments.iter().map(|a| (a.1.as_str(), a)).collect())
        .unwrap_or_default();
    let mut ids = HashMap::new();
    for a in &tree.assessments {
        let (id, questions) = if let Some((row, _, questions)) = existing.remove(a.slug.as_str()) {
            if row.draft != a.assessment {
                db_assessments::update_assessment(
                    tx,
                    row.id,
                    &assessment_draft_as_patch(&a.assessment),
                )
                .await?;
                changes.add(ChangeAction::Update, format!("assessment {}", a.slug));
            }
            if !row.is_published {
                db::set_assessment_published(tx, row.id, true).await?;
            }
            (row.id, questions.as_slice())
        } else {
            let id = db_assessments::create_assessment(tx, course, &a.assessment).await?;
            // Content follows the course: the course's own state hides it from learners.
            db::set_assessment_published(tx, id, true).await?;
            changes.add(ChangeAction::Create, format!("assessment {}", a.slug));
            (id, [].as_slice())
        };
        db::set_assessment_slug(tx, id, &a.slug).await?;
        for (j, q) in a.questions.iter().enumerate() {
            let mut write = prepare_question(q.clone())?;
            write.sort_order = Some(position(j));
            let item = format!("question {}#{}", a.slug, j + 1);
            if let Some(old) = questions.get(j) {
                if question_draft_of(old) != *q || old.sort_order != position(j) {
                    db_assessments::update_question(tx, old.id, &write).await?;
                    changes.add(ChangeAction::Update, item);
                }
            } else {
                db_assessments::create_question(tx, id, &write).await?;
                changes.add(ChangeAction::Create, item);
            }
        }
        for (j, old) in questions.iter().enumerate().skip(a.questions.len()) {
            if db_assessments::question_has_answers(tx, old.id).await? {
                return Err(conflict(
                    "question_has_answers",
                    format!(
                        "Question {} of `{}` has learners' answers: keep it in the package.",
                        j + 1,
                        a.slug
                    ),
                ));
            }
            db_assessments::delete_question(tx, old.id).await?;
            changes.add(
                ChangeAction::Delete,
                format!("question {}#{}", a.slug, j + 1),
            );
        }
        ids.insert(a.slug.clone(), id);
    }
    for (slug, (row, _, _)) in existing {
        if db_assessments::has_submitted_attempts(tx, row.id).await? {
            return Err(conflict(
                "assessment_has_attempts",
                format!("Learners have submitted attempts at `{slug}`: keep it in the package."),
            ));
        }
        db_assessments::delete_assessment(tx, row.id).await?;
        changes.add(ChangeAction::Delete, format!("assessment {slug}"));
    }
    Ok(ids)
}

/// Creates or updates the tree's labs and their steps.
async fn write_labs(
    tx: &mut PgConnection,
    instructor: Uuid,
    tree: &CourseTree,
    changes: &mut Changes,
) -> Result<(), ApiError> {
    let slugs: Vec<String> = tree.labs.iter().map(|l| l.lab.slug.clone()).collect();
    let rows: HashMap<String, LabRow> = db::labs_by_slug(tx, &slugs)
        .await?
        .into_iter()
        .map(|r| (r.draft.slug.clone(), r))
        .collect();
    for (i, lab) in tree.labs.iter().enumerate() {
        let slug = &lab.lab.slug;
        let category = match &lab.category {
            Some(c) => Some(db::category_by_slug(tx, c).await?.ok_or_else(|| {
                ApiError::field(
                    &format!("/tree/labs/{i}/category"),
                    "unknown_category",
                    format!("No lab category `{c}`."),
                )
            })?),
            None => None,
        };
        let mut draft = lab.lab.clone();
        draft.category_id = category;
        let id = if let Some(row) = rows.get(slug) {
            if db_authoring::lock_lab(tx, row.id).await?.is_none() {
                return Err(conflict(
                    "slug_taken",
                    format!("Another author's lab has the slug `{slug}`: rename the lab's folder."),
                ));
            }
            let steps = db_steps::authored_steps(tx, row.id).await?;
            if tree_lab(
                row,
                &LabStepsDraft {
                    steps: Vec::new(),
                    finish: None,
                },
            )
            .lab != lab.lab
                || row.category != lab.category
            {
                let mut patch = lab_draft_as_patch(&draft);
                // The package does not carry them: they stay as the server has them.
                patch.related_courses = None;
                db_authoring::update_lab(tx, row.id, &patch)
                    .await
                    .map_err(|e| write_error(e, "lab"))?;
                changes.add(ChangeAction::Update, format!("lab {slug}"));
            }
            let same_steps = steps.is_some_and(|s| {
                s.finish == lab.steps.finish
                    && s.steps.len() == lab.steps.steps.len()
                    && s.steps.iter().zip(&lab.steps.steps).all(|(a, b)| {
                        a.step.title == b.title
                            && a.step.body == b.body
                            && a.step.hints == b.hints
                            && a.setup == b.setup
                            && a.verify == b.verify
                            && a.solve == b.solve
                    })
            });
            if same_steps {
                continue;
            }
            row.id
        } else {
            let id = db_authoring::create_lab(tx, instructor, &draft)
                .await
                .map_err(|e| write_error(e, "lab"))?;
            changes.add(ChangeAction::Create, format!("lab {slug}"));
            id
        };
        db_steps::replace_steps(tx, id, &lab.steps).await?;
        changes.add(ChangeAction::Update, format!("steps of {slug}"));
    }
    Ok(())
}

/// Deletes the modules and lessons the tree no longer has, unless learners worked on them.
async fn delete_dropped(
    tx: &mut PgConnection,
    existing: &BTreeMap<&str, &NamedModule>,
    wanted: &HashMap<&str, &TreeModule>,
    changes: &mut Changes,
) -> Result<(), ApiError> {
    for (slug, (row, _, lessons)) in existing {
        match wanted.get(slug) {
            None => {
                if db_authoring::module_progress(tx, row.id).await? > 0 {
                    return Err(conflict(
                        "module_has_progress",
                        format!(
                            "Learners have progress in module `{slug}`: keep it in the package."
                        ),
                    ));
                }
                db_authoring::delete_module(tx, row.id).await?;
                changes.add(ChangeAction::Delete, format!("module {slug}"));
            }
            Some(module) => {
                let keep: HashSet<&str> = module.lessons.iter().map(|l| l.slug.as_str()).collect();
                for (lesson, lesson_slug) in lessons {
                    if keep.contains(lesson_slug.as_str()) {
                        continue;
                    }
                    if db_authoring::lesson_progress(tx, lesson.id).await? > 0 {
                        return Err(conflict(
                            "lesson_has_progress",
                            format!(
                                "Learners have progress in lesson `{slug}/{lesson_slug}`: keep \
                                 it in the package."
                            ),
                        ));
                    }
                    db_authoring::delete_lesson(tx, lesson.id).await?;
                    changes.add(ChangeAction::Delete, format!("lesson {slug}/{lesson_slug}"));
                }
            }
        }
    }
    Ok(())
}

/// Writes the modules and their lessons: deletions first (refused where learners have
/// progress), then updates and creations in order.
async fn write_modules(
    tx: &mut PgConnection,
    course: Uuid,
    current: Option<&Current>,
    tree: &CourseTree,
    assessment_ids: &HashMap<String, Uuid>,
    changes: &mut Changes,
) -> Result<(), ApiError> {
    let existing: BTreeMap<&str, &NamedModule> = current
        .map(|c| c.modules.iter().map(|m| (m.1.as_str(), m)).collect())
        .unwrap_or_default();
    let wanted: HashMap<&str, &TreeModule> =
        tree.modules.iter().map(|m| (m.slug.as_str(), m)).collect();
    delete_dropped(tx, &existing, &wanted, changes).await?;
    for module in &tree.modules {
        let slug = &module.slug;
        let (id, lessons) = if let Some((row, _, lessons)) = existing.get(slug.as_str()) {
            if row.draft != module.module {
                let m = &module.module;
                db_authoring::update_module(
                    tx,
                    row.id,
                    &ModulePatch {
                        title: Some(m.title.clone()),
                        description: Some(m.description.clone()),
                        duration_minutes: Some(m.duration_minutes),
                        sort_order: m.sort_order,
                        is_published: Some(m.is_published),
                    },
                )
                .await?;
                changes.add(ChangeAction::Update, format!("module {slug}"));
            }
            (row.id, lessons.as_slice())
        } else {
            let id = db_authoring::create_module(tx, course, &module.module).await?;
            changes.add(ChangeAction::Create, format!("module {slug}"));
            (id, [].as_slice())
        };
        db::set_module_slug(tx, id, slug).await?;
        let by_slug: HashMap<&str, &LessonRow> =
            lessons.iter().map(|(l, s)| (s.as_str(), l)).collect();
        for lesson in &module.lessons {
            let item = format!("lesson {slug}/{}", lesson.slug);
            let assessment = lesson
                .assessment
                .as_ref()
                .and_then(|a| assessment_ids.get(a).copied());
            let id = if let Some(row) = by_slug.get(lesson.slug.as_str()) {
                if row.draft != lesson.lesson {
                    db_authoring::update_lesson(tx, row.id, &lesson_draft_as_patch(&lesson.lesson))
                        .await?;
                    changes.add(ChangeAction::Update, item);
                } else if row.assessment_id != assessment {
                    changes.add(ChangeAction::Update, item);
                }
                row.id
            } else {
                let id = db_authoring::create_lesson(tx, id, &lesson.lesson).await?;
                changes.add(ChangeAction::Create, item);
                id
            };
            db::set_lesson_keys(tx, id, &lesson.slug, assessment).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{sibling_slugs, slug_of};

    #[test]
    fn titles_become_slugs_and_siblings_never_share_one() {
        assert_eq!(slug_of("Getting started!"), "getting-started");
        assert_eq!(slug_of("  C++ & Rust: 2024  "), "c-rust-2024");
        assert_eq!(slug_of("¿?"), "untitled");
        let rows = [(None, "Intro"), (Some("intro"), "Named"), (None, "Intro")];
        assert_eq!(
            sibling_slugs(rows.iter().copied()),
            ["intro-2", "intro", "intro-3"]
        );
    }
}
