//! Instructor authoring under `/api/v1/authoring`: instructors (and admins) create, edit,
//! publish, unpublish and delete their courses, modules, lessons and labs.
//!
//! Who may change what is the database's decision (RLS, `migrations/0006_row_level_security.sql`:
//! instructors manage their own courses and labs and everything under them, admins everything);
//! no handler compares owners. A row the caller does not manage cannot be found here, so every
//! route answers 404 for another instructor's course, module, lesson or lab, published or not.
//! Drafts are read through the catalog's own routes (`GET /api/v1/courses/{id}`,
//! `GET /api/v1/lessons/{id}`, `GET /api/v1/labs/{id}`, `include_drafts=true` on the lists),
//! which show them to their instructor and admins only; every write here answers with the same
//! types those routes return.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use skilltrack_protocol::authoring::{
    CourseDraft, CoursePatch, LabDraft, LabPatch, LabPrerequisiteSet, LessonCaption,
    LessonContentType, LessonDraft, LessonPatch, ModuleDraft, ModulePatch, PrerequisiteSet, TagSet,
};
use skilltrack_protocol::catalog::{
    CourseDetail, CoursePage, LabDetail, LabPage, Lesson, ModuleOutline,
};
use skilltrack_protocol::{FieldError, Problem};
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, sqlstate};
use super::extract::{ApiJson, ApiPath, ApiQuery, SignedIn};
use super::pagination::{self, PageQuery, Position};
use super::validate::Checks;
use crate::db::authoring as db;
use crate::db::catalog;
use crate::db::session::{Access, begin};

/// The authoring routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_courses, create_course))
        .routes(routes!(patch_course, delete_course))
        .routes(routes!(publish_course))
        .routes(routes!(unpublish_course))
        .routes(routes!(put_prerequisites))
        .routes(routes!(put_tags))
        .routes(routes!(create_module))
        .routes(routes!(patch_module, delete_module))
        .routes(routes!(create_lesson))
        .routes(routes!(patch_lesson, delete_lesson))
        .routes(routes!(list_my_labs, create_lab))
        .routes(routes!(patch_lab, delete_lab))
        .routes(routes!(publish_lab))
        .routes(routes!(unpublish_lab))
        .routes(routes!(put_lab_prerequisites))
}

// Rules ----------------------------------------------------------------------------------------

/// The most a course may cost, in USD (`numeric(10,2)`).
const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 2);
/// The most a lab may cost per hour, in USD (`numeric(10,4)`).
const MAX_COST: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 4);
/// Items in a list field (features, objectives, notes).
const MAX_ITEMS: usize = 50;
/// Characters in one list item.
const MAX_ITEM_LEN: usize = 500;
/// Markdown bodies: lessons, lab instructions.
const MAX_MARKDOWN: usize = 200_000;
/// Tags of a course, prerequisites of a course, technologies of a lab.
const MAX_SET: usize = 20;

/// A kebab-case slug of at most 100 characters: `intro-to-rust`.
pub(super) fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// An http(s) URL with a host, or a path under the server's `/media/` (demo and uploaded
/// media), at most 2048 characters, no spaces.
pub(super) fn is_link(s: &str) -> bool {
    if s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    {
        return rest
            .split(['/', '?', '#'])
            .next()
            .is_some_and(|host| !host.is_empty());
    }
    // A lab lesson names its lab: `/labs/<slug>`.
    if let Some(slug) = s.strip_prefix("/labs/") {
        return !slug.is_empty()
            && slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    }
    s.strip_prefix("/media/").is_some_and(|path| {
        path.split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
    })
}

/// A BCP 47 language tag (`en`, `pt-BR`).
fn is_language(s: &str) -> bool {
    s.len() <= 35
        && language_tags::LanguageTag::parse(s).is_ok_and(|t| t.is_language_range() || t.is_valid())
}

/// A tag name: lowercase letters, digits and `-+#.`, 1 to 60 characters.
fn is_tag(s: &str) -> bool {
    (1..=60).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-+#.".contains(c))
}

fn check_link(c: &mut Checks, value: Option<&str>, pointer: &str) {
    if let Some(url) = value {
        c.check(
            is_link(url),
            pointer,
            "invalid_url",
            "An http(s) URL, a `/media/…` path or (a lab lesson) `/labs/<slug>`, at most 2048 characters.",
        );
    }
}

fn check_list(c: &mut Checks, items: Option<&[String]>, pointer: &str) {
    let Some(items) = items else { return };
    c.check(
        items.len() <= MAX_ITEMS,
        pointer,
        "too_many",
        format!("At most {MAX_ITEMS} items."),
    );
    for (i, item) in items.iter().enumerate().take(MAX_ITEMS) {
        c.length(item, &format!("{pointer}/{i}"), 1, MAX_ITEM_LEN);
    }
}

fn check_money(c: &mut Checks, value: Option<Decimal>, pointer: &str, scale: u32, max: Decimal) {
    let Some(value) = value else { return };
    c.check(value >= Decimal::ZERO, pointer, "negative", "0 or more.")
        .check(
            value.normalize().scale() <= scale,
            pointer,
            "too_precise",
            format!("At most {scale} decimals."),
        )
        .check(
            value < max,
            pointer,
            "too_large",
            format!("Less than {max}."),
        );
}

fn check_range(c: &mut Checks, value: Option<i32>, pointer: &str, min: i32, max: i32) {
    if let Some(value) = value {
        c.check(
            (min..=max).contains(&value),
            pointer,
            "out_of_range",
            format!("From {min} to {max}."),
        );
    }
}

/// End not before start, enrollment deadline not after the end: the course's final values.
fn check_dates(
    c: &mut Checks,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
) {
    if let (Some(start), Some(end)) = (start, end) {
        c.check(
            end >= start,
            "/end_date",
            "before_start",
            "Not before `start_date`.",
        );
    }
    if let (Some(deadline), Some(end)) = (deadline, end) {
        c.check(
            deadline <= end,
            "/enrollment_deadline",
            "after_end",
            "Not after `end_date`.",
        );
    }
}

/// A blank optional text is none.
fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A blank optional markdown body is none; a body is kept as written otherwise.
fn blank_body_to_none(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.trim().is_empty())
}

fn trim_in_place(value: &mut String) {
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        *value = trimmed.to_owned();
    }
}

fn check_course(c: &mut Checks, p: &CoursePatch) {
    if let Some(slug) = &p.slug {
        c.check(
            is_slug(slug),
            "/slug",
            "invalid_slug",
            "Lowercase letters and digits in words joined by `-` (`intro-to-rust`), at most 100 \
             characters.",
        );
    }
    if let Some(title) = &p.title {
        c.length(title, "/title", 1, 200);
    }
    if let Some(description) = &p.description {
        c.length(description, "/description", 0, 10_000);
    }
    if let Some(duration) = &p.duration {
        c.length(duration, "/duration", 1, 100);
    }
    check_money(c, p.price, "/price", 2, MAX_PRICE);
    if let Some(language) = &p.language {
        c.check(
            is_language(language),
            "/language",
            "invalid_language",
            "Not a BCP 47 language tag (e.g. `en`, `pt-BR`).",
        );
    }
    check_link(c, p.image_url.clone().flatten().as_deref(), "/image_url");
    check_link(
        c,
        p.preview_video_url.clone().flatten().as_deref(),
        "/preview_video_url",
    );
    check_list(c, p.features.as_deref(), "/features");
    check_list(c, p.objectives.as_deref(), "/objectives");
    check_list(c, p.prerequisite_notes.as_deref(), "/prerequisite_notes");
    if let Some(subtitles) = &p.subtitles {
        c.check(
            subtitles.len() <= MAX_ITEMS,
            "/subtitles",
            "too_many",
            format!("At most {MAX_ITEMS} languages."),
        );
        for (i, language) in subtitles.iter().enumerate().take(MAX_ITEMS) {
            c.check(
                is_language(language),
                &format!("/subtitles/{i}"),
                "invalid_language",
                "Not a BCP 47 language tag.",
            );
        }
    }
    if let Some(Some(seats)) = p.max_students {
        c.check(
            seats > 0,
            "/max_students",
            "out_of_range",
            "More than 0 (or null for unlimited).",
        );
    }
}

fn normalize_course(p: &mut CoursePatch) {
    for text in [&mut p.title, &mut p.description, &mut p.duration]
        .into_iter()
        .flatten()
    {
        trim_in_place(text);
    }
    for link in [&mut p.image_url, &mut p.preview_video_url] {
        if let Some(value) = link.take() {
            *link = Some(blank_to_none(value));
        }
    }
}

/// A draft, as the patch that would set every one of its fields.
pub(super) fn course_draft_as_patch(d: &CourseDraft) -> CoursePatch {
    CoursePatch {
        slug: Some(d.slug.clone()),
        service_id: Some(d.service_id),
        title: Some(d.title.clone()),
        description: Some(d.description.clone()),
        duration: Some(d.duration.clone()),
        level: Some(d.level),
        price: Some(d.price),
        language: d.language.clone(),
        image_url: Some(d.image_url.clone()),
        preview_video_url: Some(d.preview_video_url.clone()),
        features: Some(d.features.clone()),
        objectives: Some(d.objectives.clone()),
        prerequisite_notes: Some(d.prerequisite_notes.clone()),
        subtitles: Some(d.subtitles.clone()),
        max_students: Some(d.max_students),
        start_date: Some(d.start_date),
        end_date: Some(d.end_date),
        enrollment_deadline: Some(d.enrollment_deadline),
    }
}

fn check_module(c: &mut Checks, p: &ModulePatch) {
    if let Some(title) = &p.title {
        c.length(title, "/title", 1, 200);
    }
    if let Some(Some(description)) = &p.description {
        c.length(description, "/description", 0, 10_000);
    }
    check_range(
        c,
        p.duration_minutes.flatten(),
        "/duration_minutes",
        0,
        100_000,
    );
    check_range(c, p.sort_order, "/sort_order", 0, 100_000);
}

fn normalize_module(p: &mut ModulePatch) {
    if let Some(title) = &mut p.title {
        trim_in_place(title);
    }
    if let Some(description) = p.description.take() {
        p.description = Some(blank_to_none(description));
    }
}

fn check_lesson(c: &mut Checks, p: &LessonPatch) {
    if let Some(title) = &p.title {
        c.length(title, "/title", 1, 200);
    }
    if let Some(Some(description)) = &p.description {
        c.length(description, "/description", 0, 1000);
    }
    if let Some(Some(body)) = &p.content_body {
        c.length(body, "/content_body", 0, MAX_MARKDOWN);
    }
    check_link(
        c,
        p.content_url.clone().flatten().as_deref(),
        "/content_url",
    );
    check_media(c, p.poster_url.clone().flatten().as_deref(), "/poster_url");
    if let Some(captions) = &p.captions {
        check_captions(c, captions);
    }
    check_range(
        c,
        p.duration_minutes.flatten(),
        "/duration_minutes",
        0,
        100_000,
    );
    check_range(c, p.sort_order, "/sort_order", 0, 100_000);
}

/// At most this many caption tracks on a lesson (the database's limit too).
const MAX_CAPTIONS: usize = 20;

/// A media file: an http(s) URL or a `/media/…` path (not a lab).
fn check_media(c: &mut Checks, value: Option<&str>, pointer: &str) {
    if let Some(url) = value {
        c.check(
            is_link(url) && !url.starts_with("/labs/"),
            pointer,
            "invalid_url",
            "An http(s) URL or a `/media/…` path, at most 2048 characters.",
        );
    }
}

/// One track per language, each a language tag and a WebVTT file.
fn check_captions(c: &mut Checks, captions: &[LessonCaption]) {
    c.check(
        captions.len() <= MAX_CAPTIONS,
        "/captions",
        "too_many",
        format!("At most {MAX_CAPTIONS} caption tracks."),
    );
    let mut seen = std::collections::BTreeSet::new();
    for (i, caption) in captions.iter().enumerate().take(MAX_CAPTIONS) {
        let at = format!("/captions/{i}");
        // A language, not a script or a range: `en`, `pt-BR`, `zh-Hant` (its first part two or
        // three letters, as players expect of `srclang`).
        let primary = caption.language.split('-').next().unwrap_or_default();
        c.check(
            is_language(&caption.language) && (2..=3).contains(&primary.len()),
            &format!("{at}/language"),
            "invalid_language",
            "A BCP 47 language tag, e.g. `en` or `pt-BR`.",
        );
        c.check(
            seen.insert(caption.language.to_ascii_lowercase()),
            &format!("{at}/language"),
            "duplicate",
            "One caption track per language.",
        );
        check_media(c, Some(&caption.url), &format!("{at}/url"));
    }
}

fn normalize_lesson(p: &mut LessonPatch) {
    if let Some(title) = &mut p.title {
        trim_in_place(title);
    }
    if let Some(description) = p.description.take() {
        p.description = Some(blank_to_none(description));
    }
    if let Some(url) = p.content_url.take() {
        p.content_url = Some(blank_to_none(url));
    }
    if let Some(url) = p.poster_url.take() {
        p.poster_url = Some(blank_to_none(url));
    }
    if let Some(captions) = &mut p.captions {
        trim_captions(captions);
    }
    if let Some(body) = p.content_body.take() {
        p.content_body = Some(blank_body_to_none(body));
    }
}

/// Captions trimmed (the database keeps them in the order of their languages).
fn trim_captions(captions: &mut [LessonCaption]) {
    for caption in captions.iter_mut() {
        trim_in_place(&mut caption.language);
        trim_in_place(&mut caption.url);
    }
}

/// A published lesson carries its content: a text lesson its markdown, a video its media.
fn check_lesson_content(
    c: &mut Checks,
    content_type: LessonContentType,
    body: Option<&str>,
    url: Option<&str>,
    published: bool,
) {
    if !published {
        return;
    }
    match content_type {
        LessonContentType::Text => {
            c.check(
                body.is_some(),
                "/content_body",
                "required",
                "A published text lesson needs its markdown.",
            );
        }
        LessonContentType::Video => {
            c.check(
                url.is_some(),
                "/content_url",
                "required",
                "A published video lesson needs its video.",
            );
        }
        LessonContentType::Quiz | LessonContentType::Lab | LessonContentType::Assignment => {}
    }
}

pub(super) fn lesson_draft_as_patch(d: &LessonDraft) -> LessonPatch {
    LessonPatch {
        title: Some(d.title.clone()),
        description: Some(d.description.clone()),
        content_type: Some(d.content_type),
        content_body: Some(d.content_body.clone()),
        content_url: Some(d.content_url.clone()),
        poster_url: Some(d.poster_url.clone()),
        captions: Some(d.captions.clone()),
        duration_minutes: Some(d.duration_minutes),
        sort_order: d.sort_order,
        is_published: Some(d.is_published),
    }
}

fn check_resources(c: &mut Checks, value: Option<&serde_json::Value>) {
    let Some(value) = value else { return };
    let ok = value.as_object().is_some_and(|o| {
        !o.is_empty()
            && o.iter().all(|(key, n)| {
                matches!(key.as_str(), "cpu" | "memory" | "storage")
                    && n.as_f64().is_some_and(|n| n > 0.0 && n <= 4096.0)
            })
    });
    c.check(
        ok,
        "/resource_requirements",
        "invalid_resources",
        "An object of `cpu` (cores), `memory` and `storage` (GiB), each a positive number.",
    );
}

fn check_lab(c: &mut Checks, p: &LabPatch) {
    if let Some(slug) = &p.slug {
        c.check(
            is_slug(slug),
            "/slug",
            "invalid_slug",
            "Lowercase letters and digits in words joined by `-`, at most 100 characters.",
        );
    }
    if let Some(title) = &p.title {
        c.length(title, "/title", 1, 200);
    }
    if let Some(description) = &p.description {
        c.length(description, "/description", 0, 10_000);
    }
    if let Some(duration) = &p.duration {
        c.length(duration, "/duration", 1, 100);
    }
    if let Some(provider) = &p.provider {
        c.length(provider, "/provider", 1, 100);
    }
    if let Some(technology) = &p.technology {
        c.check(
            technology.len() <= MAX_SET,
            "/technology",
            "too_many",
            format!("At most {MAX_SET}."),
        );
        for (i, t) in technology.iter().enumerate().take(MAX_SET) {
            c.length(t, &format!("/technology/{i}"), 1, 60);
        }
    }
    check_link(c, p.image_url.clone().flatten().as_deref(), "/image_url");
    check_list(c, p.features.as_deref(), "/features");
    check_list(c, p.objectives.as_deref(), "/objectives");
    check_list(c, p.prerequisite_notes.as_deref(), "/prerequisite_notes");
    for (text, pointer) in [
        (&p.instructions, "/instructions"),
        (&p.setup_instructions, "/setup_instructions"),
        (&p.cleanup_instructions, "/cleanup_instructions"),
    ] {
        if let Some(Some(text)) = text {
            c.length(text, pointer, 0, MAX_MARKDOWN);
        }
    }
    if let Some(Some(template)) = &p.environment_template {
        c.length(template, "/environment_template", 0, 100);
    }
    check_resources(c, p.resource_requirements.as_ref());
    check_range(
        c,
        p.max_concurrent_users,
        "/max_concurrent_users",
        1,
        10_000,
    );
    check_money(c, p.estimated_cost, "/estimated_cost", 4, MAX_COST);
    if let Some(related) = &p.related_courses {
        c.check(
            related.len() <= MAX_ITEMS,
            "/related_courses",
            "too_many",
            format!("At most {MAX_ITEMS}."),
        );
    }
}

fn normalize_lab(p: &mut LabPatch) {
    for text in [
        &mut p.title,
        &mut p.description,
        &mut p.duration,
        &mut p.provider,
    ]
    .into_iter()
    .flatten()
    {
        trim_in_place(text);
    }
    for link in [&mut p.image_url, &mut p.environment_template] {
        if let Some(value) = link.take() {
            *link = Some(blank_to_none(value));
        }
    }
    for body in [
        &mut p.instructions,
        &mut p.setup_instructions,
        &mut p.cleanup_instructions,
    ] {
        if let Some(value) = body.take() {
            *body = Some(blank_body_to_none(value));
        }
    }
    if let Some(related) = &mut p.related_courses {
        dedup(related);
    }
}

pub(super) fn lab_draft_as_patch(d: &LabDraft) -> LabPatch {
    LabPatch {
        slug: Some(d.slug.clone()),
        category_id: Some(d.category_id),
        title: Some(d.title.clone()),
        description: Some(d.description.clone()),
        difficulty: Some(d.difficulty),
        duration: Some(d.duration.clone()),
        technology: Some(d.technology.clone()),
        provider: Some(d.provider.clone()),
        image_url: Some(d.image_url.clone()),
        features: Some(d.features.clone()),
        objectives: Some(d.objectives.clone()),
        prerequisite_notes: Some(d.prerequisite_notes.clone()),
        instructions: Some(d.instructions.clone()),
        setup_instructions: Some(d.setup_instructions.clone()),
        cleanup_instructions: Some(d.cleanup_instructions.clone()),
        environment_template: Some(d.environment_template.clone()),
        resource_requirements: d.resource_requirements.clone(),
        max_concurrent_users: d.max_concurrent_users,
        estimated_cost: Some(d.estimated_cost),
        is_free: Some(d.is_free),
        related_courses: Some(d.related_courses.clone()),
    }
}

/// Keeps the first of each value, in order.
fn dedup<T: PartialEq + Copy>(items: &mut Vec<T>) {
    let mut seen = Vec::with_capacity(items.len());
    items.retain(|item| {
        if seen.contains(item) {
            false
        } else {
            seen.push(*item);
            true
        }
    });
}

// Drafts, prepared --------------------------------------------------------------------------
//
// One way to check what an author writes, whether it comes from the API one row at a time or
// from a course package in one push (`super::course_packages`): each normalises a draft in place
// (trims, blank optionals to none) and answers every rule it breaks on its own (422).

/// A new course, normalised and checked.
pub(super) fn prepare_course(draft: &mut CourseDraft) -> Result<(), ApiError> {
    trim_in_place(&mut draft.title);
    trim_in_place(&mut draft.description);
    trim_in_place(&mut draft.duration);
    draft.image_url = blank_to_none(draft.image_url.take());
    draft.preview_video_url = blank_to_none(draft.preview_video_url.take());
    let mut checks = Checks::default();
    check_course(&mut checks, &course_draft_as_patch(draft));
    check_dates(
        &mut checks,
        draft.start_date,
        draft.end_date,
        draft.enrollment_deadline,
    );
    checks.finish()
}

/// A new module, normalised and checked.
pub(super) fn prepare_module(draft: &mut ModuleDraft) -> Result<(), ApiError> {
    trim_in_place(&mut draft.title);
    draft.description = blank_to_none(draft.description.take());
    let mut checks = Checks::default();
    check_module(
        &mut checks,
        &ModulePatch {
            title: Some(draft.title.clone()),
            description: Some(draft.description.clone()),
            duration_minutes: Some(draft.duration_minutes),
            sort_order: draft.sort_order,
            is_published: Some(draft.is_published),
        },
    );
    checks.finish()
}

/// A new lesson, normalised and checked (a published one carries its content).
pub(super) fn prepare_lesson(draft: &mut LessonDraft) -> Result<(), ApiError> {
    trim_in_place(&mut draft.title);
    draft.description = blank_to_none(draft.description.take());
    draft.content_url = blank_to_none(draft.content_url.take());
    draft.poster_url = blank_to_none(draft.poster_url.take());
    trim_captions(&mut draft.captions);
    draft.content_body = blank_body_to_none(draft.content_body.take());
    let mut checks = Checks::default();
    check_lesson(&mut checks, &lesson_draft_as_patch(draft));
    check_lesson_content(
        &mut checks,
        draft.content_type,
        draft.content_body.as_deref(),
        draft.content_url.as_deref(),
        draft.is_published,
    );
    checks.finish()
}

/// A new lab, normalised and checked.
pub(super) fn prepare_lab(draft: &mut LabDraft) -> Result<(), ApiError> {
    let mut patch = lab_draft_as_patch(draft);
    normalize_lab(&mut patch);
    let mut checks = Checks::default();
    check_lab(&mut checks, &patch);
    checks.finish()?;
    // The normalised values, back into the draft.
    *draft = LabDraft {
        title: patch.title.unwrap_or_default(),
        description: patch.description.unwrap_or_default(),
        duration: patch.duration.unwrap_or_default(),
        provider: patch.provider.unwrap_or_default(),
        image_url: patch.image_url.flatten(),
        environment_template: patch.environment_template.flatten(),
        instructions: patch.instructions.flatten(),
        setup_instructions: patch.setup_instructions.flatten(),
        cleanup_instructions: patch.cleanup_instructions.flatten(),
        related_courses: patch.related_courses.unwrap_or_default(),
        ..draft.clone()
    };
    Ok(())
}

/// A course's tags: trimmed, lowercase, each once, and checked.
pub(super) fn prepare_tags(given: &[String]) -> Result<Vec<String>, ApiError> {
    let mut names: Vec<String> = Vec::with_capacity(given.len());
    for name in given {
        let name = name.trim().to_lowercase();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut checks = Checks::default();
    checks.check(
        names.len() <= MAX_SET,
        "/names",
        "too_many",
        format!("At most {MAX_SET} tags."),
    );
    for (i, name) in names.iter().enumerate() {
        checks.check(
            is_tag(name),
            &format!("/names/{i}"),
            "invalid_tag",
            "Lowercase letters, digits and `-+#.`, 1 to 60 characters.",
        );
    }
    checks.finish()?;
    Ok(names)
}

// Errors ---------------------------------------------------------------------------------------

pub(super) fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("No such {what} among those you manage."))
}

pub(super) fn rule(
    status: StatusCode,
    code: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> ApiError {
    ApiError::Rule {
        status,
        code: code.to_owned(),
        detail,
        errors,
    }
}

/// A course's or lab's insert or update refused by the database: a slug in use (23505), or a
/// caller who may not author (RLS, 42501).
pub(super) fn write_error(e: sqlx::Error, what: &str) -> ApiError {
    match sqlstate(&e).as_deref() {
        Some("23505") => rule(
            StatusCode::CONFLICT,
            "slug_taken",
            format!("Another {what} already has this slug."),
            vec![FieldError {
                pointer: "/slug".to_owned(),
                code: "taken".to_owned(),
                detail: "Choose another slug.".to_owned(),
            }],
        ),
        Some("42501") => rule(
            StatusCode::FORBIDDEN,
            "not_an_instructor",
            format!("Only instructors and admins create {what}s."),
            Vec::new(),
        ),
        _ => e.into(),
    }
}

fn field(pointer: String, code: &str, detail: impl Into<String>) -> FieldError {
    FieldError {
        pointer,
        code: code.to_owned(),
        detail: detail.into(),
    }
}

fn validation(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        return Ok(());
    }
    let detail = if errors.len() == 1 {
        format!(
            "{}: {}",
            errors[0].pointer.trim_start_matches('/'),
            errors[0].detail
        )
    } else {
        format!("{} fields break a rule.", errors.len())
    };
    Err(ApiError::Validation { detail, errors })
}

/// 422 unless the caller can see the service.
pub(super) async fn ensure_service(
    conn: &mut PgConnection,
    service: Option<Uuid>,
) -> Result<(), ApiError> {
    let Some(service) = service else {
        return Ok(());
    };
    if db::service_exists(conn, service).await? {
        return Ok(());
    }
    validation(vec![field(
        "/service_id".to_owned(),
        "unknown_service",
        "No such service.",
    )])
}

/// 422 listing each id (at `pointer/index`) that is not a course the caller can see.
async fn ensure_courses(
    conn: &mut PgConnection,
    ids: &[Uuid],
    pointer: &str,
) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let visible = db::visible_courses(conn, ids).await?;
    validation(
        ids.iter()
            .enumerate()
            .filter(|(_, id)| !visible.contains(id))
            .map(|(i, id)| {
                field(
                    format!("{pointer}/{i}"),
                    "unknown_course",
                    format!("No such course: {id}."),
                )
            })
            .collect(),
    )
}

async fn ensure_labs(conn: &mut PgConnection, ids: &[Uuid], pointer: &str) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let visible = db::visible_labs(conn, ids).await?;
    validation(
        ids.iter()
            .enumerate()
            .filter(|(_, id)| !visible.contains(id))
            .map(|(i, id)| {
                field(
                    format!("{pointer}/{i}"),
                    "unknown_lab",
                    format!("No such lab: {id}."),
                )
            })
            .collect(),
    )
}

/// 422 unless the lab category exists.
async fn ensure_category(conn: &mut PgConnection, category: Option<Uuid>) -> Result<(), ApiError> {
    let Some(category) = category else {
        return Ok(());
    };
    if db::lab_category_exists(conn, category).await? {
        return Ok(());
    }
    validation(vec![field(
        "/category_id".to_owned(),
        "unknown_category",
        "No such lab category.",
    )])
}

/// The course as its page shows it, read under the caller's role.
async fn course_page(conn: &mut PgConnection, id: Uuid) -> Result<CourseDetail, ApiError> {
    catalog::course_detail(conn, &id.to_string(), None)
        .await?
        .ok_or_else(|| not_found("course"))
}

/// The lab as its page shows it, read under the caller's role.
async fn lab_page(conn: &mut PgConnection, id: Uuid) -> Result<LabDetail, ApiError> {
    catalog::lab_detail(conn, &id.to_string())
        .await?
        .ok_or_else(|| not_found("lab"))
}

// Lists ----------------------------------------------------------------------------------------

/// The courses the caller teaches, drafts included, newest first.
#[utoipa::path(
    get, path = "/api/v1/authoring/courses", tag = "authoring",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the caller's courses, newest first", body = CoursePage),
        (status = 400, description = "A bad query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_my_courses(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<CoursePage>, ApiError> {
    let (limit, cursor) = pagination::by_time(query.limit, query.cursor.as_deref())?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = db::my_courses(&mut tx, me.0.sub, cursor, limit + 1).await?;
    tx.commit().await?;
    let (items, next_cursor) = pagination::cut(items, limit, |c| Position::at(c.created_at, c.id));
    Ok(Json(CoursePage { items, next_cursor }))
}

/// The labs the caller authored, drafts included, newest first.
#[utoipa::path(
    get, path = "/api/v1/authoring/labs", tag = "authoring",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the caller's labs, newest first", body = LabPage),
        (status = 400, description = "A bad query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_my_labs(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<LabPage>, ApiError> {
    let (limit, cursor) = pagination::by_time(query.limit, query.cursor.as_deref())?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let rows = db::my_labs(&mut tx, me.0.sub, cursor, limit + 1).await?;
    tx.commit().await?;
    let (rows, next_cursor) =
        pagination::cut(rows, limit, |(lab, created)| Position::at(*created, lab.id));
    Ok(Json(LabPage {
        items: rows.into_iter().map(|(lab, _)| lab).collect(),
        next_cursor,
    }))
}

// Courses --------------------------------------------------------------------------------------

/// Creates a course: an unpublished draft, taught by the caller (instructors and admins).
#[utoipa::path(
    post, path = "/api/v1/authoring/courses", tag = "authoring",
    request_body = CourseDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The draft, as its course page shows it", body = CourseDetail),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_an_instructor`: only instructors and admins create courses", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`: another course has this slug", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (each listed in `errors`), an unknown service, or a field that is not the author's to set (e.g. `rating`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_course(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(mut draft): ApiJson<CourseDraft>,
) -> Result<(StatusCode, Json<CourseDetail>), ApiError> {
    prepare_course(&mut draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    ensure_service(&mut tx, Some(draft.service_id)).await?;
    let id = db::create_course(&mut tx, me.0.sub, &draft)
        .await
        .map_err(|e| write_error(e, "course"))?;
    let page = course_page(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(instructor = %me.0.sub, course = %id, slug = %draft.slug, "course created");
    Ok((StatusCode::CREATED, Json(page)))
}

/// Edits a course the caller manages: only the fields present change.
#[utoipa::path(
    patch, path = "/api/v1/authoring/courses/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    request_body = CoursePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course as edited", body = CourseDetail),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (dates are checked against the course's other dates), or is not editable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_course(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut patch): ApiJson<CoursePatch>,
) -> Result<Json<CourseDetail>, ApiError> {
    normalize_course(&mut patch);
    let mut checks = Checks::default();
    check_course(&mut checks, &patch);
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let course = db::lock_course(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("course"))?;
    check_dates(
        &mut checks,
        patch.start_date.unwrap_or(course.start_date),
        patch.end_date.unwrap_or(course.end_date),
        patch
            .enrollment_deadline
            .unwrap_or(course.enrollment_deadline),
    );
    checks.finish()?;
    ensure_service(&mut tx, patch.service_id).await?;
    db::update_course(&mut tx, id, &patch)
        .await
        .map_err(|e| write_error(e, "course"))?;
    let page = course_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// Deletes a course the caller manages, with its modules and lessons. A course learners have
/// enrolled in is never deleted (their progress and certificates would go with it): unpublish
/// it instead.
#[utoipa::path(
    delete, path = "/api/v1/authoring/courses/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a course id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`course_has_learners`: learners enrolled in (or paid for) it; unpublish it instead", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_course(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let has_learners = |detail: String| {
        rule(
            StatusCode::CONFLICT,
            "course_has_learners",
            detail,
            Vec::new(),
        )
    };
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_course(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("course"))?;
    let learners = db::course_learners(&mut tx, id).await?;
    if learners > 0 {
        return Err(has_learners(format!(
            "{learners} learner(s) enrolled in this course: unpublish it instead of deleting it."
        )));
    }
    db::delete_course(&mut tx, id)
        .await
        .map_err(|e| match sqlstate(&e).as_deref() {
            // A payment refers to the course.
            Some("23503") => has_learners(
                "Learners paid for this course: unpublish it instead of deleting it.".to_owned(),
            ),
            _ => e.into(),
        })?;
    tx.commit().await?;
    tracing::info!(by = %me.0.sub, course = %id, "course deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes a course the caller manages, once it is complete enough for a learner: a
/// description, at least one published module with a published lesson, every published lesson
/// with its content, and every required course published. Publishing a published course
/// changes nothing.
#[utoipa::path(
    post, path = "/api/v1/authoring/courses/{id}/publish", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course, published", body = CourseDetail),
        (status = 400, description = "Not a course id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`course_incomplete`: what is missing, in `errors` (`/description` `required`, `/modules` `no_published_module` or `no_published_lesson`, `/lessons/{id}` `content_missing`, `/prerequisites/{id}` `prerequisite_unpublished`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish_course(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CourseDetail>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    if publish_locked_course(&mut tx, id).await? {
        tracing::info!(by = %me.0.sub, course = %id, "course published");
    }
    let page = course_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// Publishes a course the caller manages if it is complete (else `course_incomplete`, listing
/// what is missing); true if it was not published before.
pub(super) async fn publish_locked_course(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<bool, ApiError> {
    let course = db::lock_course(conn, id)
        .await?
        .ok_or_else(|| not_found("course"))?;
    if course.is_published {
        return Ok(false);
    }
    let missing = course_gaps(&db::course_gaps(conn, id).await?);
    if !missing.is_empty() {
        return Err(rule(
            StatusCode::CONFLICT,
            "course_incomplete",
            format!(
                "Not ready to publish: {}.",
                missing
                    .iter()
                    .map(|e| e.detail.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
                    .trim_end_matches('.')
            ),
            missing,
        ));
    }
    db::set_course_published(conn, id, true).await?;
    Ok(true)
}

fn course_gaps(gaps: &db::CourseGaps) -> Vec<FieldError> {
    let mut missing = Vec::new();
    if gaps.description_blank {
        missing.push(field(
            "/description".to_owned(),
            "required",
            "Describe the course.",
        ));
    }
    if gaps.published_modules == 0 {
        missing.push(field(
            "/modules".to_owned(),
            "no_published_module",
            "Publish at least one module.",
        ));
    } else if gaps.ready_modules == 0 {
        missing.push(field(
            "/modules".to_owned(),
            "no_published_lesson",
            "Publish at least one lesson in a published module.",
        ));
    }
    for (lesson, title) in &gaps.lessons_without_content {
        missing.push(field(
            format!("/lessons/{lesson}"),
            "content_missing",
            format!("Give the lesson \"{title}\" its content, or unpublish it."),
        ));
    }
    for (course, slug) in &gaps.unpublished_prerequisites {
        missing.push(field(
            format!("/prerequisites/{course}"),
            "prerequisite_unpublished",
            format!(
                "The required course {} is not published.",
                slug.as_deref().unwrap_or("(not visible to you)")
            ),
        ));
    }
    missing
}

/// Unpublishes a course the caller manages: it disappears from the catalog (its instructor and
/// admins still see it). Enrolled learners keep their enrollment and progress but cannot open
/// its lessons until it is published again.
#[utoipa::path(
    post, path = "/api/v1/authoring/courses/{id}/unpublish", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course, unpublished", body = CourseDetail),
        (status = 400, description = "Not a course id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unpublish_course(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CourseDetail>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_course(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("course"))?;
    db::set_course_published(&mut tx, id, false).await?;
    let page = course_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// Replaces the courses a learner must complete before enrolling in this one.
#[utoipa::path(
    put, path = "/api/v1/authoring/courses/{id}/prerequisites", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    request_body = PrerequisiteSet,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course with its required courses", body = CourseDetail),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many, the course itself (`self_prerequisite`), ids that are not courses the caller can see (`unknown_course`, each listed), or `prerequisite_cycle`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_prerequisites(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut set): ApiJson<PrerequisiteSet>,
) -> Result<Json<CourseDetail>, ApiError> {
    dedup(&mut set.course_ids);
    let mut checks = Checks::default();
    checks.check(
        set.course_ids.len() <= MAX_SET,
        "/course_ids",
        "too_many",
        format!("At most {MAX_SET} courses."),
    );
    for (i, course) in set.course_ids.iter().enumerate() {
        checks.check(
            *course != id,
            &format!("/course_ids/{i}"),
            "self_prerequisite",
            "A course cannot require itself.",
        );
    }
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_course(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("course"))?;
    ensure_courses(&mut tx, &set.course_ids, "/course_ids").await?;
    if db::prerequisite_cycle(&mut tx, db::Prerequisites::Course, id, &set.course_ids).await? {
        return Err(rule(
            StatusCode::UNPROCESSABLE_ENTITY,
            "prerequisite_cycle",
            "One of these courses already requires this one (perhaps through another): no \
             learner could ever enroll."
                .to_owned(),
            Vec::new(),
        ));
    }
    db::set_prerequisites(&mut tx, db::Prerequisites::Course, id, &set.course_ids).await?;
    let page = course_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// Replaces a course's tags. Tags that do not exist yet are created.
#[utoipa::path(
    put, path = "/api/v1/authoring/courses/{id}/tags", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    request_body = TagSet,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course with its tags", body = CourseDetail),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many tags, or a name that is not a tag", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_tags(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(set): ApiJson<TagSet>,
) -> Result<Json<CourseDetail>, ApiError> {
    let names = prepare_tags(&set.names)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_course(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("course"))?;
    db::set_tags(&mut tx, id, &names).await?;
    let page = course_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

// Modules --------------------------------------------------------------------------------------

async fn module_outline(conn: &mut PgConnection, id: Uuid) -> Result<ModuleOutline, ApiError> {
    db::module_outline(conn, id)
        .await?
        .ok_or_else(|| not_found("module"))
}

/// Adds a module to a course the caller manages (after its last module unless `sort_order`
/// says where).
#[utoipa::path(
    post, path = "/api/v1/authoring/courses/{id}/modules", tag = "authoring",
    params(("id" = Uuid, Path, description = "The course")),
    request_body = ModuleDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The module", body = ModuleOutline),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_module(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course): ApiPath<Uuid>,
    ApiJson(mut draft): ApiJson<ModuleDraft>,
) -> Result<(StatusCode, Json<ModuleOutline>), ApiError> {
    prepare_module(&mut draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_course(&mut tx, course)
        .await?
        .ok_or_else(|| not_found("course"))?;
    let id = db::create_module(&mut tx, course, &draft).await?;
    let module = module_outline(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(module)))
}

/// Edits a module of a course the caller manages; `is_published` publishes or hides it.
#[utoipa::path(
    patch, path = "/api/v1/authoring/modules/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The module")),
    request_body = ModulePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The module as edited", body = ModuleOutline),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such module among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or is not editable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_module(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut patch): ApiJson<ModulePatch>,
) -> Result<Json<ModuleOutline>, ApiError> {
    normalize_module(&mut patch);
    let mut checks = Checks::default();
    check_module(&mut checks, &patch);
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_module(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("module"))?;
    db::update_module(&mut tx, id, &patch).await?;
    let module = module_outline(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(module))
}

/// Deletes a module and its lessons, unless learners have progress in them (unpublish it
/// instead).
#[utoipa::path(
    delete, path = "/api/v1/authoring/modules/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The module")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a module id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such module among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`module_has_progress`: learners have progress in its lessons; unpublish it instead", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_module(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    delete_unless_studied(&state, &me, Part::Module, id).await
}

// Lessons --------------------------------------------------------------------------------------

async fn lesson_content(conn: &mut PgConnection, id: Uuid) -> Result<Lesson, ApiError> {
    catalog::lesson(conn, id)
        .await?
        .ok_or_else(|| not_found("lesson"))
}

/// Adds a lesson to a module the caller manages (after its last lesson unless `sort_order`
/// says where).
#[utoipa::path(
    post, path = "/api/v1/authoring/modules/{id}/lessons", tag = "authoring",
    params(("id" = Uuid, Path, description = "The module")),
    request_body = LessonDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The lesson with its content", body = Lesson),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such module among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (a published text lesson needs `content_body`, a published video lesson `content_url`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_lesson(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(module): ApiPath<Uuid>,
    ApiJson(mut draft): ApiJson<LessonDraft>,
) -> Result<(StatusCode, Json<Lesson>), ApiError> {
    prepare_lesson(&mut draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_module(&mut tx, module)
        .await?
        .ok_or_else(|| not_found("module"))?;
    let id = db::create_lesson(&mut tx, module, &draft).await?;
    let lesson = lesson_content(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(lesson)))
}

/// Edits a lesson of a course the caller manages; `is_published` publishes or hides it.
#[utoipa::path(
    patch, path = "/api/v1/authoring/lessons/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lesson")),
    request_body = LessonPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lesson as edited", body = Lesson),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lesson among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (checked on the lesson as it would be), or is not editable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_lesson(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut patch): ApiJson<LessonPatch>,
) -> Result<Json<Lesson>, ApiError> {
    normalize_lesson(&mut patch);
    let mut checks = Checks::default();
    check_lesson(&mut checks, &patch);
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let lesson = db::lock_lesson(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("lesson"))?;
    check_lesson_content(
        &mut checks,
        patch.content_type.unwrap_or(lesson.content_type),
        patch
            .content_body
            .clone()
            .unwrap_or(lesson.content_body)
            .as_deref(),
        patch
            .content_url
            .clone()
            .unwrap_or(lesson.content_url)
            .as_deref(),
        patch.is_published.unwrap_or(lesson.is_published),
    );
    checks.finish()?;
    db::update_lesson(&mut tx, id, &patch).await?;
    let lesson = lesson_content(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(lesson))
}

/// Deletes a lesson, unless learners have progress in it (unpublish it instead).
#[utoipa::path(
    delete, path = "/api/v1/authoring/lessons/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lesson")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a lesson id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lesson among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`lesson_has_progress`: learners have progress in it; unpublish it instead", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_lesson(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    delete_unless_studied(&state, &me, Part::Lesson, id).await
}

/// A part of a course that is deleted only while no learner has progress in it.
#[derive(Clone, Copy)]
enum Part {
    Module,
    Lesson,
}

/// Deletes a module (with its lessons) or a lesson the caller manages, unless learners have
/// progress in it: then `409 module_has_progress` / `lesson_has_progress` (unpublish instead).
async fn delete_unless_studied(
    state: &AppState,
    me: &SignedIn,
    part: Part,
    id: Uuid,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let (found, learners) = match part {
        Part::Module => (
            db::lock_module(&mut tx, id).await?.is_some(),
            db::module_progress(&mut tx, id).await?,
        ),
        Part::Lesson => (
            db::lock_lesson(&mut tx, id).await?.is_some(),
            db::lesson_progress(&mut tx, id).await?,
        ),
    };
    let (name, code, whose) = match part {
        Part::Module => ("module", "module_has_progress", "this module's lessons"),
        Part::Lesson => ("lesson", "lesson_has_progress", "this lesson"),
    };
    if !found {
        return Err(not_found(name));
    }
    if learners > 0 {
        return Err(rule(
            StatusCode::CONFLICT,
            code,
            format!(
                "{learners} learner(s) have progress in {whose}: unpublish it instead of \
                 deleting it."
            ),
            Vec::new(),
        ));
    }
    match part {
        Part::Module => db::delete_module(&mut tx, id).await?,
        Part::Lesson => db::delete_lesson(&mut tx, id).await?,
    };
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// Labs -----------------------------------------------------------------------------------------

/// Creates a lab: an unpublished draft authored by the caller (instructors and admins).
#[utoipa::path(
    post, path = "/api/v1/authoring/labs", tag = "authoring",
    request_body = LabDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The draft, as its lab page shows it", body = LabDetail),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_an_instructor`: only instructors and admins create labs", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`: another lab has this slug", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, an unknown category or related course, or a field that is not the author's to set", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_lab(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(mut draft): ApiJson<LabDraft>,
) -> Result<(StatusCode, Json<LabDetail>), ApiError> {
    prepare_lab(&mut draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    ensure_category(&mut tx, draft.category_id).await?;
    ensure_courses(&mut tx, &draft.related_courses, "/related_courses").await?;
    let id = db::create_lab(&mut tx, me.0.sub, &draft)
        .await
        .map_err(|e| write_error(e, "lab"))?;
    let page = lab_page(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(instructor = %me.0.sub, lab = %id, slug = %draft.slug, "lab created");
    Ok((StatusCode::CREATED, Json(page)))
}

/// Edits a lab the caller manages: only the fields present change.
#[utoipa::path(
    patch, path = "/api/v1/authoring/labs/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lab")),
    request_body = LabPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lab as edited", body = LabDetail),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, an unknown category or related course, or a field that is not editable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_lab(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut patch): ApiJson<LabPatch>,
) -> Result<Json<LabDetail>, ApiError> {
    normalize_lab(&mut patch);
    let mut checks = Checks::default();
    check_lab(&mut checks, &patch);
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_lab(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("lab"))?;
    ensure_category(&mut tx, patch.category_id.flatten()).await?;
    if let Some(related) = &patch.related_courses {
        ensure_courses(&mut tx, related, "/related_courses").await?;
    }
    db::update_lab(&mut tx, id, &patch)
        .await
        .map_err(|e| write_error(e, "lab"))?;
    let page = lab_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// Deletes a lab the caller manages, unless learners have started it (unpublish it instead).
#[utoipa::path(
    delete, path = "/api/v1/authoring/labs/{id}", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lab")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a lab id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`lab_has_learners`: learners have started it; unpublish it instead", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_lab(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_lab(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("lab"))?;
    let learners = db::lab_learners(&mut tx, id).await?;
    if learners > 0 {
        return Err(rule(
            StatusCode::CONFLICT,
            "lab_has_learners",
            format!(
                "{learners} learner(s) have started this lab: unpublish it instead of deleting it."
            ),
            Vec::new(),
        ));
    }
    db::delete_lab(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(by = %me.0.sub, lab = %id, "lab deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes a lab the caller manages, once it has a description, instructions and a
/// category. Publishing a published lab changes nothing.
#[utoipa::path(
    post, path = "/api/v1/authoring/labs/{id}/publish", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lab")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lab, published", body = LabDetail),
        (status = 400, description = "Not a lab id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`lab_incomplete`: what is missing, in `errors` (`/description`, `/instructions`, `/category_id`, each `required`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish_lab(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LabDetail>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    if publish_locked_lab(&mut tx, id).await? {
        tracing::info!(by = %me.0.sub, lab = %id, "lab published");
    }
    let page = lab_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// Publishes a lab the caller manages if it is complete (else `lab_incomplete`, listing what
/// is missing); true if it was not published before.
pub(super) async fn publish_locked_lab(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<bool, ApiError> {
    let lab = db::lock_lab(conn, id)
        .await?
        .ok_or_else(|| not_found("lab"))?;
    if lab.is_published {
        return Ok(false);
    }
    let (no_description, no_instructions, no_category) = db::lab_gaps(conn, id).await?;
    let missing: Vec<FieldError> = [
        (no_description, "/description", "Describe the lab."),
        (
            no_instructions,
            "/instructions",
            "Write the lab's instructions.",
        ),
        (no_category, "/category_id", "Choose the lab's category."),
    ]
    .into_iter()
    .filter(|(gap, _, _)| *gap)
    .map(|(_, pointer, detail)| field(pointer.to_owned(), "required", detail))
    .collect();
    if !missing.is_empty() {
        return Err(rule(
            StatusCode::CONFLICT,
            "lab_incomplete",
            format!(
                "Not ready to publish: {}",
                missing
                    .iter()
                    .map(|e| e.detail.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            missing,
        ));
    }
    db::set_lab_published(conn, id, true).await?;
    Ok(true)
}

/// Unpublishes a lab the caller manages: it disappears from the catalog (its instructor and
/// admins still see it).
#[utoipa::path(
    post, path = "/api/v1/authoring/labs/{id}/unpublish", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lab")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lab, unpublished", body = LabDetail),
        (status = 400, description = "Not a lab id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab among those the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unpublish_lab(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LabDetail>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_lab(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("lab"))?;
    db::set_lab_published(&mut tx, id, false).await?;
    let page = lab_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// Replaces the labs a learner completes before starting this one.
#[utoipa::path(
    put, path = "/api/v1/authoring/labs/{id}/prerequisites", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lab")),
    request_body = LabPrerequisiteSet,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lab with its required labs", body = LabDetail),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many, the lab itself (`self_prerequisite`), ids that are not labs the caller can see (`unknown_lab`, each listed), or `prerequisite_cycle`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_lab_prerequisites(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut set): ApiJson<LabPrerequisiteSet>,
) -> Result<Json<LabDetail>, ApiError> {
    dedup(&mut set.lab_ids);
    let mut checks = Checks::default();
    checks.check(
        set.lab_ids.len() <= MAX_SET,
        "/lab_ids",
        "too_many",
        format!("At most {MAX_SET} labs."),
    );
    for (i, lab) in set.lab_ids.iter().enumerate() {
        checks.check(
            *lab != id,
            &format!("/lab_ids/{i}"),
            "self_prerequisite",
            "A lab cannot require itself.",
        );
    }
    checks.finish()?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    db::lock_lab(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("lab"))?;
    ensure_labs(&mut tx, &set.lab_ids, "/lab_ids").await?;
    if db::prerequisite_cycle(&mut tx, db::Prerequisites::Lab, id, &set.lab_ids).await? {
        return Err(rule(
            StatusCode::UNPROCESSABLE_ENTITY,
            "prerequisite_cycle",
            "One of these labs already requires this one (perhaps through another): no learner \
             could ever start it."
                .to_owned(),
            Vec::new(),
        ));
    }
    db::set_prerequisites(&mut tx, db::Prerequisites::Lab, id, &set.lab_ids).await?;
    let page = lab_page(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(checks: &mut Checks) -> Vec<(String, String)> {
        match checks.finish() {
            Ok(()) => Vec::new(),
            Err(ApiError::Validation { errors, .. }) => {
                errors.into_iter().map(|e| (e.pointer, e.code)).collect()
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn slugs_links_tags_and_languages() {
        for ok in ["a", "intro-to-rust", "k8s-101"] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "Intro",
            "a b",
            "a_b",
            &"a".repeat(101),
        ] {
            assert!(!is_slug(bad), "{bad}");
        }
        for ok in [
            "https://example.com/x.png",
            "http://cdn.example.org",
            "/media/demo/intro-to-the-terminal.webm",
        ] {
            assert!(is_link(ok), "{ok}");
        }
        for bad in [
            "",
            "ftp://x.org/a",
            "https://",
            "javascript:alert(1)",
            "/media/",
            "/media/../secret",
            "/etc/passwd",
            "https://a.org/with space",
        ] {
            assert!(!is_link(bad), "{bad}");
        }
        assert!(is_tag("c++") && is_tag("machine-learning") && !is_tag("Rust") && !is_tag(""));
        assert!(is_language("en") && is_language("pt-BR") && !is_language("english please"));
    }

    #[test]
    fn course_rules_are_reported_per_field() {
        let mut c = Checks::default();
        check_course(
            &mut c,
            &CoursePatch {
                slug: Some("Not A Slug".to_owned()),
                title: Some(String::new()),
                price: Some(Decimal::new(-1, 0)),
                max_students: Some(Some(0)),
                image_url: Some(Some("file:///x".to_owned())),
                ..CoursePatch::default()
            },
        );
        let pointers: Vec<String> = codes(&mut c).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            pointers,
            ["/slug", "/title", "/price", "/image_url", "/max_students"]
        );
        let mut c = Checks::default();
        check_money(
            &mut c,
            Some(Decimal::new(49_995, 3)),
            "/price",
            2,
            MAX_PRICE,
        );
        check_money(&mut c, Some(Decimal::new(4_900, 2)), "/ok", 2, MAX_PRICE);
        check_money(&mut c, Some(MAX_PRICE), "/big", 2, MAX_PRICE);
        assert_eq!(
            codes(&mut c),
            [
                ("/price".to_owned(), "too_precise".to_owned()),
                ("/big".to_owned(), "too_large".to_owned())
            ]
        );
    }

    #[test]
    fn dates_must_follow_each_other() {
        let day = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 3, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
        };
        let mut c = Checks::default();
        check_dates(&mut c, Some(day(10)), Some(day(5)), Some(day(6)));
        assert_eq!(
            codes(&mut c),
            [
                ("/end_date".to_owned(), "before_start".to_owned()),
                ("/enrollment_deadline".to_owned(), "after_end".to_owned())
            ]
        );
        let mut c = Checks::default();
        check_dates(&mut c, Some(day(1)), Some(day(5)), Some(day(5)));
        check_dates(&mut c, None, None, Some(day(5)));
        assert!(codes(&mut c).is_empty());
    }

    #[test]
    fn published_lessons_carry_their_content() {
        let mut c = Checks::default();
        check_lesson_content(&mut c, LessonContentType::Text, None, None, true);
        check_lesson_content(&mut c, LessonContentType::Video, Some("# hi"), None, true);
        check_lesson_content(&mut c, LessonContentType::Video, None, None, false);
        check_lesson_content(&mut c, LessonContentType::Quiz, None, None, true);
        assert_eq!(
            codes(&mut c),
            [
                ("/content_body".to_owned(), "required".to_owned()),
                ("/content_url".to_owned(), "required".to_owned())
            ]
        );
    }

    #[test]
    fn resources_are_positive_numbers_of_known_kinds() {
        let mut c = Checks::default();
        check_resources(&mut c, Some(&serde_json::json!({"cpu": 0.5, "memory": 2})));
        assert!(codes(&mut c).is_empty());
        for bad in [
            serde_json::json!({}),
            serde_json::json!([1]),
            serde_json::json!({"cpu": 0}),
            serde_json::json!({"gpu": 1}),
            serde_json::json!({"cpu": "1"}),
        ] {
            let mut c = Checks::default();
            check_resources(&mut c, Some(&bad));
            assert_eq!(codes(&mut c).len(), 1, "{bad}");
        }
    }

    #[test]
    fn dedup_keeps_the_first_of_each() {
        let mut v = vec![3, 1, 3, 2, 1];
        dedup(&mut v);
        assert_eq!(v, [3, 1, 2]);
    }
}
