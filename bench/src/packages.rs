//! `package-bench`: courses as code at size. Generates a package of 50 modules, 500 lessons and
//! 50 quizzes (5 questions each) on disk, then times validating it (`read_dir`, what
//! `skilltrack course validate` runs), loading it into the server (the first push: every row
//! created in one transaction), pushing it again (nothing to change), and pulling it back,
//! beside the same run's `GET /api/v1/courses/{id}` of the loaded course. The server runs in
//! this process (its own runtime) over an embedded PostgreSQL with the demo data.
//!
//!     cargo run --release -p skilltrack-bench --bin package-bench -- --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the figures on stdout are this program's output"
)]

mod stack;
mod stats;

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde_json::{Value, json};
use skilltrack_package::course::read_dir;
use skilltrack_package::tree::{to_tree, write_dir};
use skilltrack_protocol::assessments::{
    AnswerKey, AssessmentDraft, QuestionDraft, QuestionOptions,
};
use skilltrack_protocol::authoring::{CourseDraft, LessonContentType, LessonDraft, ModuleDraft};
use skilltrack_protocol::course_packages::{CourseTree, TreeAssessment, TreeLesson, TreeModule};
use skilltrack_protocol::enums::{AssessmentType, DifficultyLevel, QuestionType};

use crate::stack::{Stack, StackOptions, call};
use crate::stats::percentile;

/// Measures validating, loading, re-pushing and pulling a large package.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Modules (10 lessons each; every module's last lesson is a quiz).
    #[arg(long, default_value_t = 50)]
    modules: usize,
    /// Times each figure is measured (loads use a new slug each time).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// A course of `modules` modules of ten lessons, the last of each a quiz of five questions.
fn tree(modules: usize) -> CourseTree {
    let body = "## What you will do\n\nRead this, then try it in the terminal:\n\n```bash\nls -la ~\n```\n\n"
        .repeat(8);
    let lesson = |m: usize, l: usize| TreeLesson {
        slug: format!("lesson-{l}"),
        lesson: LessonDraft {
            title: format!("Lesson {m}.{l}"),
            description: Some(format!("What lesson {m}.{l} is about.")),
            content_type: if l == 10 {
                LessonContentType::Quiz
            } else {
                LessonContentType::Text
            },
            content_body: Some(body.clone()),
            content_url: None,
            poster_url: None,
            captions: Vec::new(),
            duration_minutes: Some(10),
            sort_order: Some(0),
            is_published: true,
        },
        assessment: (l == 10).then(|| format!("quiz-{m}")),
        draft: false,
    };
    let question = |q: usize| {
        QuestionDraft {
        question_text: format!("Which command lists files ({q})?"),
        question_type: QuestionType::MultipleChoice,
        options: serde_json::from_value::<QuestionOptions>(json!({
            "choices": [{"id": "a", "text": "ls"}, {"id": "b", "text": "cd"}, {"id": "c", "text": "rm"}]
        }))
        .unwrap_or_default(),
        answer_key: Some(AnswerKey::Choices { ids: vec!["a".to_owned()] }),
        points: 1,
        explanation: Some("`ls` lists.".to_owned()),
        sort_order: None,
    }
    };
    CourseTree {
        course: CourseDraft {
            slug: "bench-package".to_owned(),
            service_id: uuid::Uuid::nil(),
            title: "A large course".to_owned(),
            description: "Fifty modules.".to_owned(),
            duration: "80 hours".to_owned(),
            level: DifficultyLevel::Beginner,
            price: rust_decimal::Decimal::ZERO,
            language: Some("en".to_owned()),
            image_url: None,
            preview_video_url: None,
            features: Vec::new(),
            objectives: vec!["Be fluent in the shell.".to_owned()],
            prerequisite_notes: Vec::new(),
            subtitles: Vec::new(),
            max_students: None,
            start_date: None,
            end_date: None,
            enrollment_deadline: None,
        },
        service: "software-development".to_owned(),
        tags: vec!["bash".to_owned()],
        prerequisites: Vec::new(),
        modules: (1..=modules)
            .map(|m| TreeModule {
                slug: format!("module-{m}"),
                module: ModuleDraft {
                    title: format!("Module {m}"),
                    description: Some(format!("Module {m} of {modules}.")),
                    duration_minutes: Some(100),
                    sort_order: Some(0),
                    is_published: true,
                },
                lessons: (1..=10).map(|l| lesson(m, l)).collect(),
            })
            .collect(),
        assessments: (1..=modules)
            .map(|m| TreeAssessment {
                slug: format!("quiz-{m}"),
                assessment: AssessmentDraft {
                    title: format!("Quiz {m}"),
                    description: None,
                    kind: AssessmentType::Quiz,
                    time_limit_minutes: None,
                    max_attempts: Some(3),
                    passing_score: 70,
                    review_policy: None,
                },
                questions: (1..=5).map(question).collect(),
            })
            .collect(),
        labs: Vec::new(),
    }
}

struct Figures {
    validate: Vec<Duration>,
    load: Vec<Duration>,
    again: Vec<Duration>,
    pull: Vec<Duration>,
    page: Vec<Duration>,
}

async fn measure(url: &str, dir: &std::path::Path, args: &Args) -> anyhow::Result<Figures> {
    let http = reqwest::Client::new();
    let signed_in: Value = http
        .post(format!("{url}/api/v1/auth/sign-in"))
        .json(&json!({"email": "instructor@skilltrack.dev", "password": "instructor-demo-pass"}))
        .send()
        .await?
        .json()
        .await?;
    let token = signed_in["access_token"]
        .as_str()
        .context("no token")?
        .to_owned();
    let mut f = Figures {
        validate: Vec::new(),
        load: Vec::new(),
        again: Vec::new(),
        pull: Vec::new(),
        page: Vec::new(),
    };
    let push_url = format!("{url}/api/v1/authoring/course-packages");
    for run in 0..args.runs {
        let t = Instant::now();
        let package = read_dir(dir).map_err(|p| anyhow::anyhow!("{} problems", p.0.len()))?;
        f.validate.push(t.elapsed());
        let mut tree = to_tree(&package);
        tree.course.slug = format!("bench-package-{run}");
        let body = json!({"tree": tree});
        let t = Instant::now();
        let report = call(
            &http,
            reqwest::Method::PUT,
            &push_url,
            &token,
            Some(body.clone()),
        )
        .await?;
        f.load.push(t.elapsed());
        let created = report["changes"].as_array().map_or(0, Vec::len);
        // The course, its tags, 50 × (quiz + 5 questions) and 50 × (module + 10 lessons).
        let expected = 2 + args.modules * 6 + args.modules * 11;
        if created != expected {
            bail!("the load made {created} changes, not {expected}");
        }
        let id = report["course_id"]
            .as_str()
            .context("course id")?
            .to_owned();
        let mut again_body = body;
        again_body["base_revision"] = report["revision"].clone();
        let t = Instant::now();
        let again = call(
            &http,
            reqwest::Method::PUT,
            &push_url,
            &token,
            Some(again_body),
        )
        .await?;
        f.again.push(t.elapsed());
        if again["changes"].as_array().is_none_or(|c| !c.is_empty()) {
            bail!("a second push changed something: {again}");
        }
        let t = Instant::now();
        call(
            &http,
            reqwest::Method::GET,
            &format!("{push_url}/{id}"),
            &token,
            None,
        )
        .await?;
        f.pull.push(t.elapsed());
        let t = Instant::now();
        call(
            &http,
            reqwest::Method::GET,
            &format!("{url}/api/v1/courses/{id}"),
            &token,
            None,
        )
        .await?;
        f.page.push(t.elapsed());
    }
    for v in [
        &mut f.validate,
        &mut f.load,
        &mut f.again,
        &mut f.pull,
        &mut f.page,
    ] {
        v.sort();
    }
    Ok(f)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    write_dir(&tree(args.modules), dir.path())?;
    let files = walk(dir.path());
    let stack = Stack::start(&StackOptions {
        pg_bin_dir: None,
        pool: 16,
        server_threads: args.server_threads,
        labs: false,
    })?;
    let url = stack.url.clone();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let f = client_rt.block_on(measure(&url, dir.path(), &args))?;

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "Machine: {cores} cores ({cpu}), server runtime {} threads; package: {} modules, {} lessons, {} quizzes, {files} files; median of {} runs",
        args.server_threads,
        args.modules,
        args.modules * 10,
        args.modules,
        args.runs
    );
    println!();
    println!("| figure | measured (median) | worst | comparison (same run) | target |");
    println!("|---|---|---|---|---|");
    let row = |name: &str, v: &[Duration], cmp: &str, target: &str| {
        println!(
            "| {name} | {} | {} | {cmp} | {target} |",
            ms(percentile(v, 0.5)),
            ms(percentile(v, 1.0))
        );
    };
    let page = format!("course page of it: {}", ms(percentile(&f.page, 0.5)));
    row(
        "validate (`course validate`: read and check every file)",
        &f.validate,
        "",
        "",
    );
    row(
        "load (first push: every row, one transaction)",
        &f.load,
        &page,
        "",
    );
    let total: Vec<Duration> = f
        .validate
        .iter()
        .zip(&f.load)
        .map(|(a, b)| *a + *b)
        .collect();
    row("validate + load", &total, "", "≤ 2 s");
    row("push again (nothing to change)", &f.again, "", "");
    row("pull (the whole tree)", &f.pull, &page, "");
    Ok(())
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| {
                let p = e.path();
                if p.is_dir() { walk(&p) } else { 1 }
            })
            .sum()
    })
}
