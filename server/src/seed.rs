//! `seed-demo`: the demo catalog and demo accounts a new user meets, loaded in one transaction:
//! accounts, services, tags, labs and settings from `server/seed/demo-catalog.json`, each course
//! from its course package under `server/seed/courses/<slug>/` (docs/course-packages.md, read by
//! the same reader as `skilltrack course validate` and `push`), each lab's steps from
//! `server/seed/labs/<slug>/` (Killercoda's layout).
//!
//! Every row gets a stable id derived from its slug and position (UUIDv5), and every insert is
//! an upsert, so running it again changes nothing and duplicates nothing. Modules, lessons and
//! assessments keep their package slugs, so `skilltrack course pull` of a demo course writes
//! its package back as it is in the repository.

use std::path::Path;

use rust_decimal::Decimal;
use serde::Deserialize;
use skilltrack_protocol::{DifficultyLevel, UserRole};
use uuid::Uuid;

use crate::db::{self, Database};

/// The catalog, compiled into the binary so `seed-demo` works from anywhere.
const CATALOG_JSON: &str = include_str!("../seed/demo-catalog.json");
/// The demo videos, served from the data directory's `media/demo/`: one clip as WebM (VP8)
/// and as MP4 (H.264), so the demo has a lesson of each format learners meet.
const DEMO_VIDEOS: &[(&str, &[u8])] = &[
    (
        "intro-to-the-terminal.webm",
        include_bytes!("../seed/media/intro-to-the-terminal.webm"),
    ),
    (
        "intro-to-the-terminal.mp4",
        include_bytes!("../seed/media/intro-to-the-terminal.mp4"),
    ),
];
/// The demo video's poster and captions, and the command-line course's cheat sheet (a PDF
/// attachment), served beside it.
const DEMO_VIDEO_EXTRAS: &[(&str, &[u8])] = &[
    (
        "intro-to-the-terminal.png",
        include_bytes!("../seed/media/intro-to-the-terminal.png"),
    ),
    (
        "intro-to-the-terminal.en.vtt",
        include_bytes!("../seed/media/intro-to-the-terminal.en.vtt"),
    ),
    (
        "intro-to-the-terminal.fr.vtt",
        include_bytes!("../seed/media/intro-to-the-terminal.fr.vtt"),
    ),
    (
        "command-line-cheat-sheet.pdf",
        include_bytes!("../seed/media/command-line-cheat-sheet.pdf"),
    ),
];

/// The namespace of the demo data's UUIDv5 ids.
const NAMESPACE: Uuid = Uuid::from_u128(0x5b1c_7a3e_2f0d_4c8e_9a61_d3e4_f5a6_b7c8);

/// A stable id for a demo row, from a path such as `course/rust-basics/module/0`.
pub fn demo_id(path: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, path.as_bytes())
}

/// Why the demo data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The catalog file is malformed (a bug in the repository, caught by the tests).
    #[error("the demo catalog is malformed: {0}")]
    Catalog(String),
    /// Hashing a demo password failed.
    #[error("hashing a demo password failed: {0}")]
    Hash(String),
    /// Writing the demo media failed.
    #[error("writing the demo media to {path}: {source}")]
    Media {
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database refused a row.
    #[error("loading the demo data failed: {0}")]
    Db(#[from] sqlx::Error),
    /// A demo learner's submission was refused (the catalog names something that is not there,
    /// or its answers do not fit the questions).
    #[error("the demo submission of {account} was refused: {reason}")]
    Submission {
        /// Whose.
        account: String,
        /// Why.
        reason: String,
    },
}

/// The demo catalog as written in `demo-catalog.json`.
#[allow(missing_docs)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub accounts: Vec<Account>,
    pub services: Vec<Service>,
    pub lab_categories: Vec<LabCategory>,
    pub course_tags: Vec<CourseTag>,
    /// Which packages are courses, who teaches them, and whether they are published.
    #[serde(rename = "courses")]
    pub course_entries: Vec<CourseEntry>,
    /// The courses, read from their packages.
    #[serde(skip)]
    pub courses: Vec<Course>,
    pub labs: Vec<Lab>,
    pub system_settings: Vec<Setting>,
    #[serde(default)]
    pub submissions: Vec<Submission>,
    /// Labs in steps: each from its files under `seed/labs/<slug>/` (Killercoda's layout), by
    /// slug.
    #[serde(skip)]
    pub lab_files: std::collections::HashMap<String, skilltrack_package::lab::LabFiles>,
}

mod demo_files {
    include!(concat!(env!("OUT_DIR"), "/seed_labs.rs"));
    include!(concat!(env!("OUT_DIR"), "/seed_courses.rs"));
}
use demo_files::{SEED_COURSE_FILES, SEED_LAB_FILES};

/// The demo lab `slug`'s files, compiled in from `seed/labs/<slug>/` (`None`: it has none).
fn demo_lab(slug: &str) -> Result<Option<skilltrack_package::lab::LabFiles>, SeedError> {
    let file = |path: &str| {
        SEED_LAB_FILES
            .iter()
            .find(|(name, _)| *name == path)
            .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
    };
    let Some(index) = file(&format!("{slug}/index.json")) else {
        return Ok(None);
    };
    skilltrack_package::lab::read(index, |path| {
        file(&format!("{slug}/{path}"))
            .map(str::to_owned)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    })
    .map(Some)
    .map_err(|e| SeedError::Catalog(format!("the demo lab {slug}: {e}")))
}

/// A demo learner's submitted attempt, graded by the server as any other (so an essay in it
/// waits in the instructor's grading queue, as on a living platform).
#[allow(missing_docs)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The learner's e-mail (one of `accounts`), enrolled by the seed.
    pub account: String,
    /// The course's slug.
    pub course: String,
    /// The assessment's title in that course.
    pub assessment: String,
    /// One answer per question, in the questions' order.
    pub answers: Vec<skilltrack_protocol::assessments::AnswerValue>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub email: String,
    pub password: String,
    pub full_name: String,
    pub role: UserRole,
    pub bio: String,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub icon: String,
    pub color: String,
    pub sort_order: i32,
    pub featured: bool,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabCategory {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub icon: String,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseTag {
    pub name: String,
    pub description: String,
    pub color: String,
}

/// A demo course as the catalog names it: its package, and what a package leaves to the
/// server (who teaches it, whether it is published).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseEntry {
    /// The package's folder under `seed/courses/` (the course's slug).
    pub package: String,
    /// The instructor's e-mail (one of `accounts`).
    pub instructor: String,
    /// Whether learners see it.
    pub is_published: bool,
}

/// A demo course: its package as the tree a push sends, who teaches it, whether it is published.
#[derive(Debug)]
pub struct Course {
    /// The instructor's e-mail.
    pub instructor: String,
    /// Whether learners see it.
    pub is_published: bool,
    /// The course, its modules, lessons (a draft lesson unpublished) and assessments.
    pub tree: skilltrack_protocol::course_packages::CourseTree,
}

impl Course {
    /// The course's slug.
    pub fn slug(&self) -> &str {
        &self.tree.course.slug
    }
}

/// Reads the demo course `entry`'s package, compiled in from `seed/courses/<package>/`, with
/// the package reader `skilltrack course validate` uses (from a temporary copy: the reader reads
/// folders).
fn demo_course(entry: &CourseEntry) -> Result<Course, SeedError> {
    let bad = |why: String| SeedError::Catalog(format!("the demo course {}: {why}", entry.package));
    let prefix = format!("{}/", entry.package);
    let dir = tempfile::tempdir().map_err(|e| bad(e.to_string()))?;
    let mut found = false;
    for (path, bytes) in SEED_COURSE_FILES {
        let Some(relative) = path.strip_prefix(&prefix) else {
            continue;
        };
        found = true;
        let to = dir.path().join(relative);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| bad(e.to_string()))?;
        }
        std::fs::write(&to, bytes).map_err(|e| bad(e.to_string()))?;
    }
    if !found {
        return Err(bad("no package under seed/courses/".to_owned()));
    }
    let package = skilltrack_package::course::read_dir(dir.path()).map_err(|problems| {
        let each: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
        bad(each.join("; "))
    })?;
    // The seed serves its videos from the data directory (`/media/demo/…`): a package file
    // would need an upload, which a seed has no one to make.
    if let Some(media) = skilltrack_package::tree::media_files(&package).first() {
        return Err(bad(format!(
            "{} is a file of the package: name demo videos by their URL, /media/demo/<file>",
            media.path
        )));
    }
    if package.course.slug != entry.package {
        return Err(bad(format!(
            "its course.json says slug {:?}: the folder is named by the slug",
            package.course.slug
        )));
    }
    Ok(Course {
        instructor: entry.instructor.clone(),
        is_published: entry.is_published,
        tree: skilltrack_package::tree::to_tree(&package),
    })
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    pub slug: String,
    pub category: String,
    pub instructor: Option<String>,
    pub title: String,
    pub description: String,
    pub difficulty: DifficultyLevel,
    pub duration: String,
    pub technology: Vec<String>,
    pub provider: String,
    pub features: Vec<String>,
    pub objectives: Vec<String>,
    pub prerequisites: Vec<String>,
    pub instructions: String,
    pub environment_template: String,
    pub resource_requirements: serde_json::Value,
    pub max_concurrent_users: i32,
    pub estimated_cost: Decimal,
    pub setup_instructions: String,
    pub cleanup_instructions: String,
    pub related_courses: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    pub is_popular: bool,
    pub is_free: bool,
    pub is_published: bool,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub key: String,
    pub value: serde_json::Value,
    pub description: String,
    pub is_public: bool,
}

/// Parses the compiled-in catalog.
pub fn catalog() -> Result<Catalog, SeedError> {
    let mut catalog: Catalog =
        serde_json::from_str(CATALOG_JSON).map_err(|e| SeedError::Catalog(e.to_string()))?;
    for lab in &catalog.labs {
        if let Some(files) = demo_lab(&lab.slug)? {
            catalog.lab_files.insert(lab.slug.clone(), files);
        }
    }
    catalog.courses = catalog
        .course_entries
        .iter()
        .map(demo_course)
        .collect::<Result<_, _>>()?;
    Ok(catalog)
}

/// The URL a demo video is served at (see [`crate::http::router`]).
pub fn video_url(file: &str) -> String {
    format!("/media/demo/{file}")
}

/// Hashes a password the way sign-in verifies it: Argon2id, PHC string.
pub fn hash_password(password: &str) -> Result<String, SeedError> {
    use argon2::password_hash::{PasswordHasher as _, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SeedError::Hash(e.to_string()))
}

/// Loads the demo data (idempotently) and writes the demo media into `data_dir`.
pub async fn load_demo(db: &Database, data_dir: &Path) -> Result<(), SeedError> {
    let catalog = catalog()?;
    let passwords: Vec<String> = catalog
        .accounts
        .iter()
        .map(|a| a.password.clone())
        .collect();
    // Argon2 is deliberately slow: keep it off the async runtime.
    let hashes = tokio::task::spawn_blocking(move || {
        passwords
            .iter()
            .map(|p| hash_password(p))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| SeedError::Hash(e.to_string()))??;

    let media = crate::media_dir(data_dir).join("demo");
    let media_err = |source| SeedError::Media {
        path: media.display().to_string(),
        source,
    };
    tokio::fs::create_dir_all(&media).await.map_err(media_err)?;
    for (name, bytes) in DEMO_VIDEOS.iter().chain(DEMO_VIDEO_EXTRAS) {
        tokio::fs::write(media.join(name), bytes)
            .await
            .map_err(media_err)?;
    }

    let counts = db::seed::load(db.owner(), &catalog, &hashes).await?;
    for submission in &catalog.submissions {
        load_submission(db, &catalog, submission).await?;
    }
    tracing::info!(
        accounts = catalog.accounts.len(),
        courses = counts.courses,
        lessons = counts.lessons,
        questions = counts.questions,
        labs = counts.labs,
        "demo data loaded"
    );
    Ok(())
}

/// Enrolls the learner and submits their attempt through the server's own submission (as
/// that learner, under RLS), once: an attempt seeded before is left as it is, graded or not.
async fn load_submission(
    db: &Database,
    catalog: &Catalog,
    submission: &Submission,
) -> Result<(), SeedError> {
    use db::session::{Access, Caller};
    use skilltrack_protocol::assessments::{AnswerEntry, AttemptSubmission};
    let refused = |reason: String| SeedError::Submission {
        account: submission.account.clone(),
        reason,
    };
    let course = catalog
        .courses
        .iter()
        .find(|c| c.slug() == submission.course)
        .ok_or_else(|| refused(format!("no course {}", submission.course)))?;
    let index = course
        .tree
        .assessments
        .iter()
        .position(|a| a.assessment.title == submission.assessment)
        .ok_or_else(|| refused(format!("no assessment {:?}", submission.assessment)))?;
    let key = format!("course/{}/assessment/{index}", course.slug());
    let user = db::seed::account_id(&submission.account);
    db::seed::enroll(
        &mut *db.owner().acquire().await?,
        &submission.account,
        course.slug(),
    )
    .await?;
    let attempt = demo_id(&format!("submission/{}/{key}", submission.account));
    let mut tx = db::session::begin(db.api(), Caller::User(user), Access::ReadWrite).await?;
    if db::assessments::attempt(&mut tx, attempt).await?.is_some() {
        return Ok(());
    }
    let assessment_id = demo_id(&key);
    // Started first, as a timed attempt must be (the server stamps its start).
    db::assessments::insert_attempt(&mut tx, attempt, user, assessment_id).await?;
    let answers = submission
        .answers
        .iter()
        .enumerate()
        .map(|(q, answer)| AnswerEntry {
            question_id: demo_id(&format!("{key}/question/{q}")),
            answer: answer.clone(),
        })
        .collect();
    let body = AttemptSubmission {
        assessment_id,
        answers,
    };
    crate::http::assessments::submit_attempt(&mut tx, Caller::User(user), user, attempt, &body)
        .await
        .map_err(|e| refused(e.to_string()))?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalog_parses_and_references_resolve() {
        let c = catalog().unwrap();
        let services: Vec<&str> = c.services.iter().map(|s| s.slug.as_str()).collect();
        let courses: Vec<&str> = c.courses.iter().map(Course::slug).collect();
        let emails: Vec<&str> = c.accounts.iter().map(|a| a.email.as_str()).collect();
        let videos: Vec<String> = DEMO_VIDEOS
            .iter()
            .map(|(name, _)| video_url(name))
            .collect();
        for course in &c.courses {
            let slug = course.slug();
            assert!(services.contains(&course.tree.service.as_str()), "{slug}");
            assert!(emails.contains(&course.instructor.as_str()), "{slug}");
            for r in &course.tree.prerequisites {
                assert!(courses.contains(&r.as_str()), "{slug} requires {r}");
            }
            for lesson in course.tree.modules.iter().flat_map(|m| &m.lessons) {
                if lesson.lesson.content_type
                    == skilltrack_protocol::authoring::LessonContentType::Video
                {
                    assert!(
                        lesson
                            .lesson
                            .content_url
                            .as_ref()
                            .is_some_and(|url| videos.contains(url)),
                        "{slug}: unknown video"
                    );
                    let extras: Vec<String> = lesson
                        .lesson
                        .poster_url
                        .iter()
                        .chain(lesson.lesson.captions.iter().map(|c| &c.url))
                        .cloned()
                        .collect();
                    for url in extras {
                        assert!(
                            DEMO_VIDEO_EXTRAS
                                .iter()
                                .any(|(name, _)| video_url(name) == url),
                            "{slug}: unknown media {url}"
                        );
                    }
                }
            }
        }
        assert_eq!(c.courses.len(), c.course_entries.len());
        assert!(c.courses.iter().filter(|c| c.is_published).count() >= 12);
        assert!(c.labs.iter().filter(|l| l.is_published).count() >= 6);
    }

    #[test]
    fn every_demo_course_package_is_in_the_catalog() {
        let c = catalog().unwrap();
        let mut packaged: Vec<&str> = SEED_COURSE_FILES
            .iter()
            .filter_map(|(path, _)| path.split_once('/').map(|(slug, _)| slug))
            .collect();
        packaged.dedup();
        let mut named: Vec<&str> = c
            .course_entries
            .iter()
            .map(|e| e.package.as_str())
            .collect();
        named.sort_unstable();
        assert_eq!(
            packaged, named,
            "a package under seed/courses/ is never left out"
        );
    }
}
