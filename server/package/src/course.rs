//! A course as a folder of files (a *course package*, `format = 1`; see
//! `docs/course-packages.md`), read into the authoring API's own drafts:
//!
//! ```text
//! my-course/
//!   course.json                      the course (CourseDraft's fields, `format`, `service`, …)
//!   01-getting-started/
//!     module.json                    the module (ModuleDraft's fields)
//!     01-welcome.md                  a lesson: a front-matter header, then markdown
//!   assessments/<slug>.json          an assessment and its questions, with their keys
//!   labs/<slug>/index.json …         a lab in Killercoda's layout (see [`crate::lab`])
//!   labs/<slug>/lab.json             the lab's own fields (LabDraft's)
//! ```
//!
//! Reading checks the whole folder and reports every problem at once, each with its
//! `file:line:column`, what is wrong and how to fix it ([`Problem`]), so an author fixes a
//! package in one pass and CI fails with a list, not with the first typo.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use skilltrack_protocol::assessments::{AnswerKey, AssessmentDraft, QuestionDraft};
use skilltrack_protocol::authoring::{
    CourseDraft, LabDraft, LessonCaption, LessonContentType, LessonDraft, ModuleDraft,
};
use skilltrack_protocol::enums::QuestionType;
use skilltrack_protocol::lab_steps::LabStepsDraft;

/// The package format this reader reads (`course.json`'s `format`).
pub const FORMAT: u64 = 1;

/// The package's own file at its root.
pub const COURSE_FILE: &str = "course.json";

/// Folders at the root that are not modules.
pub(crate) const ASSESSMENTS_DIR: &str = "assessments";
pub(crate) const LABS_DIR: &str = "labs";
pub(crate) const MEDIA_DIR: &str = "media";

/// The service id a [`CourseDraft`] read from a package carries until a push resolves
/// [`CoursePackage::service`] (a slug) to the server's id.
const UNRESOLVED_SERVICE: &str = "00000000-0000-0000-0000-000000000000";

// Limits mirrored from the server's authoring checks (server/src/http/authoring.rs), so a
// package that validates here is not refused there for a length.
const TITLE_MAX: usize = 200;
const QUESTION_TEXT_MAX: usize = 10_000;
const LESSON_DESCRIPTION_MAX: usize = 1000;
const MARKDOWN_MAX: usize = 200_000;
const POINTS_MAX: i32 = 1000;
const TIME_LIMIT_MAX: i32 = 1440;
const ATTEMPTS_MAX: i32 = 100;
const TAGS_MAX: usize = 20;

/// One thing wrong in a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, relative to the package's folder (`/`-separated).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} ({})",
            self.file, self.line, self.column, self.message, self.fix
        )
    }
}

/// Every problem found in a package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the course package", .0.len())]
pub struct Problems(pub Vec<Problem>);

/// A course package, read: the drafts the authoring API takes, in order, with what only a
/// package has (folder names, references by slug).
#[derive(Debug, Clone, PartialEq)]
pub struct CoursePackage {
    /// The course. Its `service_id` is the nil UUID: a push resolves [`Self::service`].
    pub course: CourseDraft,
    /// The service the course belongs to, by slug.
    pub service: String,
    /// Tags (`PUT …/tags`).
    pub tags: Vec<String>,
    /// Courses to complete first, by slug (`PUT …/prerequisites` once resolved).
    pub prerequisites: Vec<String>,
    /// The modules, in order.
    pub modules: Vec<PackageModule>,
    /// The assessments, by slug order.
    pub assessments: Vec<PackageAssessment>,
    /// The labs, by slug order.
    pub labs: Vec<PackageLab>,
}

/// A module and its lessons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageModule {
    /// Its folder (`01-getting-started`).
    pub dir: String,
    /// The module; `sort_order` is its position (0, 1, …).
    pub module: ModuleDraft,
    /// Its lessons, in order.
    pub lessons: Vec<PackageLesson>,
}

/// A lesson and what it refers to in the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageLesson {
    /// Its file, relative to the package (`01-getting-started/01-welcome.md`).
    pub file: String,
    /// The lesson; `sort_order` is its position in the module.
    pub lesson: LessonDraft,
    /// A video lesson's video file in the package (uploaded on push); `content_url` holds a
    /// video given by URL instead.
    pub video_file: Option<String>,
    /// A video lesson's poster, a picture file in the package (uploaded on push);
    /// `poster_url` holds one given by URL instead.
    pub poster_file: Option<String>,
    /// A video lesson's caption files in the package, WebVTT, by language tag (uploaded on
    /// push); `captions` holds those given by URL.
    pub caption_files: BTreeMap<String, String>,
    /// A quiz or assignment lesson's assessment, by slug.
    pub assessment: Option<String>,
    /// A lab lesson's lab, by slug (also in `content_url` as `/labs/<slug>`).
    pub lab: Option<String>,
    /// A lesson still being written (`draft: true`): learners never see it, even once the
    /// course is published.
    pub draft: bool,
}

/// An assessment with its questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageAssessment {
    /// Its slug (the file's name without `.json`).
    pub slug: String,
    /// The assessment.
    pub assessment: AssessmentDraft,
    /// Its questions, in order (with their keys).
    pub questions: Vec<QuestionDraft>,
}

/// A lab: its fields, and its steps read from Killercoda's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageLab {
    /// Its slug (the folder's name).
    pub slug: String,
    /// The lab; `instructions` is the intro page.
    pub lab: LabDraft,
    /// Its category, by slug.
    pub category: Option<String>,
    /// The steps and finish page.
    pub steps: LabStepsDraft,
    /// The image it runs in (`index.json`'s `skilltrack.docker_image` or `backend.imageid`).
    pub docker_image: Option<String>,
}

/// Reads and checks the package in `dir`: the package, or every problem in it.
pub fn read_dir(dir: &Path) -> Result<CoursePackage, Problems> {
    let mut reader = Reader {
        root: dir,
        problems: Vec::new(),
    };
    let package = reader.package();
    match package {
        Some(package) if reader.problems.is_empty() => Ok(package),
        _ => Err(Problems(reader.problems)),
    }
}

// Positions -------------------------------------------------------------------------------------

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_owned())
}

/// Line and column (1-based, columns in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where `path` is in a JSON text: the key of an object member, the start of an array item,
/// or, when the path goes deeper than the text does, the deepest part found.
fn locate(text: &str, path: &[Seg]) -> (usize, usize) {
    let mut scan = Scan {
        b: text.as_bytes(),
        i: 0,
        found: 0,
    };
    scan.find(path);
    line_column(text, scan.found)
}

/// A minimal JSON walker: only ever run on text that parsed, so it trusts the syntax.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    found: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    /// A string at the cursor, its escapes left as written (keys rarely have any).
    fn string(&mut self) -> String {
        let start = self.i + 1;
        self.i += 1;
        while self.i < self.b.len() && self.b[self.i] != b'"' {
            if self.b[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        let s = String::from_utf8_lossy(&self.b[start..self.i.min(self.b.len())]).into_owned();
        self.i += 1;
        s
    }

    fn skip_value(&mut self) {
        self.ws();
        match self.peek() {
            b'"' => {
                self.string();
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            self.string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self.i < self.b.len() && !b",}] \t\r\n".contains(&self.b[self.i]) {
                    self.i += 1;
                }
            }
        }
    }

    /// Separator after a member or item: true when another follows.
    fn next_member(&mut self) -> bool {
        self.ws();
        if self.peek() == b',' {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn find(&mut self, path: &[Seg]) {
        self.ws();
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        match (self.peek(), first) {
            (b'{', Seg::Key(wanted)) => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.peek() != b'"' {
                        return;
                    }
                    let at = self.i;
                    let name = self.string();
                    self.ws();
                    self.i += 1; // the colon
                    if &name == wanted {
                        self.found = at;
                        self.find(rest);
                        return;
                    }
                    self.skip_value();
                    if !self.next_member() {
                        return;
                    }
                }
            }
            (b'[', Seg::Index(wanted)) => {
                self.i += 1;
                for index in 0.. {
                    self.ws();
                    if self.peek() == b']' {
                        return;
                    }
                    if index == *wanted {
                        self.found = self.i;
                        self.find(rest);
                        return;
                    }
                    self.skip_value();
                    if !self.next_member() {
                        return;
                    }
                }
            }
            _ => {}
        }
    }
}

/// A `serde_json` message without its own ` at line … column …` (the problem carries
/// the position).
fn bare_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

// Reading ---------------------------------------------------------------------------------------

struct Reader<'a> {
    root: &'a Path,
    problems: Vec<Problem>,
}

/// What a JSON file may hold besides its protocol type's fields.
struct Shape<'a> {
    /// Keys the package reads itself, taken out before the protocol type reads the rest.
    extra: &'a [&'a str],
    /// Keys the protocol type has that a package sets another way, and how.
    forbidden: &'a [(&'a str, &'a str)],
    /// Fields filled in when the file leaves them out (not shown as known fields).
    defaults: Vec<(&'a str, Value)>,
}

impl Reader<'_> {
    fn problem(
        &mut self,
        file: &str,
        (line, column): (usize, usize),
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.problems.push(Problem {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            fix: fix.into(),
        });
    }

    fn read(&mut self, file: &str, missing_fix: &str) -> Option<String> {
        match std::fs::read_to_string(self.root.join(file)) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.problem(file, (1, 1), "missing file", missing_fix);
                None
            }
            Err(e) => {
                self.problem(
                    file,
                    (1, 1),
                    format!("cannot be read: {e}"),
                    "make it a readable UTF-8 file",
                );
                None
            }
        }
    }

    /// Reads `text` (the JSON file `file`) as `T`, with `shape`'s extra keys returned beside
    /// it. Problems are recorded; `None` when it cannot be read as `T`.
    fn json<T: DeserializeOwned>(
        &mut self,
        file: &str,
        text: &str,
        shape: &Shape<'_>,
    ) -> Option<(T, Map<String, Value>)> {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.problem(
                    file,
                    (e.line().max(1), e.column().max(1)),
                    format!("not valid JSON: {}", bare_message(&e)),
                    "fix the JSON syntax",
                );
                return None;
            }
        };
        let Value::Object(mut map) = value else {
            self.problem(
                file,
                (1, 1),
                "not a JSON object",
                "write the file as one object: { … }",
            );
            return None;
        };
        let mut extras = Map::new();
        for name in shape.extra {
            if let Some(v) = map.remove(*name) {
                extras.insert((*name).to_owned(), v);
            }
        }
        let mut ok = true;
        for (name, fix) in shape.forbidden {
            if map.remove(*name).is_some() {
                self.problem(
                    file,
                    locate(text, &[key(name)]),
                    format!("`{name}` is not set in this file"),
                    *fix,
                );
                ok = false;
            }
        }
        for (name, value) in &shape.defaults {
            map.entry((*name).to_owned())
                .or_insert_with(|| value.clone());
        }
        // Each unknown field is reported, then left out so the next one is found too.
        loop {
            match self.deserialize::<T>(file, text, &[], Value::Object(map.clone()), shape) {
                Deserialized::Ok(v) => return ok.then_some((v, extras)),
                Deserialized::Unknown(name) => {
                    ok = false;
                    // A field unknown deeper down cannot be left out here: reported once,
                    // and the file goes no further (never a loop).
                    map.remove(&name)?;
                }
                Deserialized::Failed => return None,
            }
        }
    }

    /// `value` (found at `at` in `file`'s `text`) as `T`.
    fn deserialize<T: DeserializeOwned>(
        &mut self,
        file: &str,
        text: &str,
        at: &[Seg],
        value: Value,
        shape: &Shape<'_>,
    ) -> Deserialized<T> {
        let err = match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => return Deserialized::Ok(v),
            Err(err) => err,
        };
        let mut path: Vec<Seg> = at.to_vec();
        for segment in err.path() {
            match segment {
                serde_path_to_error::Segment::Map { key } => path.push(Seg::Key(key.clone())),
                serde_path_to_error::Segment::Seq { index } => path.push(Seg::Index(*index)),
                _ => {}
            }
        }
        let message = bare_message(err.inner());
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default().to_owned();
            let known: Vec<String> = rest
                .split_once("expected ")
                .map(|(_, list)| list)
                .unwrap_or_default()
                .split(", ")
                .map(|s| s.trim_start_matches("one of ").trim_matches('`').to_owned())
                .filter(|s| !s.is_empty())
                .filter(|s| {
                    !shape.forbidden.iter().any(|(f, _)| f == s)
                        && !shape.defaults.iter().any(|(f, _)| f == s)
                })
                .chain(shape.extra.iter().map(|s| (*s).to_owned()))
                .collect();
            // The path names the object; the unknown key is inside it.
            if path.last() != Some(&Seg::Key(name.clone())) {
                path.push(Seg::Key(name.clone()));
            }
            self.problem(
                file,
                locate(text, &path),
                format!("unknown field `{name}`"),
                format!("remove it, or use one of: {}", known.join(", ")),
            );
            return Deserialized::Unknown(name);
        }
        let fix = if message.starts_with("missing field") {
            "add it"
        } else {
            "give it a value of the expected type"
        };
        let shown: Vec<String> = path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.clone(),
                Seg::Index(i) => i.to_string(),
            })
            .collect();
        let message = if shown.is_empty() || message.starts_with("missing field") {
            message
        } else {
            format!("`{}`: {message}", shown.join("."))
        };
        self.problem(file, locate(text, &path), message, fix);
        Deserialized::Failed
    }

    fn check_length(
        &mut self,
        file: &str,
        text: &str,
        path: &[Seg],
        value: &str,
        (min, max): (usize, usize),
    ) {
        let n = value.trim().chars().count();
        if n < min || n > max {
            let name = match path.last() {
                Some(Seg::Key(k)) => k.as_str(),
                _ => "it",
            };
            self.problem(
                file,
                locate(text, path),
                format!("`{name}` has {n} characters"),
                format!("write {min} to {max} characters"),
            );
        }
    }

    fn check_range(
        &mut self,
        file: &str,
        text: &str,
        name: &str,
        value: i32,
        (min, max): (i32, i32),
    ) {
        if !(min..=max).contains(&value) {
            self.problem(
                file,
                locate(text, &[key(name)]),
                format!("`{name}` is {value}"),
                format!("use a number from {min} to {max}"),
            );
        }
    }

    fn package(&mut self) -> Option<CoursePackage> {
        let course = self.course();
        let assessments = self.assessments();
        let labs = self.labs();
        let modules = self.modules(&assessments, &labs);
        let (course, service, tags, prerequisites) = course?;
        Some(CoursePackage {
            course,
            service,
            tags,
            prerequisites,
            modules,
            assessments: assessments.into_values().collect(),
            labs: labs.into_values().collect(),
        })
    }

    fn course(&mut self) -> Option<(CourseDraft, String, Vec<String>, Vec<String>)> {
        let text = self.read(
            COURSE_FILE,
            "create course.json (`skilltrack course new DIR` writes a skeleton)",
        )?;
        let shape = Shape {
            extra: &["format", "service", "tags", "prerequisites"],
            forbidden: &[(
                "service_id",
                "name the service by its slug: \"service\": \"development\"",
            )],
            defaults: vec![("service_id", Value::from(UNRESOLVED_SERVICE))],
        };
        let (course, extras) = self.json::<CourseDraft>(COURSE_FILE, &text, &shape)?;
        let file = COURSE_FILE;
        match extras.get("format") {
            Some(Value::Number(n)) if n.as_u64() == Some(FORMAT) => {}
            Some(other) => self.problem(
                file,
                locate(&text, &[key("format")]),
                format!("`format` is {other}; this version of Skilltrack reads format {FORMAT}"),
                format!("set \"format\": {FORMAT}, or update Skilltrack"),
            ),
            None => self.problem(
                file,
                (1, 1),
                "missing field `format`",
                format!("add \"format\": {FORMAT}"),
            ),
        }
        let service = match extras.get("service") {
            Some(Value::String(s)) if is_slug(s) => s.clone(),
            Some(_) => {
                self.problem(
                    file,
                    locate(&text, &[key("service")]),
                    "`service` is not a slug",
                    "name the service by its slug, e.g. \"development\"",
                );
                String::new()
            }
            None => {
                self.problem(
                    file,
                    (1, 1),
                    "missing field `service`",
                    "add \"service\": the slug of the service the course belongs to",
                );
                String::new()
            }
        };
        let tags = self.slug_list(
            file,
            &text,
            &extras,
            "tags",
            is_tag,
            "lowercase letters, digits and `-+#.`, 1 to 60 characters",
        );
        let prerequisites = self.slug_list(
            file,
            &text,
            &extras,
            "prerequisites",
            is_slug,
            "course slugs: lowercase words joined by `-`",
        );
        if !is_slug(&course.slug) {
            self.problem(
                file,
                locate(&text, &[key("slug")]),
                format!("`slug` `{}` is not kebab-case", course.slug),
                "use lowercase letters and digits in words joined by `-` (`intro-to-rust`), at most 100 characters",
            );
        }
        self.check_length(file, &text, &[key("title")], &course.title, (1, TITLE_MAX));
        self.check_length(
            file,
            &text,
            &[key("description")],
            &course.description,
            (0, 10_000),
        );
        self.check_length(file, &text, &[key("duration")], &course.duration, (1, 100));
        Some((course, service, tags, prerequisites))
    }

    fn slug_list(
        &mut self,
        file: &str,
        text: &str,
        extras: &Map<String, Value>,
        name: &str,
        valid: fn(&str) -> bool,
        rule: &str,
    ) -> Vec<String> {
        let Some(value) = extras.get(name) else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.problem(
                file,
                locate(text, &[key(name)]),
                format!("`{name}` is not a list"),
                format!("write a list of {rule}"),
            );
            return Vec::new();
        };
        if items.len() > TAGS_MAX {
            self.problem(
                file,
                locate(text, &[key(name)]),
                format!("`{name}` has {} items", items.len()),
                format!("keep at most {TAGS_MAX}"),
            );
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if valid(s) => out.push(s.to_owned()),
                _ => self.problem(
                    file,
                    locate(text, &[key(name), Seg::Index(i)]),
                    format!("`{name}` item {item} is not valid"),
                    format!("use {rule}"),
                ),
            }
        }
        out
    }

    /// Entries of a folder, sorted by name (`None` when it does not exist). Dot-names are left
    /// out, and so are folders that hold nothing else (git would not keep them either).
    fn entries(&mut self, rel: &str) -> Option<Vec<(String, bool)>> {
        let dir = self.root.join(rel);
        let read = std::fs::read_dir(&dir).ok()?;
        let mut out: Vec<(String, bool)> = read
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let is_dir = e.file_type().ok()?.is_dir();
                let hidden = name.starts_with('.') || (is_dir && holds_nothing(&e.path()));
                (!hidden).then_some((name, is_dir))
            })
            .collect();
        out.sort();
        Some(out)
    }

    fn assessments(&mut self) -> BTreeMap<String, PackageAssessment> {
        let mut out = BTreeMap::new();
        for (name, is_dir) in self.entries(ASSESSMENTS_DIR).unwrap_or_default() {
            let file = format!("{ASSESSMENTS_DIR}/{name}");
            let Some(slug) = name.strip_suffix(".json").filter(|_| !is_dir) else {
                continue;
            };
            if !is_slug(slug) {
                self.problem(
                    &file,
                    (1, 1),
                    format!("`{slug}` is not a slug"),
                    "name the file in lowercase words joined by `-`: `check-basics.json`",
                );
                continue;
            }
            if let Some(a) = self.assessment(&file, slug) {
                out.insert(slug.to_owned(), a);
            }
        }
        out
    }

    fn assessment(&mut self, file: &str, slug: &str) -> Option<PackageAssessment> {
        let text = self.read(file, "create it")?;
        let shape = Shape {
            extra: &["questions"],
            forbidden: &[],
            defaults: Vec::new(),
        };
        let (assessment, extras) = self.json::<AssessmentDraft>(file, &text, &shape)?;
        self.check_length(
            file,
            &text,
            &[key("title")],
            &assessment.title,
            (1, TITLE_MAX),
        );
        if let Some(minutes) = assessment.time_limit_minutes {
            self.check_range(
                file,
                &text,
                "time_limit_minutes",
                minutes,
                (1, TIME_LIMIT_MAX),
            );
        }
        if let Some(attempts) = assessment.max_attempts {
            self.check_range(file, &text, "max_attempts", attempts, (1, ATTEMPTS_MAX));
        }
        self.check_range(
            file,
            &text,
            "passing_score",
            assessment.passing_score,
            (0, 100),
        );
        let items = match extras.get("questions") {
            Some(Value::Array(items)) if !items.is_empty() => items.clone(),
            Some(_) => {
                self.problem(
                    file,
                    locate(&text, &[key("questions")]),
                    "`questions` is not a non-empty list",
                    "write the questions as a list of objects",
                );
                Vec::new()
            }
            None => {
                self.problem(
                    file,
                    (1, 1),
                    "missing field `questions`",
                    "add \"questions\": [ … ], at least one",
                );
                Vec::new()
            }
        };
        let no_shape = Shape {
            extra: &[],
            forbidden: &[("sort_order", "questions are in the order of the list")],
            defaults: Vec::new(),
        };
        let mut questions = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let at = [key("questions"), Seg::Index(i)];
            let mut item = item;
            if let Some(map) = item.as_object_mut()
                && map.remove("sort_order").is_some()
            {
                let mut path = at.to_vec();
                path.push(key("sort_order"));
                self.problem(
                    file,
                    locate(&text, &path),
                    "`sort_order` is not set in this file",
                    "questions are in the order of the list",
                );
            }
            loop {
                match self.deserialize::<QuestionDraft>(file, &text, &at, item.clone(), &no_shape) {
                    Deserialized::Ok(q) => {
                        self.check_question(file, &text, &at, &q);
                        questions.push(QuestionDraft {
                            sort_order: Some(i32::try_from(i).unwrap_or(i32::MAX)),
                            ..q
                        });
                        break;
                    }
                    // Reported; a field unknown deeper down ends the question (never a loop).
                    Deserialized::Unknown(name) => {
                        if item.as_object_mut().and_then(|m| m.remove(&name)).is_none() {
                            break;
                        }
                    }
                    Deserialized::Failed => break,
                }
            }
        }
        Some(PackageAssessment {
            slug: slug.to_owned(),
            assessment,
            questions,
        })
    }

    /// The server's rules for a question's type, options and key.
    fn check_question(&mut self, file: &str, text: &str, at: &[Seg], q: &QuestionDraft) {
        let path = |tail: &[Seg]| -> Vec<Seg> { at.iter().chain(tail).cloned().collect() };
        self.check_length(
            file,
            text,
            &path(&[key("question_text")]),
            &q.question_text,
            (1, QUESTION_TEXT_MAX),
        );
        if !(0..=POINTS_MAX).contains(&q.points) {
            self.problem(
                file,
                locate(text, &path(&[key("points")])),
                format!("`points` is {}", q.points),
                format!("use a number from 0 to {POINTS_MAX}"),
            );
        }
        let choices: Vec<&str> = q
            .options
            .choices
            .iter()
            .flatten()
            .map(|c| c.id.as_str())
            .collect();
        for (i, id) in choices.iter().enumerate() {
            if choices[..i].contains(id) {
                self.problem(
                    file,
                    locate(
                        text,
                        &path(&[key("options"), key("choices"), Seg::Index(i)]),
                    ),
                    format!("duplicate choice id `{id}`"),
                    "give each choice its own id",
                );
            }
        }
        let wrong_key =
            |expected: &str| format!("use {expected} for a {} question", q.question_type);
        match (q.question_type, &q.answer_key) {
            (QuestionType::MultipleChoice, _) if choices.len() < 2 => self.problem(
                file,
                locate(text, &path(&[key("options")])),
                "a multiple-choice question needs at least 2 choices",
                "add \"options\": {\"choices\": [{\"id\": \"a\", \"text\": …}, …]}",
            ),
            (QuestionType::MultipleChoice, Some(AnswerKey::Choices { ids })) => {
                for (i, id) in ids.iter().enumerate() {
                    if !choices.contains(&id.as_str()) {
                        self.problem(
                            file,
                            locate(text, &path(&[key("answer_key"), key("ids"), Seg::Index(i)])),
                            format!("the answer key names `{id}`, which is not a choice"),
                            format!("name one of the choice ids: {}", choices.join(", ")),
                        );
                    }
                }
                if q.options.multiple != Some(true) && ids.len() != 1 {
                    self.problem(
                        file,
                        locate(text, &path(&[key("answer_key"), key("ids")])),
                        format!("the answer key names {} choices", ids.len()),
                        "name exactly one, or set \"multiple\": true in options",
                    );
                }
            }
            (QuestionType::TrueFalse, Some(AnswerKey::TrueFalse { .. }))
            | (QuestionType::Essay | QuestionType::Code, None) => {}
            (QuestionType::ShortAnswer, Some(AnswerKey::Accepted { answers })) => {
                self.check_accepted(file, text, at, answers);
            }
            (QuestionType::Essay | QuestionType::Code, Some(_)) => self.problem(
                file,
                locate(text, &path(&[key("answer_key")])),
                format!("a {} question has no answer key", q.question_type),
                "remove answer_key: the instructor grades it",
            ),
            (kind, found) => {
                let expected = match kind {
                    QuestionType::MultipleChoice => {
                        "\"answer_key\": {\"kind\": \"choices\", \"ids\": [\"a\"]}"
                    }
                    QuestionType::TrueFalse => {
                        "\"answer_key\": {\"kind\": \"true_false\", \"value\": true}"
                    }
                    _ => "\"answer_key\": {\"kind\": \"accepted\", \"answers\": [\"…\"]}",
                };
                let (where_, message) = if found.is_some() {
                    (
                        path(&[key("answer_key")]),
                        "the answer key does not fit the question's type",
                    )
                } else {
                    (path(&[key("question_type")]), "missing answer key")
                };
                self.problem(file, locate(text, &where_), message, wrong_key(expected));
            }
        }
    }

    /// A short answer's accepted answers, by the server's rule (`grading::check_question`):
    /// answers are compared without case, spacing or punctuation, so one that is only those
    /// can never match.
    fn check_accepted(&mut self, file: &str, text: &str, question: &[Seg], answers: &[String]) {
        let at: Vec<Seg> = question
            .iter()
            .cloned()
            .chain([key("answer_key"), key("answers")])
            .collect();
        if answers.is_empty() {
            self.problem(
                file,
                locate(text, &at),
                "the answer key accepts no answer",
                "list at least one accepted answer",
            );
        }
        for (i, answer) in answers.iter().enumerate() {
            if crate::grading::normalize_short_answer(answer).is_empty() {
                let at: Vec<Seg> = at.iter().cloned().chain([Seg::Index(i)]).collect();
                self.problem(
                    file,
                    locate(text, &at),
                    format!(
                        "the accepted answer {answer:?} is empty once case, spacing and \
                         punctuation are ignored, as answers are compared"
                    ),
                    "write it with letters or digits, or remove it",
                );
            }
        }
    }

    fn labs(&mut self) -> BTreeMap<String, PackageLab> {
        let mut out = BTreeMap::new();
        for (slug, is_dir) in self.entries(LABS_DIR).unwrap_or_default() {
            if !is_dir {
                continue;
            }
            let dir = format!("{LABS_DIR}/{slug}");
            if !is_slug(&slug) {
                self.problem(
                    &format!("{dir}/index.json"),
                    (1, 1),
                    format!("the lab folder `{slug}` is not a slug"),
                    "name it in lowercase words joined by `-`: `labs/first-lab`",
                );
                continue;
            }
            if let Some(lab) = self.lab(&dir, &slug) {
                out.insert(slug, lab);
            }
        }
        out
    }

    /// Whether every file the lab's `index.json` names exists, each missing one reported (the
    /// lab reader stops at the first).
    fn lab_files_exist(&mut self, dir: &str, index_file: &str, index_text: &str) -> bool {
        let index: Value = match serde_json::from_str(index_text) {
            Ok(v) => v,
            Err(e) => {
                self.problem(
                    index_file,
                    (e.line().max(1), e.column().max(1)),
                    format!("not valid JSON: {}", bare_message(&e)),
                    "fix the JSON syntax",
                );
                return false;
            }
        };
        let before = self.problems.len();
        let mut named: Vec<(Vec<Seg>, String)> = Vec::new();
        for page in ["intro", "finish"] {
            for field in ["text", "background"] {
                if let Some(p) = index["details"][page][field].as_str() {
                    named.push((vec![key("details"), key(page), key(field)], p.to_owned()));
                }
            }
        }
        for (i, step) in index["details"]["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            for field in ["text", "verify", "background", "setup", "solve"] {
                if let Some(p) = step[field].as_str() {
                    named.push((
                        vec![key("details"), key("steps"), Seg::Index(i), key(field)],
                        p.to_owned(),
                    ));
                }
            }
        }
        for (path, named_file) in named {
            let exists = self.root.join(dir).join(&named_file).is_file();
            if !exists {
                let field = match path.last() {
                    Some(Seg::Key(k)) => k.clone(),
                    _ => String::new(),
                };
                self.problem(
                    index_file,
                    locate(index_text, &path),
                    format!("`{field}` names `{named_file}`, which is missing"),
                    format!("create {dir}/{named_file}, or remove `{field}`"),
                );
            }
        }
        self.problems.len() == before
    }

    #[allow(clippy::too_many_lines, reason = "index.json then lab.json, in turn")]
    fn lab(&mut self, dir: &str, slug: &str) -> Option<PackageLab> {
        let index_file = format!("{dir}/index.json");
        let index_text = self.read(
            &index_file,
            "create it in Killercoda's layout: {\"title\", \"details\": {\"intro\", \"steps\", \"finish\"}}",
        )?;
        if !self.lab_files_exist(dir, &index_file, &index_text) {
            return None;
        }
        let files = match crate::lab::read_dir(&self.root.join(dir)) {
            Ok(files) => files,
            Err(e) => {
                self.problem(&index_file, (1, 1), e.to_string(), "fix index.json");
                return None;
            }
        };
        let lab_file = format!("{dir}/lab.json");
        let lab_text = self.read(
            &lab_file,
            "create it with the lab's own fields: {\"difficulty\", \"duration\", \"provider\", …}",
        )?;
        let mut defaults = vec![("slug", Value::from(slug))];
        if let Some(title) = &files.title {
            defaults.push(("title", Value::from(title.clone())));
        }
        if let Some(description) = &files.description {
            defaults.push(("description", Value::from(description.clone())));
        }
        let shape = Shape {
            extra: &["category"],
            forbidden: &[
                ("slug", "the lab's slug is its folder's name"),
                (
                    "instructions",
                    "write the intro in a markdown file named by index.json's details.intro.text",
                ),
            ],
            defaults,
        };
        let (lab, extras) = self.json::<LabDraft>(&lab_file, &lab_text, &shape)?;
        self.check_length(
            &lab_file,
            &lab_text,
            &[key("title")],
            &lab.title,
            (1, TITLE_MAX),
        );
        self.check_length(
            &lab_file,
            &lab_text,
            &[key("duration")],
            &lab.duration,
            (1, 100),
        );
        self.check_length(
            &lab_file,
            &lab_text,
            &[key("provider")],
            &lab.provider,
            (1, 100),
        );
        let category = match extras.get("category") {
            Some(Value::String(s)) if is_slug(s) => Some(s.clone()),
            Some(_) => {
                self.problem(
                    &lab_file,
                    locate(&lab_text, &[key("category")]),
                    "`category` is not a slug",
                    "name the lab category by its slug",
                );
                None
            }
            None => None,
        };
        for (i, step) in files.steps.steps.iter().enumerate() {
            if step.title.trim().is_empty() || step.title.chars().count() > TITLE_MAX {
                self.problem(
                    &index_file,
                    locate(
                        &index_text,
                        &[key("details"), key("steps"), Seg::Index(i), key("title")],
                    ),
                    format!(
                        "step {} has a title of {} characters",
                        i + 1,
                        step.title.chars().count()
                    ),
                    format!("write 1 to {TITLE_MAX} characters"),
                );
            }
        }
        Some(PackageLab {
            slug: slug.to_owned(),
            lab: LabDraft {
                instructions: files.intro,
                environment_template: lab
                    .environment_template
                    .clone()
                    .or(files.environment_template),
                ..lab
            },
            category,
            steps: files.steps,
            docker_image: files.docker_image,
        })
    }

    fn modules(
        &mut self,
        assessments: &BTreeMap<String, PackageAssessment>,
        labs: &BTreeMap<String, PackageLab>,
    ) -> Vec<PackageModule> {
        let mut modules = Vec::new();
        let entries = self.entries("").unwrap_or_default();
        let dirs: Vec<String> = entries
            .into_iter()
            .filter(|(name, is_dir)| {
                *is_dir && ![ASSESSMENTS_DIR, LABS_DIR, MEDIA_DIR].contains(&name.as_str())
            })
            .map(|(name, _)| name)
            .collect();
        let ordered = self.ordered(&dirs, "", |name| format!("{name}/module.json"));
        if ordered.is_empty() && self.problems.is_empty() {
            self.problem(
                COURSE_FILE,
                (1, 1),
                "the course has no module",
                "add a folder such as `01-getting-started/` with a module.json",
            );
        }
        for (position, dir) in ordered.into_iter().enumerate() {
            if let Some(m) = self.module(&dir, position, assessments, labs) {
                modules.push(m);
            }
        }
        modules
    }

    /// The names that carry a valid, unique order prefix and slug, in order; the others are
    /// reported (`shown` names the file a problem is reported in).
    fn ordered(
        &mut self,
        names: &[String],
        kind_dir: &str,
        shown: impl Fn(&str) -> String,
    ) -> Vec<String> {
        let mut seen_numbers: HashMap<u64, String> = HashMap::new();
        let mut seen_slugs: HashMap<String, String> = HashMap::new();
        let mut out: Vec<(u64, String)> = Vec::new();
        for name in names {
            let stem = name.strip_suffix(".md").unwrap_or(name);
            let file = shown(name);
            let parsed = stem.split_once('-').and_then(|(digits, slug)| {
                (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| (digits.parse::<u64>().ok(), slug))
            });
            let Some((Some(number), slug)) = parsed else {
                self.problem(
                    &file,
                    (1, 1),
                    format!("`{kind_dir}{name}` has no order prefix"),
                    format!(
                        "rename it with a number first: `01-{}`",
                        name.to_lowercase()
                    ),
                );
                continue;
            };
            if !is_slug(slug) {
                self.problem(
                    &file,
                    (1, 1),
                    format!("`{slug}` in `{kind_dir}{name}` is not a slug"),
                    "after the number, use lowercase words joined by `-`: `01-getting-started`",
                );
                continue;
            }
            if let Some(other) = seen_numbers.get(&number) {
                self.problem(
                    &file,
                    (1, 1),
                    format!("order prefix {number} is also used by `{kind_dir}{other}`"),
                    "give each its own number",
                );
                continue;
            }
            if let Some(other) = seen_slugs.get(slug) {
                self.problem(
                    &file,
                    (1, 1),
                    format!("duplicate slug `{slug}`: `{kind_dir}{other}` has it too"),
                    "give each its own name after the number",
                );
                continue;
            }
            seen_numbers.insert(number, name.clone());
            seen_slugs.insert(slug.to_owned(), name.clone());
            out.push((number, name.clone()));
        }
        out.sort();
        out.into_iter().map(|(_, name)| name).collect()
    }

    fn module(
        &mut self,
        dir: &str,
        position: usize,
        assessments: &BTreeMap<String, PackageAssessment>,
        labs: &BTreeMap<String, PackageLab>,
    ) -> Option<PackageModule> {
        let file = format!("{dir}/module.json");
        let text = self.read(&file, "create it: {\"title\": \"…\"}");
        let module = text.and_then(|text| {
            let shape = Shape {
                extra: &[],
                forbidden: &[
                    ("sort_order", "the folder's number prefix orders modules"),
                    (
                        "is_published",
                        "`skilltrack course push --publish` publishes",
                    ),
                ],
                defaults: Vec::new(),
            };
            let (module, _) = self.json::<ModuleDraft>(&file, &text, &shape)?;
            self.check_length(&file, &text, &[key("title")], &module.title, (1, TITLE_MAX));
            Some(module)
        });
        let lesson_files: Vec<String> = self
            .entries(dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|(name, is_dir)| {
                !is_dir && Path::new(name).extension().is_some_and(|e| e == "md")
            })
            .map(|(name, _)| name)
            .collect();
        let ordered = self.ordered(&lesson_files, &format!("{dir}/"), |name| {
            format!("{dir}/{name}")
        });
        let mut lessons = Vec::new();
        for (i, name) in ordered.into_iter().enumerate() {
            if let Some(lesson) = self.lesson(&format!("{dir}/{name}"), i, assessments, labs) {
                lessons.push(lesson);
            }
        }
        Some(PackageModule {
            dir: dir.to_owned(),
            module: ModuleDraft {
                sort_order: Some(i32::try_from(position).unwrap_or(i32::MAX)),
                ..module?
            },
            lessons,
        })
    }

    /// A video lesson's `poster` and `captions.LANGUAGE` fields: each a file of the package
    /// (a caption file must be WebVTT) or a URL.
    fn video_extras(
        &mut self,
        file: &str,
        fields: &BTreeMap<&str, (usize, String)>,
        lesson: &mut PackageLesson,
    ) {
        if let Some((line, v)) = fields.get("poster") {
            if is_video_url(v) {
                lesson.lesson.poster_url = Some(v.clone());
            } else if self.media_file(file, *line, "poster", v, None) {
                lesson.poster_file = Some(v.clone());
            }
        }
        let captions: Vec<_> = fields
            .iter()
            .filter_map(|(name, at)| Some((name.strip_prefix(CAPTIONS_FIELD)?, at)))
            .collect();
        if captions.len() > MAX_CAPTIONS {
            self.problem(
                file,
                (captions[MAX_CAPTIONS].1.0, 1),
                format!("{} caption tracks", captions.len()),
                format!("keep at most {MAX_CAPTIONS}, one per language"),
            );
        }
        for (language, (line, v)) in captions {
            let field = format!("{CAPTIONS_FIELD}{language}");
            if !is_caption_language(language) {
                self.problem(
                    file,
                    (*line, 1),
                    format!("`{field}`: `{language}` is not a language tag"),
                    "name the language by its BCP 47 tag: `captions.en`, `captions.pt-BR`",
                );
                continue;
            }
            if is_video_url(v) {
                lesson.lesson.captions.push(LessonCaption {
                    language: language.to_owned(),
                    url: v.clone(),
                });
            } else if self.media_file(file, *line, &field, v, Some(WEBVTT)) {
                lesson.caption_files.insert(language.to_owned(), v.clone());
            }
        }
    }

    /// Whether `path`, named by a lesson's `field`, is a file inside the package (opening with
    /// `magic`, if given); a problem at `line` if not.
    fn media_file(
        &mut self,
        file: &str,
        line: usize,
        field: &str,
        path: &str,
        magic: Option<&str>,
    ) -> bool {
        if path.starts_with("/media/") {
            self.problem(
                file,
                (line, 1),
                format!("`{field}` `{path}` is not a path of the server's media"),
                "write /media/ and the file's path there, without spaces, `.` or `..`",
            );
            return false;
        }
        if !inside_package(path) || !self.root.join(path).is_file() {
            self.problem(
                file,
                (line, 1),
                format!("`{field}` names `{path}`, which is missing"),
                "name a file by its path from the package's folder, an https:// URL or a /media/… path",
            );
            return false;
        }
        if let Some(magic) = magic {
            let opens = std::fs::read(self.root.join(path)).is_ok_and(|bytes| {
                let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
                bytes.strip_prefix(magic.as_bytes()).is_some_and(|rest| {
                    matches!(rest.first(), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
                })
            });
            if !opens {
                self.problem(
                    path,
                    (1, 1),
                    format!("`{path}` is not a WebVTT file (named by `{field}` in {file})"),
                    format!("start it with a line `{magic}`, as WebVTT files do"),
                );
                return false;
            }
        }
        true
    }

    #[allow(clippy::too_many_lines, reason = "one header, read field by field")]
    fn lesson(
        &mut self,
        file: &str,
        position: usize,
        assessments: &BTreeMap<String, PackageAssessment>,
        labs: &BTreeMap<String, PackageLab>,
    ) -> Option<PackageLesson> {
        let text = self.read(file, "create it")?;
        let Some(header) = text
            .strip_prefix("---\n")
            .or_else(|| text.strip_prefix("---\r\n"))
        else {
            self.problem(
                file,
                (1, 1),
                "no front-matter header",
                "start the file with `---`, lines `title: …` and `type: text`, then `---`",
            );
            return None;
        };
        let mut fields: BTreeMap<&str, (usize, String)> = BTreeMap::new();
        let mut body_start = None;
        let mut offset = text.len() - header.len();
        for (n, line) in header.split_inclusive('\n').enumerate() {
            let line_no = n + 2;
            let content = line.trim_end_matches(['\n', '\r']);
            offset += line.len();
            if content == "---" {
                body_start = Some(offset);
                break;
            }
            if content.trim().is_empty() || content.trim_start().starts_with('#') {
                continue;
            }
            let Some((name, value)) = content.split_once(':') else {
                self.problem(
                    file,
                    (line_no, 1),
                    format!("`{content}` is not `name: value`"),
                    "write one `name: value` per line",
                );
                continue;
            };
            let name = name.trim();
            if !LESSON_FIELDS.contains(&name) && name.strip_prefix(CAPTIONS_FIELD).is_none() {
                self.problem(
                    file,
                    (line_no, 1),
                    format!("unknown field `{name}`"),
                    format!(
                        "remove it, or use one of: {}, {CAPTIONS_FIELD}LANGUAGE",
                        LESSON_FIELDS.join(", ")
                    ),
                );
                continue;
            }
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if fields.insert(name, (line_no, value.to_owned())).is_some() {
                self.problem(
                    file,
                    (line_no, 1),
                    format!("`{name}` is given twice"),
                    "keep one",
                );
            }
        }
        let Some(body_start) = body_start else {
            self.problem(
                file,
                (1, 1),
                "the front-matter header has no closing `---`",
                "end the header with a line `---`",
            );
            return None;
        };
        let body = text[body_start..].trim().to_owned();
        let body_line = line_column(&text, body_start).0;
        let field_at = |name: &str| fields.get(name).map_or((1, 1), |(line, _)| (*line, 1));
        let title = fields.get("title").map(|(_, v)| v.clone());
        let Some(title) = title else {
            self.problem(
                file,
                (1, 1),
                "missing field `title`",
                "add `title: …` to the header",
            );
            return None;
        };
        let n = title.chars().count();
        if n == 0 || n > TITLE_MAX {
            self.problem(
                file,
                field_at("title"),
                format!("`title` has {n} characters"),
                format!("write 1 to {TITLE_MAX} characters"),
            );
        }
        let description = fields.get("description").map(|(_, v)| v.clone());
        if let Some(d) = &description
            && d.chars().count() > LESSON_DESCRIPTION_MAX
        {
            self.problem(
                file,
                field_at("description"),
                format!("`description` has {} characters", d.chars().count()),
                format!("write at most {LESSON_DESCRIPTION_MAX}"),
            );
        }
        let content_type = match fields.get("type") {
            None => {
                self.problem(
                    file,
                    (1, 1),
                    "missing field `type`",
                    "add `type: text` (or video, quiz, lab, assignment) to the header",
                );
                return None;
            }
            Some((line, v)) => match v.parse::<LessonContentType>() {
                Ok(t) => t,
                Err(e) => {
                    self.problem(file, (*line, 1), e.to_string(), "use one of the five");
                    return None;
                }
            },
        };
        let duration_minutes = match fields.get("duration_minutes") {
            None => None,
            Some((line, v)) => match v.parse::<i32>() {
                Ok(m) if (0..=100_000).contains(&m) => Some(m),
                _ => {
                    self.problem(
                        file,
                        (*line, 1),
                        format!("`duration_minutes` is `{v}`"),
                        "use a whole number of minutes, 0 or more",
                    );
                    None
                }
            },
        };
        if body.chars().count() > MARKDOWN_MAX {
            self.problem(
                file,
                (body_line, 1),
                "the body is longer than the server takes",
                format!("keep it to {MARKDOWN_MAX} characters"),
            );
        }
        let draft = match fields.get("draft") {
            None => false,
            Some((line, v)) => match v.as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    self.problem(
                        file,
                        (*line, 1),
                        format!("`draft` is `{v}`"),
                        "write `draft: true` (a lesson still being written) or leave it out",
                    );
                    false
                }
            },
        };
        let mut lesson = PackageLesson {
            file: file.to_owned(),
            draft,
            lesson: LessonDraft {
                title,
                description,
                content_type,
                content_body: (!body.is_empty()).then_some(body),
                content_url: None,
                poster_url: None,
                captions: Vec::new(),
                duration_minutes,
                sort_order: Some(i32::try_from(position).unwrap_or(i32::MAX)),
                is_published: false,
            },
            video_file: None,
            poster_file: None,
            caption_files: BTreeMap::new(),
            assessment: None,
            lab: None,
        };
        let allowed: &[&str] = match content_type {
            LessonContentType::Text => &[],
            LessonContentType::Video => &["video", "poster", "captions"],
            LessonContentType::Quiz | LessonContentType::Assignment => &["assessment"],
            LessonContentType::Lab => &["lab"],
        };
        for (name, (line, _)) in &fields {
            let kind = if name.starts_with(CAPTIONS_FIELD) {
                "captions"
            } else {
                name
            };
            if ["video", "poster", "captions", "assessment", "lab"].contains(&kind)
                && !allowed.contains(&kind)
            {
                self.problem(
                    file,
                    (*line, 1),
                    format!("`{name}` does not go with `type: {content_type}`"),
                    format!("remove `{name}`, or change the type"),
                );
            }
        }
        if content_type == LessonContentType::Video {
            self.video_extras(file, &fields, &mut lesson);
        }
        match content_type {
            LessonContentType::Text => {
                if lesson.lesson.content_body.is_none() {
                    self.problem(
                        file,
                        (body_line, 1),
                        "a text lesson with no text",
                        "write its markdown after the header",
                    );
                }
            }
            LessonContentType::Video => match fields.get("video") {
                None => self.problem(
                    file,
                    (1, 1),
                    "missing field `video`",
                    "add `video: media/intro.webm` (a file in the package), an https:// URL or a /media/… path",
                ),
                Some((_, v)) if is_video_url(v) => {
                    lesson.lesson.content_url = Some(v.clone());
                }
                Some((line, v)) if v.starts_with("/media/") => self.problem(
                    file,
                    (*line, 1),
                    format!("`video` `{v}` is not a path of the server's media"),
                    "write /media/ and the file's path there, without spaces, `.` or `..`",
                ),
                Some((line, v)) => {
                    if !inside_package(v) || !self.root.join(v).is_file() {
                        self.problem(
                            file,
                            (*line, 1),
                            format!("`video` names `{v}`, which is missing"),
                            "name a file by its path from the package's folder, an https:// URL or a /media/… path",
                        );
                    }
                    lesson.video_file = Some(v.clone());
                }
            },
            LessonContentType::Quiz | LessonContentType::Assignment => {
                match fields.get("assessment") {
                    None if content_type == LessonContentType::Quiz => self.problem(
                        file,
                        (1, 1),
                        "missing field `assessment`",
                        "add `assessment: SLUG`, naming assessments/SLUG.json",
                    ),
                    None => {}
                    Some((line, v)) => {
                        // One that exists but is broken has its own problems already.
                        if !assessments.contains_key(v)
                            && !self
                                .root
                                .join(ASSESSMENTS_DIR)
                                .join(format!("{v}.json"))
                                .is_file()
                        {
                            self.problem(
                                file,
                                (*line, 1),
                                format!(
                                    "`assessment` names `{v}`, and assessments/{v}.json is missing"
                                ),
                                format!("create assessments/{v}.json, or name another"),
                            );
                        }
                        lesson.assessment = Some(v.clone());
                    }
                }
            }
            LessonContentType::Lab => match fields.get("lab") {
                None => self.problem(
                    file,
                    (1, 1),
                    "missing field `lab`",
                    "add `lab: SLUG`, naming the folder labs/SLUG",
                ),
                Some((line, v)) => {
                    if !labs.contains_key(v) && !self.root.join(LABS_DIR).join(v).is_dir() {
                        self.problem(
                            file,
                            (*line, 1),
                            format!("`lab` names `{v}`, and labs/{v}/ is missing"),
                            format!("create labs/{v}/ (index.json and lab.json), or name another"),
                        );
                    }
                    lesson.lesson.content_url = Some(format!("/labs/{v}"));
                    lesson.lab = Some(v.clone());
                }
            },
        }
        Some(lesson)
    }
}

/// The fields of a lesson's front-matter header (besides `captions.LANGUAGE`).
const LESSON_FIELDS: &[&str] = &[
    "title",
    "type",
    "description",
    "duration_minutes",
    "video",
    "poster",
    "assessment",
    "lab",
    "draft",
];

/// The prefix of a video lesson's caption fields: `captions.en: media/intro.en.vtt`.
pub(crate) const CAPTIONS_FIELD: &str = "captions.";

/// At most this many caption tracks on a lesson (the server's limit).
const MAX_CAPTIONS: usize = 20;

/// A BCP 47 language tag as captions name them: letters, digits and `-`, starting with a
/// two- or three-letter language (`en`, `pt-BR`, `zh-Hant`); the server checks it in full.
fn is_caption_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    tag.len() <= 35
        && (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

enum Deserialized<T> {
    Ok(T),
    /// An unknown field, reported; read again without it.
    Unknown(String),
    Failed,
}

/// Whether the folder `dir` holds nothing but dot-names and folders that hold nothing.
pub(crate) fn holds_nothing(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).all(|e| {
            e.file_name().to_string_lossy().starts_with('.')
                || (e.file_type().is_ok_and(|t| t.is_dir()) && holds_nothing(&e.path()))
        })
    })
}

/// A `video:` value that is not a package file: an http(s) URL, or a path of the server's
/// media (`/media/…`, as a pulled course names an uploaded video).
fn is_video_url(v: &str) -> bool {
    v.starts_with("https://")
        || v.starts_with("http://")
        || v.strip_prefix("/media/").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.chars().any(char::is_whitespace)
                && rest
                    .split('/')
                    .all(|part| !part.is_empty() && part != "." && part != "..")
        })
}

/// The first word of every WebVTT file.
const WEBVTT: &str = "WEBVTT";

/// A relative path that stays inside the package.
fn inside_package(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// A kebab-case slug of at most 100 characters (the server's rule).
pub(crate) fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A tag: lowercase letters, digits and `-+#.`, 1 to 60 characters (the server's rule).
fn is_tag(s: &str) -> bool {
    (1..=60).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-+#.".contains(c))
}

// The skeleton ----------------------------------------------------------------------------------

/// The files of a new package for the course `slug`: a module with a text lesson, a quiz and a
/// lab of one step with its verify and solve scripts. It validates as it is.
#[allow(clippy::too_many_lines, reason = "the files, written out")]
pub fn skeleton(slug: &str) -> Vec<(&'static str, String)> {
    // Written out rather than serialized, so that the fields come in the order an author reads
    // them (serde_json's maps sort their keys).
    let course = format!(
        r#"{{
  "format": {FORMAT},
  "slug": "{slug}",
  "service": "development",
  "title": "My new course",
  "description": "What learners will get out of this course.",
  "duration": "2 hours",
  "level": "Beginner",
  "price": "0.00",
  "language": "en",
  "objectives": ["Run a first command in a lab"],
  "tags": ["getting-started"]
}}
"#
    );
    let module = r#"{
  "title": "Getting started",
  "description": "A first look around.",
  "duration_minutes": 30
}
"#;
    let quiz = r#"{
  "title": "Check your understanding",
  "kind": "quiz",
  "passing_score": 70,
  "max_attempts": 3,
  "questions": [
    {
      "question_text": "Which file describes the course?",
      "question_type": "multiple_choice",
      "options": {
        "choices": [
          {"id": "a", "text": "course.json"},
          {"id": "b", "text": "module.json"}
        ]
      },
      "answer_key": {"kind": "choices", "ids": ["a"]},
      "points": 1,
      "explanation": "course.json sits at the package's root."
    },
    {
      "question_text": "Lessons are ordered by their number prefix.",
      "question_type": "true_false",
      "answer_key": {"kind": "true_false", "value": true}
    }
  ]
}
"#;
    let index = r#"{
  "title": "First lab",
  "description": "Create a file and let the lab check it.",
  "details": {
    "intro": {"text": "intro.md"},
    "steps": [
      {
        "title": "Create a file",
        "text": "step1/text.md",
        "verify": "step1/verify.sh",
        "solve": "step1/solve.sh",
        "hints": ["Use `touch`."]
      }
    ],
    "finish": {"text": "finish.md"}
  },
  "backend": {"imageid": "ubuntu"}
}
"#;
    let lab = r#"{
  "difficulty": "Beginner",
  "duration": "10 minutes",
  "provider": "local-sandbox",
  "technology": ["bash"],
  "is_free": true
}
"#;
    vec![
        (COURSE_FILE, course),
        ("01-getting-started/module.json", module.to_owned()),
        (
            "01-getting-started/01-welcome.md",
            "---\ntitle: Welcome\ntype: text\nduration_minutes: 5\n---\n\n# Welcome\n\n\
             This lesson is markdown: edit it in any editor.\n"
                .to_owned(),
        ),
        (
            "01-getting-started/02-check-your-understanding.md",
            "---\ntitle: Check your understanding\ntype: quiz\nassessment: getting-started-quiz\n\
             duration_minutes: 5\n---\n"
                .to_owned(),
        ),
        (
            "01-getting-started/03-first-lab.md",
            "---\ntitle: First lab\ntype: lab\nlab: first-lab\nduration_minutes: 10\n---\n"
                .to_owned(),
        ),
        ("assessments/getting-started-quiz.json", quiz.to_owned()),
        ("labs/first-lab/index.json", index.to_owned()),
        ("labs/first-lab/lab.json", lab.to_owned()),
        (
            "labs/first-lab/intro.md",
            "In this lab you create a file.\n".to_owned(),
        ),
        (
            "labs/first-lab/step1/text.md",
            "Create the file `~/hello`:\n\n```bash exec\ntouch ~/hello\n```\n".to_owned(),
        ),
        (
            "labs/first-lab/step1/verify.sh",
            "#!/bin/sh\ntest -f ~/hello || { echo 'No ~/hello yet.'; exit 1; }\n".to_owned(),
        ),
        (
            "labs/first-lab/step1/solve.sh",
            "#!/bin/sh\ntouch ~/hello\n".to_owned(),
        ),
        ("labs/first-lab/finish.md", "Well done.\n".to_owned()),
    ]
}

/// Why a skeleton was not written.
#[derive(Debug, thiserror::Error)]
pub enum NewPackageError {
    /// The folder exists and holds files: a skeleton never overwrites anything.
    #[error("{0} is not empty: a new package goes in a new or empty folder")]
    NotEmpty(String),
    /// The folder's name is no slug and none was given.
    #[error("`{0}` is not a slug: lowercase words joined by `-` (`intro-to-rust`)")]
    BadSlug(String),
    /// Writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Writes [`skeleton`] into `dir` (new or empty), for the course named after the folder.
pub fn write_skeleton(dir: &Path) -> Result<(), NewPackageError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| NewPackageError::Io { path, source }
    };
    if let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
    {
        return Err(NewPackageError::NotEmpty(dir.display().to_string()));
    }
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_lowercase()
        .replace(['_', ' ', '.'], "-");
    if !is_slug(&name) {
        return Err(NewPackageError::BadSlug(name));
    }
    for (path, text) in skeleton(&name) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    /// A fresh skeleton in `dir/my-course`, its root returned.
    fn package(dir: &tempfile::TempDir) -> std::path::PathBuf {
        let root = dir.path().join("my-course");
        write_skeleton(&root).unwrap();
        root
    }

    fn write(root: &Path, file: &str, text: &str) {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Replaces `from` by `to` in a file of the package (which must contain it).
    fn edit(root: &Path, file: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}:\n{text}");
        std::fs::write(root.join(file), text.replacen(from, to, 1)).unwrap();
    }

    /// The problems of the package at `root`, as the CLI prints them.
    fn problems(root: &Path) -> Vec<String> {
        match read_dir(root) {
            Ok(p) => panic!("expected problems, read {p:?}"),
            Err(Problems(list)) => list.iter().map(ToString::to_string).collect(),
        }
    }

    #[track_caller]
    fn only(root: &Path, expected: &str) {
        assert_eq!(problems(root), [expected]);
    }

    #[test]
    fn the_skeleton_reads_back_as_drafts() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        let p = read_dir(&root).unwrap();
        assert_eq!(p.course.slug, "my-course");
        assert_eq!(p.course.service_id.to_string(), UNRESOLVED_SERVICE);
        assert_eq!(p.service, "development");
        assert_eq!(p.tags, ["getting-started"]);
        let [module] = &p.modules[..] else {
            panic!("{p:?}")
        };
        assert_eq!(module.dir, "01-getting-started");
        assert_eq!(module.module.sort_order, Some(0));
        let types: Vec<_> = module
            .lessons
            .iter()
            .map(|l| (l.lesson.content_type, l.lesson.sort_order))
            .collect();
        assert_eq!(
            types,
            [
                (LessonContentType::Text, Some(0)),
                (LessonContentType::Quiz, Some(1)),
                (LessonContentType::Lab, Some(2))
            ]
        );
        assert!(
            module.lessons[0]
                .lesson
                .content_body
                .as_deref()
                .unwrap()
                .starts_with("# Welcome")
        );
        assert_eq!(
            module.lessons[1].assessment.as_deref(),
            Some("getting-started-quiz")
        );
        assert_eq!(
            module.lessons[2].lesson.content_url.as_deref(),
            Some("/labs/first-lab")
        );
        let [quiz] = &p.assessments[..] else { panic!() };
        assert_eq!(quiz.questions.len(), 2);
        assert_eq!(quiz.questions[1].sort_order, Some(1));
        let [lab] = &p.labs[..] else { panic!() };
        assert_eq!(lab.lab.slug, "first-lab");
        assert_eq!(lab.lab.title, "First lab");
        assert_eq!(
            lab.lab.instructions.as_deref(),
            Some("In this lab you create a file.\n")
        );
        assert_eq!(lab.steps.steps.len(), 1);
        assert!(
            lab.steps.steps[0]
                .verify
                .as_deref()
                .unwrap()
                .contains("test -f")
        );
        assert!(lab.steps.steps[0].solve.is_some());
    }

    #[test]
    fn a_draft_lesson_stays_unpublished_and_writes_back_as_a_draft() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        let welcome = "01-getting-started/01-welcome.md";
        edit(&root, welcome, "type: text\n", "type: text\ndraft: true\n");
        let p = read_dir(&root).unwrap();
        assert!(p.modules[0].lessons[0].draft);
        assert!(!p.modules[0].lessons[1].draft);
        let tree = crate::tree::to_tree(&p);
        assert!(!tree.modules[0].lessons[0].lesson.is_published);
        assert!(tree.modules[0].lessons[0].draft);
        assert!(tree.modules[0].lessons[1].lesson.is_published);
        let files = crate::tree::write_tree(&tree);
        let (_, text) = files.iter().find(|(path, _)| path == welcome).unwrap();
        assert!(
            String::from_utf8_lossy(text).contains("\ndraft: true\n---\n"),
            "{}",
            String::from_utf8_lossy(text)
        );
        edit(&root, welcome, "draft: true", "draft: yes");
        only(
            &root,
            "01-getting-started/01-welcome.md:4:1: `draft` is `yes` (write `draft: true` (a lesson still being written) or leave it out)",
        );
    }

    #[test]
    fn a_new_package_needs_an_empty_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        assert!(matches!(
            write_skeleton(&root),
            Err(NewPackageError::NotEmpty(_))
        ));
    }

    #[test]
    fn an_unknown_field_is_pointed_at() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(&root, "course.json", "\"title\"", "\"titel\"");
        let list = problems(&root);
        assert_eq!(list.len(), 2, "{list:?}");
        assert!(
            list[0].starts_with(
                "course.json:5:3: unknown field `titel` (remove it, or use one of: slug, title, "
            ),
            "{list:?}"
        );
        assert!(
            list[0].ends_with("format, service, tags, prerequisites)"),
            "{list:?}"
        );
        assert_eq!(list[1], "course.json:1:1: missing field `title` (add it)");
    }

    #[test]
    fn every_unknown_field_is_reported_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(
            &root,
            "01-getting-started/module.json",
            "{\n  \"title\": \"Basics\",\n  \"colour\": 1,\n  \"size\": 2\n}\n",
        );
        let list = problems(&root);
        assert_eq!(list.len(), 2, "{list:?}");
        assert!(
            list[0].starts_with("01-getting-started/module.json:3:3: unknown field `colour`"),
            "{list:?}"
        );
        assert!(
            list[1].starts_with("01-getting-started/module.json:4:3: unknown field `size`"),
            "{list:?}"
        );
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(&root, "course.json", "\"Beginner\"", "\"Expert\"");
        let list = problems(&root);
        assert_eq!(list.len(), 1, "{list:?}");
        assert!(
            list[0].starts_with("course.json:8:3: `level`: unknown variant `Expert`"),
            "{list:?}"
        );
    }

    #[test]
    fn bad_json_has_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(
            &root,
            "01-getting-started/module.json",
            "{\n  \"title\": \"x\",\n}\n",
        );
        only(
            &root,
            "01-getting-started/module.json:3:1: not valid JSON: trailing comma (fix the JSON syntax)",
        );
    }

    #[test]
    fn the_format_must_be_one_this_reader_knows() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(&root, "course.json", "\"format\": 1", "\"format\": 2");
        only(
            &root,
            "course.json:2:3: `format` is 2; this version of Skilltrack reads format 1 \
             (set \"format\": 1, or update Skilltrack)",
        );
    }

    #[test]
    fn a_service_id_is_refused_for_a_service_slug() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(
            &root,
            "course.json",
            "\"slug\"",
            "\"service_id\": \"5b1e3c2a-0000-0000-0000-000000000000\",\n  \"slug\"",
        );
        only(
            &root,
            "course.json:3:3: `service_id` is not set in this file \
             (name the service by its slug: \"service\": \"development\")",
        );
    }

    #[test]
    fn a_missing_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        std::fs::remove_file(root.join("01-getting-started/module.json")).unwrap();
        only(
            &root,
            "01-getting-started/module.json:1:1: missing file (create it: {\"title\": \"…\"})",
        );
    }

    #[test]
    fn a_folder_without_an_order_prefix_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(&root, "extras/module.json", "{\"title\": \"Extras\"}");
        only(
            &root,
            "extras/module.json:1:1: `extras` has no order prefix (rename it with a number first: \
             `01-extras`)",
        );
    }

    #[test]
    fn a_lesson_without_an_order_prefix_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(
            &root,
            "01-getting-started/outro.md",
            "---\ntitle: Bye\ntype: text\n---\nBye.\n",
        );
        only(
            &root,
            "01-getting-started/outro.md:1:1: `01-getting-started/outro.md` has no order prefix \
             (rename it with a number first: `01-outro.md`)",
        );
    }

    #[test]
    fn a_duplicate_order_prefix_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(
            &root,
            "01-getting-started/01-more.md",
            "---\ntitle: More\ntype: text\n---\nMore.\n",
        );
        only(
            &root,
            "01-getting-started/01-welcome.md:1:1: order prefix 1 is also used by \
             `01-getting-started/01-more.md` (give each its own number)",
        );
    }

    #[test]
    fn a_duplicate_slug_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(
            &root,
            "02-getting-started/module.json",
            "{\"title\": \"Again\"}",
        );
        only(
            &root,
            "02-getting-started/module.json:1:1: duplicate slug `getting-started`: \
             `01-getting-started` has it too (give each its own name after the number)",
        );
    }

    #[test]
    fn an_answer_key_must_name_a_choice() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(
            &root,
            "assessments/getting-started-quiz.json",
            "\"ids\": [\"a\"]",
            "\"ids\": [\"c\"]",
        );
        only(
            &root,
            "assessments/getting-started-quiz.json:16:49: the answer key names `c`, which is not \
             a choice (name one of the choice ids: a, b)",
        );
    }

    #[test]
    fn an_accepted_answer_of_punctuation_alone_is_refused_as_the_server_refuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(
            &root,
            "assessments/getting-started-quiz.json",
            "\"question_type\": \"true_false\",\n      \"answer_key\": {\"kind\": \"true_false\", \"value\": true}",
            "\"question_type\": \"short_answer\",\n      \"answer_key\": {\"kind\": \"accepted\", \"answers\": [\"yes\", \"??\"]}",
        );
        only(
            &root,
            "assessments/getting-started-quiz.json:23:61: the accepted answer \"??\" is empty once \
             case, spacing and punctuation are ignored, as answers are compared (write it with \
             letters or digits, or remove it)",
        );
    }

    #[test]
    fn a_key_must_fit_its_question() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(
            &root,
            "assessments/getting-started-quiz.json",
            "{\"kind\": \"true_false\", \"value\": true}",
            "{\"kind\": \"accepted\", \"answers\": [\"yes\"]}",
        );
        let list = problems(&root);
        assert_eq!(list.len(), 1, "{list:?}");
        assert!(
            list[0].starts_with(
                "assessments/getting-started-quiz.json:23:7: the answer key does not fit the \
                 question's type (use \"answer_key\": {\"kind\": \"true_false\""
            ),
            "{list:?}"
        );
    }

    #[test]
    fn a_step_whose_script_is_missing_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        std::fs::remove_file(root.join("labs/first-lab/step1/verify.sh")).unwrap();
        std::fs::remove_file(root.join("labs/first-lab/step1/solve.sh")).unwrap();
        assert_eq!(
            problems(&root),
            [
                "labs/first-lab/index.json:10:9: `verify` names `step1/verify.sh`, which is \
                 missing (create labs/first-lab/step1/verify.sh, or remove `verify`)",
                "labs/first-lab/index.json:11:9: `solve` names `step1/solve.sh`, which is \
                 missing (create labs/first-lab/step1/solve.sh, or remove `solve`)",
            ]
        );
    }

    #[test]
    fn a_lesson_header_is_checked_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(
            &root,
            "01-getting-started/01-welcome.md",
            "type: text\n",
            "type: text\nauthor: me\nvideo: intro.webm\n",
        );
        assert_eq!(
            problems(&root),
            [
                "01-getting-started/01-welcome.md:4:1: unknown field `author` (remove it, or use \
                 one of: title, type, description, duration_minutes, video, poster, assessment, lab, draft, captions.LANGUAGE)",
                "01-getting-started/01-welcome.md:5:1: `video` does not go with `type: text` \
                 (remove `video`, or change the type)",
            ]
        );
    }

    #[test]
    fn a_quiz_lesson_must_name_an_assessment_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(
            &root,
            "01-getting-started/02-check-your-understanding.md",
            "assessment: getting-started-quiz",
            "assessment: final",
        );
        only(
            &root,
            "01-getting-started/02-check-your-understanding.md:4:1: `assessment` names `final`, \
             and assessments/final.json is missing (create assessments/final.json, \
             or name another)",
        );
    }

    #[test]
    fn a_video_lesson_has_a_poster_and_captions_by_language_as_files_or_urls() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(&root, "media/tour.webm", "not really a video");
        write(&root, "media/tour.png", "a picture");
        write(
            &root,
            "media/tour.en.vtt",
            "WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n",
        );
        write(&root, "media/tour.fr.vtt", "\u{feff}WEBVTT - French\n");
        write(
            &root,
            "01-getting-started/04-tour.md",
            "---\ntitle: Tour\ntype: video\nvideo: media/tour.webm\nposter: media/tour.png\n\
             captions.fr: media/tour.fr.vtt\ncaptions.en: media/tour.en.vtt\n\
             captions.pt-BR: https://cdn.example/tour.pt-BR.vtt\n---\n",
        );
        let p = read_dir(&root).unwrap();
        let tour = &p.modules[0].lessons[3];
        assert_eq!(tour.poster_file.as_deref(), Some("media/tour.png"));
        assert_eq!(
            tour.caption_files.iter().collect::<Vec<_>>(),
            [
                (&"en".to_owned(), &"media/tour.en.vtt".to_owned()),
                (&"fr".to_owned(), &"media/tour.fr.vtt".to_owned())
            ]
        );
        assert_eq!(
            tour.lesson.captions,
            [LessonCaption {
                language: "pt-BR".to_owned(),
                url: "https://cdn.example/tour.pt-BR.vtt".to_owned()
            }]
        );

        // Each mistake where it is, with what to do.
        write(
            &root,
            "media/tour.fr.vtt",
            "1\n00:00:00,000 --> 00:00:01,000\nBonjour\n",
        );
        write(
            &root,
            "01-getting-started/04-tour.md",
            "---\ntitle: Tour\ntype: video\nvideo: media/tour.webm\nposter: media/nope.png\n\
             captions.fr: media/tour.fr.vtt\ncaptions.english: media/tour.en.vtt\n---\n",
        );
        let mut all = problems(&root);
        all.sort();
        assert_eq!(
            all,
            [
                "01-getting-started/04-tour.md:5:1: `poster` names `media/nope.png`, which is \
                 missing (name a file by its path from the package's folder, an https:// URL or a \
                 /media/… path)",
                "01-getting-started/04-tour.md:7:1: `captions.english`: `english` is not a \
                 language tag (name the language by its BCP 47 tag: `captions.en`, `captions.pt-BR`)",
                "media/tour.fr.vtt:1:1: `media/tour.fr.vtt` is not a WebVTT file (named by \
                 `captions.fr` in 01-getting-started/04-tour.md) (start it with a line `WEBVTT`, \
                 as WebVTT files do)",
            ]
        );
        write(
            &root,
            "01-getting-started/01-welcome.md",
            "---\ntitle: Welcome\ntype: text\nposter: media/tour.png\ncaptions.en: media/tour.en.vtt\n---\nHi.\n",
        );
        let all = problems(&root);
        assert!(
            all.contains(
                &"01-getting-started/01-welcome.md:4:1: `poster` does not go with `type: text` \
                  (remove `poster`, or change the type)"
                    .to_owned()
            ),
            "{all:#?}"
        );
        assert!(
            all.contains(
                &"01-getting-started/01-welcome.md:5:1: `captions.en` does not go with `type: \
                  text` (remove `captions.en`, or change the type)"
                    .to_owned()
            ),
            "{all:#?}"
        );
    }

    #[test]
    fn a_video_lesson_names_a_file_in_the_package_or_a_url() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(
            &root,
            "01-getting-started/04-tour.md",
            "---\ntitle: Tour\ntype: video\nvideo: media/tour.webm\n---\n",
        );
        only(
            &root,
            "01-getting-started/04-tour.md:4:1: `video` names `media/tour.webm`, which is missing \
             (name a file by its path from the package's folder, an https:// URL or a /media/… path)",
        );
        write(&root, "media/tour.webm", "not really a video");
        let p = read_dir(&root).unwrap();
        let tour = &p.modules[0].lessons[3];
        assert_eq!(tour.video_file.as_deref(), Some("media/tour.webm"));
        assert_eq!(tour.lesson.content_url, None);
        write(
            &root,
            "01-getting-started/04-tour.md",
            "---\ntitle: Tour\ntype: video\nvideo: https://example.com/tour.webm\n---\n",
        );
        let p = read_dir(&root).unwrap();
        assert_eq!(
            p.modules[0].lessons[3].lesson.content_url.as_deref(),
            Some("https://example.com/tour.webm")
        );
        write(
            &root,
            "01-getting-started/04-tour.md",
            "---\ntitle: Tour\ntype: video\nvideo: /media/videos/tour.webm\n---\n",
        );
        let p = read_dir(&root).unwrap();
        let tour = &p.modules[0].lessons[3];
        assert_eq!(
            tour.lesson.content_url.as_deref(),
            Some("/media/videos/tour.webm"),
            "a server media path is a URL, not a package file"
        );
        assert_eq!(tour.video_file, None);
        write(
            &root,
            "01-getting-started/04-tour.md",
            "---\ntitle: Tour\ntype: video\nvideo: /media/../etc/passwd\n---\n",
        );
        only(
            &root,
            "01-getting-started/04-tour.md:4:1: `video` `/media/../etc/passwd` is not a path of \
             the server's media (write /media/ and the file's path there, without spaces, `.` or `..`)",
        );
    }

    #[test]
    fn limits_mirror_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(
            &root,
            "course.json",
            "\"My new course\"",
            &format!("\"{}\"", "x".repeat(201)),
        );
        edit(
            &root,
            "assessments/getting-started-quiz.json",
            "\"passing_score\": 70",
            "\"passing_score\": 170",
        );
        assert_eq!(
            problems(&root),
            [
                "course.json:5:3: `title` has 201 characters (write 1 to 200 characters)",
                "assessments/getting-started-quiz.json:4:3: `passing_score` is 170 (use a number \
                 from 0 to 100)",
            ]
        );
    }

    #[test]
    fn a_package_without_a_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(&root, "course.json", "\"format\": 1,\n", "");
        only(
            &root,
            "course.json:1:1: missing field `format` (add \"format\": 1)",
        );
    }

    #[test]
    fn a_question_is_checked_where_it_stands() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(
            &root,
            "assessments/getting-started-quiz.json",
            "\"choices\": [",
            "\"correct\": \"a\",\n        \"choices\": [",
        );
        edit(
            &root,
            "assessments/getting-started-quiz.json",
            "\"question_type\": \"true_false\",",
            "",
        );
        assert_eq!(
            problems(&root),
            [
                "assessments/getting-started-quiz.json:11:9: unknown field `correct` (remove it, \
                 or use one of: choices, multiple, min_words, language, starter_code)",
                "assessments/getting-started-quiz.json:21:5: missing field `question_type` (add \
                 it)",
            ]
        );
    }

    #[test]
    fn a_killercoda_scenario_with_background_scripts_and_assets_is_a_lab() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        write(
            &root,
            "labs/first-lab/index.json",
            r#"{
  "title": "Two steps",
  "description": "From Killercoda.",
  "details": {
    "intro": {"text": "intro.md", "background": "setup.sh"},
    "steps": [
      {"title": "One", "text": "step1/text.md", "verify": "step1/verify.sh", "background": "step1/background.sh"},
      {"title": "Two", "text": "step2/text.md", "verify": "step2/verify.sh"}
    ],
    "finish": {"text": "finish.md"},
    "assets": {"host01": [{"file": "app.py", "target": "/root"}]}
  },
  "backend": {"imageid": "kubernetes-kubeadm-1node"}
}
"#,
        );
        write(&root, "labs/first-lab/setup.sh", "mkdir -p /tmp/lab\n");
        write(
            &root,
            "labs/first-lab/step1/background.sh",
            "touch /tmp/lab/one\n",
        );
        write(&root, "labs/first-lab/step2/text.md", "Now two.\n");
        write(&root, "labs/first-lab/step2/verify.sh", "true\n");
        write(&root, "labs/first-lab/assets/app.py", "print('hi')\n");
        let p = read_dir(&root).unwrap();
        let lab = &p.labs[0];
        assert_eq!(
            lab.lab.title, "Two steps",
            "index.json's title when lab.json has none"
        );
        assert_eq!(
            lab.docker_image, None,
            "a Killercoda machine is not an image"
        );
        let [one, two] = &lab.steps.steps[..] else {
            panic!("{lab:?}")
        };
        assert_eq!(
            one.setup.as_deref(),
            Some("mkdir -p /tmp/lab\n\ntouch /tmp/lab/one\n"),
            "the intro's background runs before the first step's"
        );
        assert_eq!(two.verify.as_deref(), Some("true\n"));
        assert_eq!(lab.steps.finish.as_deref(), Some("Well done.\n"));
    }

    #[test]
    fn problems_from_many_files_come_together() {
        let dir = tempfile::tempdir().unwrap();
        let root = package(&dir);
        edit(&root, "course.json", "\"format\": 1", "\"format\": 0");
        std::fs::remove_file(root.join("labs/first-lab/finish.md")).unwrap();
        write(&root, "01-getting-started/module.json", "{}");
        let files: Vec<String> = match read_dir(&root) {
            Err(Problems(list)) => list.into_iter().map(|p| p.file).collect(),
            Ok(p) => panic!("{p:?}"),
        };
        assert_eq!(
            files,
            [
                "course.json",
                "labs/first-lab/index.json",
                "01-getting-started/module.json"
            ]
        );
    }
}
