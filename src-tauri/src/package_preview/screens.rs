//! The learner screens' views, shaped from a package on disk instead of the cache, so the
//! preview shows the course through the same screens a learner uses.
//!
//! Ids in a preview are the package's own names, stable across reads, so an open screen stays
//! on its lesson or quiz when the folder is read again: the course is `package:<slug>`, a
//! module its folder, a lesson its file (`01-getting-started/01-welcome.md`), an assessment and
//! a lab their slugs, a question `<assessment>#<n>` (1-based).

use std::path::Path;

use skilltrack_package::course::{CoursePackage, PackageAssessment, PackageLesson};
use skilltrack_protocol::authoring::LessonContentType;

use super::attempts::Attempts;
use crate::error::CommandError;
use crate::views::package_preview::{PreviewLab, PreviewLabStep};
use crate::views::quiz::{AssessmentItem, QuizQuestion, QuizScreen};
use crate::views::{
    CaptionTrack, CourseCard, CourseScreen, LessonItem, LessonPage, ModuleItem, PrerequisiteItem,
    first_sentence,
};

/// The course's id in a preview.
pub fn course_id(package: &CoursePackage) -> String {
    format!("package:{}", package.course.slug)
}

/// A question's id in a preview: its assessment and its place (1-based).
pub fn question_id(assessment: &str, index: usize) -> String {
    format!("{assessment}#{}", index + 1)
}

fn not_found(what: &str, id: &str) -> CommandError {
    CommandError::new(
        "not_found",
        format!(
            "The package has no {what} `{id}` now: it may have been renamed or removed on disk."
        ),
    )
}

/// The course's card in the catalog.
pub fn card(package: &CoursePackage) -> CourseCard {
    let course = &package.course;
    CourseCard {
        id: course_id(package),
        slug: course.slug.clone(),
        title: course.title.clone(),
        summary: first_sentence(&course.description),
        level: course.level.to_string(),
        duration: course.duration.clone(),
        price: course.price.to_string(),
        is_free: course.price.is_zero(),
        rating: "0.00".to_owned(),
        tags: package.tags.clone(),
    }
}

fn lesson_item(lesson: &PackageLesson) -> LessonItem {
    LessonItem {
        id: lesson.file.clone(),
        title: lesson.lesson.title.clone(),
        content_type: lesson.lesson.content_type.to_string(),
        duration_minutes: lesson.lesson.duration_minutes,
        completed: false,
        // A package has no publishing: every lesson in it is what learners will see.
        draft: false,
        slug: Some(skilltrack_package::tree::lesson_slug(&lesson.file).to_owned()),
    }
}

/// The course page, as an enrolled learner sees it (with no progress, reviews or bookmark).
pub fn course_screen(package: &CoursePackage, attempts: &Attempts) -> CourseScreen {
    let id = course_id(package);
    CourseScreen {
        card: card(package),
        description: package.course.description.clone(),
        objectives: package.course.objectives.clone(),
        modules: package
            .modules
            .iter()
            .map(|m| ModuleItem {
                id: m.dir.clone(),
                title: m.module.title.clone(),
                lessons: m.lessons.iter().map(lesson_item).collect(),
                draft: false,
                slug: Some(skilltrack_package::tree::module_slug(&m.dir).to_owned()),
            })
            .collect(),
        enrolled: true,
        bookmarked: false,
        progress_percentage: 0,
        prerequisites: package
            .prerequisites
            .iter()
            .map(|slug| PrerequisiteItem {
                course_id: slug.clone(),
                title: slug.clone(),
                completed: false,
            })
            .collect(),
        assessments: package
            .assessments
            .iter()
            .map(|a| assessment_item(&id, a, attempts))
            .collect(),
        reviews: Vec::new(),
        my_review: None,
    }
}

/// A lesson. A video in the package plays through `media_url` (the preview's loopback server);
/// one given by URL is named, not played (a preview makes no network call).
pub fn lesson_page(
    package: &CoursePackage,
    folder: &Path,
    lesson_id: &str,
    media_url: impl FnOnce(&Path) -> Option<String>,
) -> Result<LessonPage, CommandError> {
    let lesson = package
        .modules
        .iter()
        .flat_map(|m| &m.lessons)
        .find(|l| l.file == lesson_id)
        .ok_or_else(|| not_found("lesson", lesson_id))?;
    let video_url = lesson
        .video_file
        .as_ref()
        .and_then(|file| media_url(&folder.join(file)));
    let poster_url = lesson
        .poster_file
        .as_ref()
        .and_then(|file| crate::local_media::picture_data_url(&folder.join(file)));
    // Read as they are now: the reader checked them a moment ago; one gone since is left out.
    let captions = lesson
        .caption_files
        .iter()
        .filter_map(|(language, file)| {
            Some(CaptionTrack {
                language: language.clone(),
                webvtt: std::fs::read_to_string(folder.join(file)).ok()?,
            })
        })
        .collect();
    Ok(LessonPage {
        item: lesson_item(lesson),
        course_id: course_id(package),
        description: lesson.lesson.description.clone(),
        content_body: lesson.lesson.content_body.clone(),
        // A video's URL or file; a lab lesson's `/labs/<slug>` is `lab_id` instead.
        content_url: (lesson.lesson.content_type == LessonContentType::Video)
            .then(|| {
                lesson
                    .lesson
                    .content_url
                    .clone()
                    .or_else(|| lesson.video_file.clone())
            })
            .flatten(),
        download: None,
        video_url,
        streamed: false,
        poster_url,
        captions,
        assessment_id: lesson.assessment.clone(),
        lab_id: lesson.lab.clone(),
        progress_percentage: 0,
    })
}

/// The package's assessment `slug`.
pub fn assessment<'p>(
    package: &'p CoursePackage,
    slug: &str,
) -> Result<&'p PackageAssessment, CommandError> {
    package
        .assessments
        .iter()
        .find(|a| a.slug == slug)
        .ok_or_else(|| not_found("assessment", slug))
}

/// An assessment's questions as a learner sees them: without keys or explanations.
pub fn questions(assessment: &PackageAssessment) -> Vec<QuizQuestion> {
    assessment
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| QuizQuestion {
            id: question_id(&assessment.slug, i),
            question_text: q.question_text.clone(),
            question_type: q.question_type,
            options: q.options.clone(),
            points: q.points,
        })
        .collect()
}

fn assessment_item(course_id: &str, a: &PackageAssessment, attempts: &Attempts) -> AssessmentItem {
    let tries = attempts.items(&a.slug);
    let draft = &a.assessment;
    AssessmentItem {
        id: a.slug.clone(),
        course_id: course_id.to_owned(),
        title: draft.title.clone(),
        description: draft.description.clone().filter(|d| !d.is_empty()),
        kind: draft.kind.to_string(),
        time_limit_minutes: draft.time_limit_minutes,
        max_attempts: draft.max_attempts,
        passing_score: draft.passing_score,
        question_count: i32::try_from(a.questions.len()).unwrap_or(i32::MAX),
        attempts_used: i32::try_from(attempts.submitted(&a.slug)).unwrap_or(i32::MAX),
        latest: tries.first().cloned(),
    }
}

/// The quiz screen of assessment `slug`, with the attempts taken in this preview.
pub fn quiz_screen(
    package: &CoursePackage,
    slug: &str,
    attempts: &Attempts,
) -> Result<QuizScreen, CommandError> {
    let a = assessment(package, slug)?;
    Ok(QuizScreen {
        assessment: assessment_item(&course_id(package), a, attempts),
        course_title: package.course.title.clone(),
        attempts: attempts.items(slug),
        open_attempt: attempts.open(a),
        // Timed or not, a preview's attempt is taken here, with no clock.
        needs_network: false,
    })
}

/// The lab `slug`: its intro, steps and finish page.
pub fn lab(package: &CoursePackage, slug: &str) -> Result<PreviewLab, CommandError> {
    let lab = package
        .labs
        .iter()
        .find(|l| l.slug == slug)
        .ok_or_else(|| not_found("lab", slug))?;
    Ok(PreviewLab {
        id: lab.slug.clone(),
        title: lab.lab.title.clone(),
        description: lab.lab.description.clone(),
        difficulty: lab.lab.difficulty.to_string(),
        duration: lab.lab.duration.clone(),
        intro: lab.lab.instructions.clone(),
        steps: lab
            .steps
            .steps
            .iter()
            .map(|s| PreviewLabStep {
                title: s.title.clone(),
                body: s.body.clone(),
                hints: s.hints.clone(),
                checked: s.verify.is_some(),
            })
            .collect(),
        finish: lab.steps.finish.clone(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    fn skeleton() -> (tempfile::TempDir, std::path::PathBuf, CoursePackage) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shaped-course");
        skilltrack_package::course::write_skeleton(&dir).unwrap();
        let package = skilltrack_package::course::read_dir(&dir).unwrap();
        (tmp, dir, package)
    }

    #[test]
    fn the_skeleton_reads_as_a_learner_sees_it() {
        let (_tmp, dir, package) = skeleton();
        let attempts = Attempts::default();
        let screen = course_screen(&package, &attempts);
        assert_eq!(screen.card.id, "package:shaped-course");
        assert!(screen.card.is_free);
        let lessons: Vec<_> = screen.modules[0]
            .lessons
            .iter()
            .map(|l| (l.id.as_str(), l.content_type.as_str()))
            .collect();
        assert_eq!(
            lessons,
            [
                ("01-getting-started/01-welcome.md", "text"),
                ("01-getting-started/02-check-your-understanding.md", "quiz"),
                ("01-getting-started/03-first-lab.md", "lab"),
            ]
        );
        assert_eq!(screen.assessments[0].id, "getting-started-quiz");
        assert_eq!(screen.assessments[0].question_count, 2);

        let quiz_lesson = lesson_page(&package, &dir, lessons[1].0, |_| None).unwrap();
        assert_eq!(
            quiz_lesson.assessment_id.as_deref(),
            Some("getting-started-quiz")
        );
        let lab_lesson = lesson_page(&package, &dir, lessons[2].0, |_| None).unwrap();
        let lab = lab(&package, lab_lesson.lab_id.as_deref().unwrap()).unwrap();
        assert_eq!(lab.steps.len(), 1);
        assert!(lab.steps[0].checked);
        assert_eq!(lab.finish.as_deref().map(str::trim), Some("Well done."));

        let qs = questions(assessment(&package, "getting-started-quiz").unwrap());
        assert_eq!(qs[0].id, "getting-started-quiz#1");
        assert!(lesson_page(&package, &dir, "nope.md", |_| None).is_err());
    }
}
