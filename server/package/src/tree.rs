//! A course package as the wire's [`CourseTree`] and back: [`to_tree`] is what
//! `skilltrack course push` sends, [`write_tree`] and [`write_dir`] what `skilltrack course pull`
//! writes.
//!
//! The two are inverse for every package the reader accepts: for `T = to_tree(read_dir(dir))`,
//! the files of `write_tree(T)` read back into `T`, and writing that again gives the same
//! bytes. The files are written in one fixed way (names `NN-slug` from positions, JSON
//! pretty-printed with its keys in a fixed order and fields at their defaults left out, lesson
//! headers in a fixed order), so a pull followed by a pull changes nothing and a diff shows
//! only what changed on the server.
//!
//! A tree carries no file contents: a video lesson whose video is a file of the package
//! ([`crate::course::PackageLesson::video_file`]) has no `content_url` until the file is uploaded.
//! [`media_files`] lists those files, and [`to_tree_with_media`] fills in the URLs they were
//! uploaded at.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::io;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};
use skilltrack_protocol::authoring::{LessonCaption, LessonContentType};
use skilltrack_protocol::course_packages::{
    CourseTree, TreeAssessment, TreeLab, TreeLesson, TreeModule,
};

use crate::course::{
    ASSESSMENTS_DIR, CAPTIONS_FIELD, COURSE_FILE, CoursePackage, FORMAT, LABS_DIR, MEDIA_DIR,
    PackageLesson, is_slug,
};

// Package to tree -------------------------------------------------------------------------------

/// A file of the package that a lesson shows (a video), to upload before a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    /// The lesson, as `module-slug/lesson-slug`.
    pub lesson: String,
    /// The file, relative to the package's folder (`media/intro.webm`): the key of the map
    /// [`to_tree_with_media`] takes.
    pub path: String,
}

/// `name` without its order prefix (`01-welcome.md` → `welcome.md`).
fn without_prefix(name: &str) -> &str {
    name.split_once('-').map_or(name, |(_, rest)| rest)
}

/// A module folder's slug: its name without the order prefix.
#[must_use]
pub fn module_slug(dir: &str) -> &str {
    without_prefix(dir)
}

/// A lesson's slug: its file name without the order prefix and `.md`.
#[must_use]
pub fn lesson_slug(file: &str) -> &str {
    let name = file.rsplit('/').next().unwrap_or(file);
    let name = name.strip_suffix(".md").unwrap_or(name);
    without_prefix(name)
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// The package as a tree. A video lesson whose video is a file of the package keeps
/// `content_url: None` (see [`to_tree_with_media`]).
pub fn to_tree(package: &CoursePackage) -> CourseTree {
    to_tree_with_media(package, &HashMap::<String, String>::new())
}

/// The package as a tree, with each video lesson whose video is a file of the package given
/// the URL it was uploaded at: `urls` maps the file's path in the package (a
/// [`MediaFile::path`]) to its URL on the server (`/media/…`). A file missing from the map
/// leaves its lesson's `content_url` at `None`.
pub fn to_tree_with_media<S: BuildHasher>(
    package: &CoursePackage,
    urls: &HashMap<String, String, S>,
) -> CourseTree {
    let modules = package
        .modules
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut module = m.module.clone();
            module.sort_order = Some(position(i));
            module.is_published = true;
            TreeModule {
                slug: module_slug(&m.dir).to_owned(),
                module,
                lessons: m
                    .lessons
                    .iter()
                    .enumerate()
                    .map(|(j, l)| tree_lesson(l, j, urls))
                    .collect(),
            }
        })
        .collect();
    let assessments = package
        .assessments
        .iter()
        .map(|a| TreeAssessment {
            slug: a.slug.clone(),
            assessment: a.assessment.clone(),
            questions: a
                .questions
                .iter()
                .cloned()
                .map(|mut q| {
                    q.sort_order = None;
                    q
                })
                .collect(),
        })
        .collect();
    let labs = package
        .labs
        .iter()
        .map(|l| TreeLab {
            lab: l.lab.clone(),
            category: l.category.clone(),
            steps: l.steps.clone(),
        })
        .collect();
    CourseTree {
        course: package.course.clone(),
        service: package.service.clone(),
        tags: package.tags.clone(),
        prerequisites: package.prerequisites.clone(),
        modules,
        assessments,
        labs,
    }
}

fn tree_lesson<S: BuildHasher>(
    l: &PackageLesson,
    i: usize,
    urls: &HashMap<String, String, S>,
) -> TreeLesson {
    let mut lesson = l.lesson.clone();
    lesson.sort_order = Some(position(i));
    lesson.is_published = !l.draft;
    if let Some(file) = &l.video_file {
        lesson.content_url = urls.get(file).cloned();
    }
    if let Some(file) = &l.poster_file {
        lesson.poster_url = urls.get(file).cloned();
    }
    for (language, file) in &l.caption_files {
        if let Some(url) = urls.get(file) {
            lesson.captions.push(LessonCaption {
                language: language.clone(),
                url: url.clone(),
            });
        }
    }
    // One order for the tracks, whichever way each was given: the server keeps them so.
    lesson.captions.sort();
    TreeLesson {
        slug: lesson_slug(&l.file).to_owned(),
        lesson,
        assessment: l.assessment.clone(),
        draft: l.draft,
    }
}

/// The files of the package that its lessons show (videos, their posters and captions), in
/// the order of the lessons.
pub fn media_files(package: &CoursePackage) -> Vec<MediaFile> {
    package
        .modules
        .iter()
        .flat_map(|m| {
            m.lessons.iter().flat_map(|l| {
                let lesson = format!("{}/{}", module_slug(&m.dir), lesson_slug(&l.file));
                l.video_file
                    .iter()
                    .chain(&l.poster_file)
                    .chain(l.caption_files.values())
                    .map(move |path| MediaFile {
                        lesson: lesson.clone(),
                        path: path.clone(),
                    })
            })
        })
        .collect()
}

// JSON as the package writes it -----------------------------------------------------------------

/// The order of keys in the package's JSON files: the order an author reads them in (what
/// the thing is, then its details). A key not listed comes after these, by name.
const KEY_ORDER: &[&str] = &[
    "format",
    "slug",
    "service",
    "lab",
    "title",
    "description",
    "kind",
    "question_text",
    "question_type",
    "difficulty",
    "duration",
    "level",
    "provider",
    "category",
    "category_id",
    "details",
    "intro",
    "steps",
    "id",
    "text",
    "background",
    "verify",
    "solve",
    "hints",
    "finish",
    "backend",
    "imageid",
    "skilltrack",
    "price",
    "choices",
    "multiple",
    "min_words",
    "language",
    "starter_code",
    "image_url",
    "preview_video_url",
    "technology",
    "features",
    "objectives",
    "prerequisite_notes",
    "subtitles",
    "max_students",
    "start_date",
    "end_date",
    "enrollment_deadline",
    "tags",
    "prerequisites",
    "duration_minutes",
    "setup_instructions",
    "cleanup_instructions",
    "environment_template",
    "docker_image",
    "resource_requirements",
    "cpu",
    "memory",
    "storage",
    "max_concurrent_users",
    "estimated_cost",
    "is_free",
    "related_courses",
    "time_limit_minutes",
    "max_attempts",
    "passing_score",
    "review_policy",
    "questions",
    "options",
    "answer_key",
    "ids",
    "value",
    "answers",
    "points",
    "explanation",
];

/// `value` as a package's JSON file: pretty-printed with 2 spaces, keys in [`KEY_ORDER`], and a
/// newline at the end. Independent of how `serde_json` orders a map's keys.
fn json_file(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_json(&mut out, value, 0);
    out.push('\n');
    out.into_bytes()
}

fn write_json(out: &mut String, value: &Value, indent: usize) {
    let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| {
                (
                    KEY_ORDER
                        .iter()
                        .position(|o| o == k)
                        .unwrap_or(KEY_ORDER.len()),
                    k.as_str(),
                )
            });
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                pad(out, indent + 2);
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write_json(out, &map[k.as_str()], indent + 2);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            pad(out, indent);
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, indent + 2);
                write_json(out, item, indent + 2);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(out, indent);
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `value`'s fields as a JSON object.
fn members(value: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Leaves out the fields at their defaults: `null` (but for `keep_null`: a `null` that means
/// something other than the default), empty lists, and `defaults`' pairs.
fn drop_defaults(map: &mut Map<String, Value>, keep_null: &[&str], defaults: &[(&str, Value)]) {
    map.retain(|k, v| {
        let default = match v {
            Value::Null => !keep_null.contains(&k.as_str()),
            Value::Array(items) => items.is_empty(),
            _ => false,
        };
        !default && !defaults.iter().any(|(name, d)| name == k && d == v)
    });
}

// Tree to files ---------------------------------------------------------------------------------

/// `NN-`: a 1-based position, zero-padded to 2 digits (3 or more when there are more than 99).
fn prefixed(i: usize, count: usize, slug: &str) -> String {
    let width = count.to_string().len().max(2);
    format!("{:0width$}-{slug}", i + 1)
}

/// A lesson header's value as the reader reads it back: quoted when it would otherwise lose
/// spaces at its ends or a pair of quotes around it. A header value is one line.
fn header_value(value: &str) -> String {
    let value = value.replace(['\r', '\n'], " ");
    let quoted = value.is_empty()
        || value.trim() != value
        || (value.len() >= 2 && value.starts_with('"') && value.ends_with('"'));
    if quoted {
        format!("\"{value}\"")
    } else {
        value
    }
}

/// The package files for `tree`, sorted by path: what `skilltrack course pull` writes.
///
/// A video lesson without `content_url` (a package file not uploaded) gets no `video:` line,
/// and a tree's `service_id`, lesson and module `sort_order` and `is_published`, and
/// questions' `sort_order` are not written (a package sets them by its layout).
///
/// Slugs become file names as they are: check a tree from elsewhere with [`bad_slug`] first
/// ([`write_dir`] does).
pub fn write_tree(tree: &CourseTree) -> Vec<(String, Vec<u8>)> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert(COURSE_FILE.to_owned(), course_file(tree));
    for (i, m) in tree.modules.iter().enumerate() {
        let dir = prefixed(i, tree.modules.len(), &m.slug);
        let mut module = members(&m.module);
        module.remove("sort_order");
        module.remove("is_published");
        drop_defaults(&mut module, &[], &[]);
        files.insert(
            format!("{dir}/module.json"),
            json_file(&Value::Object(module)),
        );
        for (j, l) in m.lessons.iter().enumerate() {
            let name = prefixed(j, m.lessons.len(), &l.slug);
            files.insert(format!("{dir}/{name}.md"), lesson_file(l));
        }
    }
    for a in &tree.assessments {
        files.insert(
            format!("{ASSESSMENTS_DIR}/{}.json", a.slug),
            assessment_file(a),
        );
    }
    for lab in &tree.labs {
        for (path, bytes) in lab_files(lab) {
            files.insert(format!("{LABS_DIR}/{}/{path}", lab.lab.slug), bytes);
        }
    }
    files.into_iter().collect()
}

fn course_file(tree: &CourseTree) -> Vec<u8> {
    let mut course = members(&tree.course);
    course.remove("service_id");
    if tree.course.price.is_zero() {
        course.remove("price");
    }
    drop_defaults(&mut course, &[], &[]);
    course.insert("format".to_owned(), Value::from(FORMAT));
    course.insert("service".to_owned(), Value::from(tree.service.clone()));
    if !tree.tags.is_empty() {
        course.insert("tags".to_owned(), Value::from(tree.tags.clone()));
    }
    if !tree.prerequisites.is_empty() {
        course.insert(
            "prerequisites".to_owned(),
            Value::from(tree.prerequisites.clone()),
        );
    }
    json_file(&Value::Object(course))
}

fn lesson_file(l: &TreeLesson) -> Vec<u8> {
    let lesson = &l.lesson;
    let mut text = String::from("---\n");
    let mut field = |name: &str, value: &str| {
        text.push_str(name);
        text.push_str(": ");
        text.push_str(&header_value(value));
        text.push('\n');
    };
    field("title", &lesson.title);
    field("type", lesson.content_type.as_str());
    if let Some(d) = &lesson.description {
        field("description", d);
    }
    if let Some(m) = lesson.duration_minutes {
        field("duration_minutes", &m.to_string());
    }
    match (lesson.content_type, lesson.content_url.as_deref()) {
        (LessonContentType::Video, Some(url)) => field("video", url),
        (LessonContentType::Lab, Some(url)) => {
            field("lab", url.strip_prefix("/labs/").unwrap_or(url));
        }
        _ => {}
    }
    if let Some(poster) = &lesson.poster_url {
        field("poster", poster);
    }
    let mut captions: Vec<_> = lesson.captions.iter().collect();
    captions.sort();
    for caption in captions {
        field(
            &format!("{CAPTIONS_FIELD}{}", caption.language),
            &caption.url,
        );
    }
    if let Some(a) = &l.assessment {
        field("assessment", a);
    }
    if l.draft {
        field("draft", "true");
    }
    text.push_str("---\n");
    if let Some(body) = lesson.content_body.as_deref().map(str::trim)
        && !body.is_empty()
    {
        text.push('\n');
        text.push_str(body);
        text.push('\n');
    }
    text.into_bytes()
}

fn assessment_file(a: &TreeAssessment) -> Vec<u8> {
    let mut assessment = members(&a.assessment);
    drop_defaults(
        &mut assessment,
        &["max_attempts"],
        &[
            ("max_attempts", Value::from(1)),
            ("passing_score", Value::from(70)),
        ],
    );
    let questions: Vec<Value> = a
        .questions
        .iter()
        .map(|q| {
            let mut question = members(q);
            question.remove("sort_order");
            if let Some(Value::Object(options)) = question.get_mut("options") {
                options.retain(|_, v| !v.is_null());
            }
            drop_defaults(
                &mut question,
                &[],
                &[
                    ("points", Value::from(1)),
                    ("options", Value::Object(Map::new())),
                ],
            );
            Value::Object(question)
        })
        .collect();
    assessment.insert("questions".to_owned(), Value::Array(questions));
    json_file(&Value::Object(assessment))
}

/// A lab's files in Killercoda's layout, by their path in the lab's folder.
fn lab_files(tree_lab: &TreeLab) -> Vec<(String, Vec<u8>)> {
    let lab = &tree_lab.lab;
    let mut files = Vec::new();
    let mut details = Map::new();
    if let Some(intro) = &lab.instructions {
        files.push(("intro.md".to_owned(), intro.clone().into_bytes()));
        details.insert("intro".to_owned(), serde_json::json!({"text": "intro.md"}));
    }
    let mut steps = Vec::new();
    for (i, step) in tree_lab.steps.steps.iter().enumerate() {
        let dir = format!("step{}", i + 1);
        let mut entry = Map::new();
        entry.insert("title".to_owned(), Value::from(step.title.clone()));
        let scripts = [
            (
                "text",
                "text.md",
                Some(&step.body).filter(|b| !b.is_empty()),
            ),
            ("background", "background.sh", step.setup.as_ref()),
            ("verify", "verify.sh", step.verify.as_ref()),
            ("solve", "solve.sh", step.solve.as_ref()),
        ];
        for (field, name, content) in scripts {
            if let Some(content) = content {
                let path = format!("{dir}/{name}");
                entry.insert(field.to_owned(), Value::from(path.clone()));
                files.push((path, content.clone().into_bytes()));
            }
        }
        if !step.hints.is_empty() {
            entry.insert("hints".to_owned(), Value::from(step.hints.clone()));
        }
        steps.push(Value::Object(entry));
    }
    details.insert("steps".to_owned(), Value::Array(steps));
    if let Some(finish) = &tree_lab.steps.finish {
        files.push(("finish.md".to_owned(), finish.clone().into_bytes()));
        details.insert(
            "finish".to_owned(),
            serde_json::json!({"text": "finish.md"}),
        );
    }
    // Killercoda needs a machine to run a scenario on; the reader takes its machine names for
    // no image, so this changes nothing here and keeps the folder a Killercoda scenario.
    let index = serde_json::json!({
        "title": lab.title,
        "description": lab.description,
        "details": details,
        "backend": {"imageid": "ubuntu"},
    });
    files.push(("index.json".to_owned(), json_file(&index)));

    let mut own = members(lab);
    for name in ["slug", "title", "description", "instructions"] {
        own.remove(name);
    }
    if lab.estimated_cost.is_zero() {
        own.remove("estimated_cost");
    }
    drop_defaults(&mut own, &[], &[("is_free", Value::from(false))]);
    if let Some(category) = &tree_lab.category {
        own.insert("category".to_owned(), Value::from(category.clone()));
    }
    files.push(("lab.json".to_owned(), json_file(&Value::Object(own))));
    files
}

// Writing a folder ------------------------------------------------------------------------------

/// Whether `name` is hidden from the package (and never touched): a dot-file or dot-folder.
fn hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// Whether `name` starts with an order prefix (`01-`), as module folders do.
fn has_order_prefix(name: &str) -> bool {
    name.split_once('-')
        .is_some_and(|(digits, _)| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The names in `dir` (none when it does not exist), with whether each is a folder (a
/// symlink counts as a file: removing it never follows it).
fn list(dir: &Path) -> io::Result<Vec<(String, bool)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        out.push((name, entry.file_type()?.is_dir()));
    }
    out.sort();
    Ok(out)
}

/// Removes `path` and what it holds, but for dot-files and dot-folders (and the folders that
/// hold them).
fn remove_keeping_hidden(path: &Path, is_dir: bool) -> io::Result<()> {
    if !is_dir {
        return std::fs::remove_file(path);
    }
    for (name, is_dir) in list(path)? {
        if !hidden(&name) {
            remove_keeping_hidden(&path.join(&name), is_dir)?;
        }
    }
    remove_if_empty(path)
}

fn remove_if_empty(dir: &Path) -> io::Result<()> {
    if std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_none()) {
        std::fs::remove_dir(dir)?;
    }
    Ok(())
}

/// Removes empty folders under `dir` (not `dir` itself), deepest first.
fn remove_empty_folders(dir: &Path) -> io::Result<()> {
    for (name, is_dir) in list(dir)? {
        if is_dir && !hidden(&name) {
            let sub = dir.join(&name);
            remove_empty_folders(&sub)?;
            remove_if_empty(&sub)?;
        }
    }
    Ok(())
}

/// The files a lab's `index.json` names (its text pages and scripts), relative to the lab.
fn files_named_by_index(index: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(index) else {
        return Vec::new();
    };
    let Ok(index) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    let details = &index["details"];
    let mut named = Vec::new();
    for page in ["intro", "finish"] {
        for field in ["text", "background"] {
            named.extend(details[page][field].as_str().map(str::to_owned));
        }
    }
    for step in details["steps"].as_array().into_iter().flatten() {
        for field in ["text", "verify", "background", "setup", "solve"] {
            named.extend(step[field].as_str().map(str::to_owned));
        }
    }
    named
}

/// The first name in `tree` that becomes part of a file's path and is not a slug.
pub fn bad_slug(tree: &CourseTree) -> Option<&str> {
    let names = tree
        .modules
        .iter()
        .flat_map(|m| std::iter::once(&m.slug).chain(m.lessons.iter().map(|l| &l.slug)))
        .chain(tree.assessments.iter().map(|a| &a.slug))
        .chain(tree.labs.iter().map(|l| &l.lab.slug));
    names.map(String::as_str).find(|s| !is_slug(s))
}

/// Writes `tree`'s package into `dir` ([`write_tree`]'s files), and removes what a package
/// written there before has and `tree` no longer does: module folders (named `NN-…`), lesson
/// files, assessments, labs, and the files a kept lab's old `index.json` named. A module that
/// only moved (`02-files` → `01-files`) takes the other files of its folder (pictures) along.
/// Dot-files and dot-folders (`.git/`, `.skilltrack/`) anywhere, the root's other files (a
/// `README.md`), `media/`, and the files of a kept module folder that are not lessons are
/// never touched. A file whose content is unchanged is not rewritten.
///
/// A tree whose module, lesson, assessment or lab slugs are not slugs (a path, say) is
/// refused with [`io::ErrorKind::InvalidInput`] before anything is written: a pulled tree
/// never names a file outside `dir`.
pub fn write_dir(tree: &CourseTree, dir: &Path) -> io::Result<()> {
    if let Some(bad) = bad_slug(tree) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{bad}` is not a slug: the course cannot be written as files"),
        ));
    }
    let files = write_tree(tree);
    let paths: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    remove_old_modules(dir, &paths)?;
    let assessments = dir.join(ASSESSMENTS_DIR);
    for (file, is_dir) in list(&assessments)? {
        let rel = format!("{ASSESSMENTS_DIR}/{file}");
        if !is_dir
            && !hidden(&file)
            && Path::new(&file).extension().is_some_and(|e| e == "json")
            && !paths.contains(rel.as_str())
        {
            std::fs::remove_file(assessments.join(&file))?;
        }
    }
    let lab_slugs: BTreeSet<&str> = tree.labs.iter().map(|l| l.lab.slug.as_str()).collect();
    remove_old_labs(dir, &paths, &lab_slugs)?;

    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(&path, bytes)?;
        }
        #[cfg(unix)]
        if crate::pack::is_script(rel) {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    for folder in [assessments, dir.join(LABS_DIR)] {
        remove_if_empty(&folder)?;
    }
    Ok(())
}

/// Removes the module folders and lesson files in `dir` that are not among `paths` (the new
/// package's files).
fn remove_old_modules(dir: &Path, paths: &BTreeSet<&str>) -> io::Result<()> {
    let module_dirs: BTreeSet<&str> = paths
        .iter()
        .filter_map(|p| p.strip_suffix("/module.json"))
        .filter(|p| !p.contains('/'))
        .collect();
    let is_lesson = |file: &str| Path::new(file).extension().is_some_and(|e| e == "md");
    for (name, is_dir) in list(dir)? {
        if hidden(&name)
            || !is_dir
            || [ASSESSMENTS_DIR, LABS_DIR, MEDIA_DIR].contains(&name.as_str())
        {
            continue;
        }
        let path = dir.join(&name);
        if module_dirs.contains(name.as_str()) {
            for (file, is_dir) in list(&path)? {
                let rel = format!("{name}/{file}");
                if !is_dir && !hidden(&file) && is_lesson(&file) && !paths.contains(rel.as_str()) {
                    std::fs::remove_file(path.join(&file))?;
                }
            }
        } else if has_order_prefix(&name) {
            // A module that only moved takes along the files beside its lessons; its lessons
            // and module.json are written anew.
            if let Some(new) = module_dirs
                .iter()
                .find(|d| module_slug(d) == module_slug(&name))
            {
                let target = dir.join(new);
                for (file, is_dir) in list(&path)? {
                    let package_file = !is_dir && (file == "module.json" || is_lesson(&file));
                    if !hidden(&file) && !package_file && !target.join(&file).exists() {
                        std::fs::create_dir_all(&target)?;
                        std::fs::rename(path.join(&file), target.join(&file))?;
                    }
                }
            }
            remove_keeping_hidden(&path, true)?;
        }
    }
    Ok(())
}

/// Removes the lab folders in `dir` that are not `lab_slugs`, and in the others the files
/// their old `index.json` named that are not among `paths`.
fn remove_old_labs(
    dir: &Path,
    paths: &BTreeSet<&str>,
    lab_slugs: &BTreeSet<&str>,
) -> io::Result<()> {
    let labs = dir.join(LABS_DIR);
    for (slug, is_dir) in list(&labs)? {
        if hidden(&slug) || !is_dir {
            continue;
        }
        let lab = labs.join(&slug);
        if !lab_slugs.contains(slug.as_str()) {
            remove_keeping_hidden(&lab, true)?;
            continue;
        }
        for named in files_named_by_index(&lab.join("index.json")) {
            let named = named.trim_start_matches("./");
            let rel = format!("{LABS_DIR}/{slug}/{named}");
            let inside = Path::new(named)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            let file = lab.join(named);
            if inside && !paths.contains(rel.as_str()) && file.is_file() {
                std::fs::remove_file(file)?;
            }
        }
        remove_empty_folders(&lab)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
pub(crate) mod tests {
    use super::*;
    use crate::course::read_dir;

    pub(crate) fn write(root: &Path, file: &str, text: &str) {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A package with every kind of content: each lesson type, each question type with its
    /// key, and a lab of two steps with setup, verify and solve scripts, hints and a finish.
    #[allow(clippy::too_many_lines, reason = "the files, written out")]
    pub(crate) fn full_package(root: &Path) {
        write(
            root,
            "course.json",
            r#"{
  "format": 1,
  "slug": "intro-to-shell",
  "service": "development",
  "title": "Introduction to the shell",
  "description": "Move around, make files, and script the boring parts.",
  "duration": "2 hours",
  "level": "Beginner",
  "price": "49.00",
  "language": "en",
  "objectives": ["Navigate", "Script"],
  "start_date": "2026-01-05T09:00:00Z",
  "tags": ["bash", "linux"],
  "prerequisites": ["computer-basics"]
}"#,
        );
        write(
            root,
            "01-getting-started/module.json",
            r#"{"title": "Getting started", "description": "A first look.", "duration_minutes": 40}"#,
        );
        write(
            root,
            "01-getting-started/01-welcome.md",
            "---\ntitle: Welcome\ntype: text\ndescription: Where we start: here\nduration_minutes: 5\n---\n\n# Welcome\n\nSome *markdown*.\n",
        );
        write(
            root,
            "01-getting-started/02-tour.md",
            "---\ntitle: A tour\ntype: video\nvideo: https://example.com/tour.webm\n---\nNotes under the video.\n",
        );
        write(
            root,
            "01-getting-started/03-uploaded.md",
            "---\ntitle: \"Uploaded\"\ntype: video\nvideo: /media/videos/ab12.webm\nduration_minutes: 0\n---\n",
        );
        write(
            root,
            "01-getting-started/04-check.md",
            "---\n# a comment\ntitle: Check your understanding\ntype: quiz\nassessment: check\n---\n",
        );
        write(
            root,
            "01-getting-started/05-homework.md",
            "---\ntitle: Homework\ntype: assignment\nassessment: homework\n---\n\nWrite it up.\n",
        );
        write(
            root,
            "01-getting-started/06-first-lab.md",
            "---\ntitle: First lab\ntype: lab\nlab: first-lab\nduration_minutes: 10\n---\n",
        );
        write(root, "02-files/module.json", r#"{"title": "Files"}"#);
        write(
            root,
            "02-files/01-paths.md",
            "---\ntitle: Part 2: paths\ntype: text\n---\nAbsolute and relative.",
        );
        write(
            root,
            "02-files/02-reading.md",
            "---\ntitle: Reading\ntype: assignment\ndescription: \"\"\n---\nRead chapter 2.\n",
        );
        write(
            root,
            "assessments/check.json",
            r#"{
  "title": "Check your understanding",
  "kind": "quiz",
  "passing_score": 80,
  "max_attempts": null,
  "time_limit_minutes": 15,
  "review_policy": "after_each_attempt",
  "questions": [
    {
      "question_text": "Which file describes the course?",
      "question_type": "multiple_choice",
      "options": {"choices": [{"id": "a", "text": "course.json"}, {"id": "b", "text": "module.json"}], "multiple": false},
      "answer_key": {"kind": "choices", "ids": ["a"]},
      "points": 2,
      "explanation": "course.json sits at the root."
    },
    {
      "question_text": "Which are files?",
      "question_type": "multiple_choice",
      "options": {"choices": [{"id": "a", "text": "x.md"}, {"id": "b", "text": "y/"}, {"id": "c", "text": "z.json"}], "multiple": true},
      "answer_key": {"kind": "choices", "ids": ["a", "c"]}
    },
    {
      "question_text": "Lessons are ordered by their number prefix.",
      "question_type": "true_false",
      "answer_key": {"kind": "true_false", "value": true}
    },
    {
      "question_text": "The command that lists files?",
      "question_type": "short_answer",
      "answer_key": {"kind": "accepted", "answers": ["ls", "ls -l"]},
      "points": 0
    },
    {
      "question_text": "Why script?",
      "question_type": "essay",
      "options": {"min_words": 50}
    }
  ]
}"#,
        );
        write(
            root,
            "assessments/homework.json",
            r##"{"title": "Homework", "kind": "assignment", "max_attempts": 3, "questions": [{"question_text": "Write a script.", "question_type": "code", "options": {"language": "bash", "starter_code": "#!/bin/sh\n"}, "points": 10}]}"##,
        );
        write(
            root,
            "labs/first-lab/index.json",
            r#"{"title": "First lab", "description": "Create files.",
                "details": {"intro": {"text": "intro.md", "background": "setup.sh"},
                  "steps": [{"title": "Make it", "text": "step1/text.md", "verify": "step1/verify.sh",
                             "solve": "step1/solve.sh", "background": "step1/setup.sh",
                             "hints": ["Use touch.", "Really."]},
                            {"title": "Check it", "text": "step2/text.md", "verify": "step2/verify.sh",
                             "solve": "step2/solve.sh", "background": "step2/background.sh"}],
                  "finish": {"text": "finish.md"}},
                "backend": {"imageid": "ubuntu"}}"#,
        );
        write(root, "labs/first-lab/intro.md", "# Hello\n");
        write(root, "labs/first-lab/setup.sh", "mkdir -p /tmp/x");
        write(root, "labs/first-lab/step1/text.md", "Run `touch ~/a`\n");
        write(root, "labs/first-lab/step1/verify.sh", "test -f ~/a\n");
        write(root, "labs/first-lab/step1/solve.sh", "touch ~/a\n");
        write(root, "labs/first-lab/step1/setup.sh", "rm -f ~/a\n");
        write(root, "labs/first-lab/step2/text.md", "Check.");
        write(root, "labs/first-lab/step2/verify.sh", "test -s ~/a\n");
        write(root, "labs/first-lab/step2/solve.sh", "echo x > ~/a\n");
        write(root, "labs/first-lab/step2/background.sh", "true\n");
        write(root, "labs/first-lab/finish.md", "Well done.\n");
        write(
            root,
            "labs/first-lab/lab.json",
            r#"{"difficulty": "Beginner", "duration": "10 minutes", "provider": "local-sandbox",
                "category": "linux", "technology": ["bash"], "environment_template": "shell",
                "resource_requirements": {"cpu": 1, "memory": 2, "storage": 10}, "is_free": true,
                "estimated_cost": "0.0150", "max_concurrent_users": 20}"#,
        );
    }

    fn tree_of(root: &Path) -> CourseTree {
        match read_dir(root) {
            Ok(p) => to_tree(&p),
            Err(problems) => panic!("{:#?}", problems.0),
        }
    }

    fn files_of(tree: &CourseTree) -> BTreeMap<String, String> {
        write_tree(tree)
            .into_iter()
            .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
            .collect()
    }

    #[test]
    #[allow(clippy::too_many_lines, reason = "the files, written out")]
    fn a_package_round_trips_through_its_tree() {
        let a = tempfile::tempdir().unwrap();
        full_package(a.path());
        let tree = tree_of(a.path());

        // The tree as the brief decides it.
        let [first, second] = &tree.modules[..] else {
            panic!("{tree:?}")
        };
        assert_eq!(first.slug, "getting-started");
        assert_eq!(second.module.sort_order, Some(1));
        assert!(second.module.is_published);
        let slugs: Vec<&str> = first.lessons.iter().map(|l| l.slug.as_str()).collect();
        assert_eq!(
            slugs,
            [
                "welcome",
                "tour",
                "uploaded",
                "check",
                "homework",
                "first-lab"
            ]
        );
        assert!(
            first
                .lessons
                .iter()
                .enumerate()
                .all(|(i, l)| l.lesson.is_published
                    && l.lesson.sort_order == Some(i32::try_from(i).unwrap()))
        );
        assert_eq!(
            first.lessons[2].lesson.content_url.as_deref(),
            Some("/media/videos/ab12.webm")
        );
        assert_eq!(first.lessons[3].assessment.as_deref(), Some("check"));
        assert_eq!(
            first.lessons[5].lesson.content_url.as_deref(),
            Some("/labs/first-lab")
        );
        assert!(
            tree.assessments
                .iter()
                .flat_map(|a| &a.questions)
                .all(|q| q.sort_order.is_none())
        );
        let lab = &tree.labs[0];
        assert_eq!(lab.category.as_deref(), Some("linux"));
        assert_eq!(lab.lab.instructions.as_deref(), Some("# Hello\n"));
        assert_eq!(lab.steps.steps.len(), 2);
        assert_eq!(
            lab.steps.steps[0].setup.as_deref(),
            Some("mkdir -p /tmp/x\nrm -f ~/a\n"),
            "the intro's background runs before the first step's"
        );

        // Written into an empty folder and read back: the same tree.
        let b = tempfile::tempdir().unwrap();
        write_dir(&tree, b.path()).unwrap();
        let again = tree_of(b.path());
        assert_eq!(again, tree);
        // And written again: the same bytes.
        assert_eq!(write_tree(&again), write_tree(&tree));

        let files = files_of(&tree);
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "01-getting-started/01-welcome.md",
                "01-getting-started/02-tour.md",
                "01-getting-started/03-uploaded.md",
                "01-getting-started/04-check.md",
                "01-getting-started/05-homework.md",
                "01-getting-started/06-first-lab.md",
                "01-getting-started/module.json",
                "02-files/01-paths.md",
                "02-files/02-reading.md",
                "02-files/module.json",
                "assessments/check.json",
                "assessments/homework.json",
                "course.json",
                "labs/first-lab/finish.md",
                "labs/first-lab/index.json",
                "labs/first-lab/intro.md",
                "labs/first-lab/lab.json",
                "labs/first-lab/step1/background.sh",
                "labs/first-lab/step1/solve.sh",
                "labs/first-lab/step1/text.md",
                "labs/first-lab/step1/verify.sh",
                "labs/first-lab/step2/background.sh",
                "labs/first-lab/step2/solve.sh",
                "labs/first-lab/step2/text.md",
                "labs/first-lab/step2/verify.sh",
            ]
        );
        assert_eq!(
            files["course.json"],
            r#"{
  "format": 1,
  "slug": "intro-to-shell",
  "service": "development",
  "title": "Introduction to the shell",
  "description": "Move around, make files, and script the boring parts.",
  "duration": "2 hours",
  "level": "Beginner",
  "price": "49.00",
  "language": "en",
  "objectives": [
    "Navigate",
    "Script"
  ],
  "start_date": "2026-01-05T09:00:00Z",
  "tags": [
    "bash",
    "linux"
  ],
  "prerequisites": [
    "computer-basics"
  ]
}
"#
        );
        assert_eq!(
            files["01-getting-started/01-welcome.md"],
            "---\ntitle: Welcome\ntype: text\ndescription: Where we start: here\n\
             duration_minutes: 5\n---\n\n# Welcome\n\nSome *markdown*.\n"
        );
        assert_eq!(
            files["01-getting-started/03-uploaded.md"],
            "---\ntitle: Uploaded\ntype: video\nduration_minutes: 0\n\
             video: /media/videos/ab12.webm\n---\n"
        );
        assert_eq!(
            files["01-getting-started/06-first-lab.md"],
            "---\ntitle: First lab\ntype: lab\nduration_minutes: 10\nlab: first-lab\n---\n"
        );
        assert_eq!(
            files["02-files/02-reading.md"],
            "---\ntitle: Reading\ntype: assignment\ndescription: \"\"\n---\n\nRead chapter 2.\n"
        );
        assert_eq!(
            files["02-files/module.json"],
            "{\n  \"title\": \"Files\"\n}\n"
        );
        assert_eq!(
            files["assessments/homework.json"],
            r##"{
  "title": "Homework",
  "kind": "assignment",
  "max_attempts": 3,
  "questions": [
    {
      "question_text": "Write a script.",
      "question_type": "code",
      "options": {
        "language": "bash",
        "starter_code": "#!/bin/sh\n"
      },
      "points": 10
    }
  ]
}
"##
        );
        let check = &files["assessments/check.json"];
        assert!(check.contains("\"max_attempts\": null"), "{check}");
        assert!(!check.contains("sort_order"), "{check}");
        assert_eq!(
            files["labs/first-lab/lab.json"],
            r#"{
  "difficulty": "Beginner",
  "duration": "10 minutes",
  "provider": "local-sandbox",
  "category": "linux",
  "technology": [
    "bash"
  ],
  "environment_template": "shell",
  "resource_requirements": {
    "cpu": 1,
    "memory": 2,
    "storage": 10
  },
  "max_concurrent_users": 20,
  "estimated_cost": "0.0150",
  "is_free": true
}
"#
        );
        let index = &files["labs/first-lab/index.json"];
        assert!(
            index.starts_with("{\n  \"title\": \"First lab\",\n  \"description\": \"Create files.\",\n  \"details\": {\n    \"intro\": {\n      \"text\": \"intro.md\"\n    },"),
            "{index}"
        );
    }

    #[test]
    fn the_skeleton_and_odd_shapes_round_trip() {
        let a = tempfile::tempdir().unwrap();
        let root = a.path().join("my-course");
        crate::course::write_skeleton(&root).unwrap();
        let check = |root: &Path| {
            let tree = tree_of(root);
            let b = tempfile::tempdir().unwrap();
            write_dir(&tree, b.path()).unwrap();
            let again = tree_of(b.path());
            assert_eq!(again, tree);
            assert_eq!(write_tree(&again), write_tree(&tree));
        };
        check(&root);
        // A lab with no intro, no finish, a step without text and one without scripts; an
        // intro setup; free price; a question with every option left out; CRLF lessons.
        write(
            &root,
            "labs/first-lab/index.json",
            r#"{"title": "T", "description": "",
                "details": {"intro": {"background": "setup.sh"},
                  "steps": [{"title": "One", "verify": "v.sh"}, {"title": "Two", "text": "t.md"}]}}"#,
        );
        write(&root, "labs/first-lab/setup.sh", "echo setup");
        write(&root, "labs/first-lab/v.sh", "true");
        write(&root, "labs/first-lab/t.md", "  spaced  \n\n");
        write(
            &root,
            "01-getting-started/01-welcome.md",
            "---\r\ntitle:  Welcome \r\ntype: text\r\n---\r\n\r\nLine one\r\nLine two\r\n",
        );
        check(&root);
        let tree = tree_of(&root);
        assert_eq!(tree.labs[0].lab.instructions, None);
        assert_eq!(
            tree.labs[0].steps.steps[0].setup.as_deref(),
            Some("echo setup")
        );
    }

    #[test]
    fn header_values_keep_their_quotes_and_spaces() {
        for value in [
            "plain",
            "\"quoted\"",
            " padded ",
            "",
            "\"",
            "a: b",
            "# not a comment",
        ] {
            let text = format!("---\ntitle: {}\n---\n", header_value(value));
            let line = text.lines().nth(1).unwrap();
            let read = line.split_once(':').unwrap().1.trim();
            let read = read
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(read);
            assert_eq!(read, value, "{text:?}");
        }
    }

    /// Positions as a tree read from files has them, after lessons were taken out.
    fn renumber(tree: &mut CourseTree) {
        for (i, m) in tree.modules.iter_mut().enumerate() {
            m.module.sort_order = Some(position(i));
            for (j, l) in m.lessons.iter_mut().enumerate() {
                l.lesson.sort_order = Some(position(j));
            }
        }
    }

    #[test]
    fn write_dir_removes_what_the_tree_no_longer_has_and_keeps_dot_files() {
        let a = tempfile::tempdir().unwrap();
        full_package(a.path());
        let mut tree = tree_of(a.path());
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_dir(&tree, root).unwrap();
        write(root, ".skilltrack/state.json", "{\"revision\": \"r1\"}");
        write(root, ".git/HEAD", "ref: refs/heads/main\n");
        write(root, "README.md", "# My course\n");
        write(root, "media/intro.webm", "video");
        write(root, "01-getting-started/diagram.png", "png");
        write(root, "labs/first-lab/step2/.keep", "");

        // A lesson, the second module, an assessment and the lab's second step go.
        tree.modules[0].lessons.remove(1);
        tree.modules.remove(1);
        tree.assessments.retain(|a| a.slug == "check");
        tree.modules[0].lessons.retain(|l| l.slug != "homework");
        tree.labs[0].steps.steps.truncate(1);
        tree.labs[0].steps.finish = None;
        renumber(&mut tree);
        write_dir(&tree, root).unwrap();

        assert!(!root.join("01-getting-started/02-tour.md").exists());
        assert!(root.join("01-getting-started/02-uploaded.md").is_file());
        assert!(!root.join("01-getting-started/03-uploaded.md").exists());
        assert!(!root.join("02-files").exists());
        assert!(!root.join("assessments/homework.json").exists());
        assert!(!root.join("labs/first-lab/finish.md").exists());
        assert!(!root.join("labs/first-lab/step2/text.md").exists());
        assert!(!root.join("labs/first-lab/step1/setup.sh").exists());
        for kept in [
            ".skilltrack/state.json",
            ".git/HEAD",
            "README.md",
            "media/intro.webm",
            "01-getting-started/diagram.png",
            "labs/first-lab/step2/.keep",
        ] {
            assert!(root.join(kept).is_file(), "{kept} was removed");
        }
        assert_eq!(tree_of(root), tree);

        // A whole lab goes too, and an unchanged file is not rewritten.
        let before = std::fs::metadata(root.join("course.json"))
            .unwrap()
            .modified()
            .unwrap();
        tree.labs.clear();
        tree.modules[0].lessons.retain(|l| l.slug != "first-lab");
        renumber(&mut tree);
        write_dir(&tree, root).unwrap();
        assert!(root.join("labs/first-lab/step2/.keep").is_file());
        assert!(!root.join("labs/first-lab/index.json").exists());
        let after = std::fs::metadata(root.join("course.json"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after);
        assert_eq!(tree_of(root), tree);
    }

    #[test]
    fn a_module_that_moves_takes_its_pictures_along() {
        let a = tempfile::tempdir().unwrap();
        full_package(a.path());
        let mut tree = tree_of(a.path());
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_dir(&tree, root).unwrap();
        write(root, "02-files/diagram.png", "png");
        write(root, "02-files/.notes", "mine");
        tree.modules.remove(0);
        renumber(&mut tree);
        write_dir(&tree, root).unwrap();
        assert!(root.join("01-files/diagram.png").is_file());
        assert!(root.join("01-files/01-paths.md").is_file());
        assert!(!root.join("01-getting-started/module.json").exists());
        assert!(!root.join("02-files/01-paths.md").exists());
        assert!(root.join("02-files/.notes").is_file(), "dot-files stay");
        assert_eq!(tree_of(root), tree);
    }

    #[test]
    fn write_dir_refuses_a_name_that_is_not_a_slug() {
        let a = tempfile::tempdir().unwrap();
        full_package(a.path());
        let mut tree = tree_of(a.path());
        tree.modules[0].lessons[0].slug = "../../escape".to_owned();
        let dir = tempfile::tempdir().unwrap();
        let err = write_dir(&tree, dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[test]
    fn package_videos_are_listed_and_take_their_uploaded_url() {
        let a = tempfile::tempdir().unwrap();
        full_package(a.path());
        write(a.path(), "media/intro.webm", "not really a video");
        write(
            a.path(),
            "02-files/03-intro.md",
            "---\ntitle: Intro\ntype: video\nvideo: media/intro.webm\n---\n",
        );
        let package = read_dir(a.path()).unwrap();
        assert_eq!(
            media_files(&package),
            [MediaFile {
                lesson: "files/intro".to_owned(),
                path: "media/intro.webm".to_owned(),
            }]
        );
        assert_eq!(
            to_tree(&package).modules[1].lessons[2].lesson.content_url,
            None
        );
        let urls = HashMap::from([(
            "media/intro.webm".to_owned(),
            "/media/0f/0f3a.webm".to_owned(),
        )]);
        let tree = to_tree_with_media(&package, &urls);
        assert_eq!(
            tree.modules[1].lessons[2].lesson.content_url.as_deref(),
            Some("/media/0f/0f3a.webm")
        );
        let b = tempfile::tempdir().unwrap();
        write_dir(&tree, b.path()).unwrap();
        assert_eq!(tree_of(b.path()), tree);
    }

    #[test]
    fn posters_and_captions_are_uploaded_with_the_video_and_pulled_back_as_urls() {
        let a = tempfile::tempdir().unwrap();
        full_package(a.path());
        write(a.path(), "media/intro.webm", "not really a video");
        write(a.path(), "media/intro.png", "a picture");
        write(a.path(), "media/intro.fr.vtt", "WEBVTT\n");
        write(a.path(), "media/intro.en.vtt", "WEBVTT\n");
        write(
            a.path(),
            "02-files/03-intro.md",
            "---\ntitle: Intro\ntype: video\nvideo: media/intro.webm\nposter: media/intro.png\n\
             captions.fr: media/intro.fr.vtt\ncaptions.en: media/intro.en.vtt\n\
             captions.de: https://cdn.example/intro.de.vtt\n---\n",
        );
        let package = read_dir(a.path()).unwrap();
        let paths: Vec<String> = media_files(&package).into_iter().map(|m| m.path).collect();
        assert_eq!(
            paths,
            [
                "media/intro.webm",
                "media/intro.png",
                "media/intro.en.vtt",
                "media/intro.fr.vtt"
            ]
        );
        let urls: HashMap<String, String> = paths
            .iter()
            .map(|p| (p.clone(), format!("/media/uploads/{}", p.replace('/', "-"))))
            .collect();
        let tree = to_tree_with_media(&package, &urls);
        let lesson = &tree.modules[1].lessons[2].lesson;
        assert_eq!(
            lesson.poster_url.as_deref(),
            Some("/media/uploads/media-intro.png")
        );
        let captions: Vec<(&str, &str)> = lesson
            .captions
            .iter()
            .map(|c| (c.language.as_str(), c.url.as_str()))
            .collect();
        assert_eq!(
            captions,
            [
                ("de", "https://cdn.example/intro.de.vtt"),
                ("en", "/media/uploads/media-intro.en.vtt"),
                ("fr", "/media/uploads/media-intro.fr.vtt"),
            ],
            "in the order of their languages, however each was given"
        );
        // A pull writes them as URLs, one line each, and reads back as the same tree.
        let b = tempfile::tempdir().unwrap();
        write_dir(&tree, b.path()).unwrap();
        let text = std::fs::read_to_string(b.path().join("02-files/03-intro.md")).unwrap();
        assert!(
            text.contains(
                "poster: /media/uploads/media-intro.png\n\
                 captions.de: https://cdn.example/intro.de.vtt\n\
                 captions.en: /media/uploads/media-intro.en.vtt\n\
                 captions.fr: /media/uploads/media-intro.fr.vtt\n"
            ),
            "{text}"
        );
        assert_eq!(tree_of(b.path()), tree);
    }

    #[test]
    fn more_than_99_get_three_digits() {
        assert_eq!(prefixed(0, 9, "a"), "01-a");
        assert_eq!(prefixed(98, 99, "a"), "99-a");
        assert_eq!(prefixed(0, 100, "a"), "001-a");
        assert_eq!(prefixed(99, 100, "a"), "100-a");
    }
}
