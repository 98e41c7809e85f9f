//! A lab in steps as files, in the layout of a Killercoda scenario:
//!
//! ```text
//! my-lab/
//!   index.json        {"title", "description", "details": {"intro", "steps", "finish"}, "backend"}
//!   intro.md
//!   step1/text.md  step1/verify.sh  step1/setup.sh  step1/solve.sh
//!   finish.md
//! ```
//!
//! `index.json` as Killercoda reads it (`details.intro.text`, `details.steps[].title`, `.text`,
//! `.verify`, `.background`, `details.finish.text`, `backend.imageid`), plus what Killercoda has
//! no field for: a step's `solve` script and `hints`, and a `skilltrack` object naming the lab
//! (`lab`: its slug), its `environment_template` and its `docker_image`. Killercoda's
//! `foreground` scripts (typed into the learner's terminal) are refused: a lab here never types
//! for the learner unasked. The intro's `background` runs before the first step's.
//!
//! Reading does no I/O of its own ([`read`] is given a function that reads a file by its path
//! in the lab), so the same code reads a directory ([`read_dir`]) and files compiled into the
//! server (its demo labs).

use std::path::{Component, Path};

use serde::Deserialize;
use skilltrack_protocol::lab_steps::{LabStepDraft, LabStepsDraft};

/// Why a lab's files cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LabFilesError {
    /// `index.json` is missing or is not the layout's JSON.
    #[error("index.json: {0}")]
    Index(String),
    /// A file `index.json` names cannot be read.
    #[error("{path}: {message}")]
    File {
        /// Its path in the lab.
        path: String,
        /// Why.
        message: String,
    },
    /// A path climbs out of the lab or is absolute.
    #[error("{0}: a path in index.json must stay inside the lab's directory")]
    PathOutside(String),
    /// Something the layout has that labs here refuse.
    #[error("{0}")]
    Unsupported(String),
}

#[derive(Debug, Deserialize)]
struct Index {
    title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    details: Details,
    #[serde(default)]
    backend: Backend,
    #[serde(default)]
    skilltrack: Extension,
}

#[derive(Debug, Default, Deserialize)]
struct Details {
    intro: Option<Page>,
    #[serde(default)]
    steps: Vec<Step>,
    finish: Option<Page>,
}

#[derive(Debug, Deserialize)]
struct Page {
    text: Option<String>,
    background: Option<String>,
    foreground: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Step {
    title: String,
    text: Option<String>,
    verify: Option<String>,
    background: Option<String>,
    /// Ours: the same as `background` (setup is the name authors here know).
    setup: Option<String>,
    foreground: Option<String>,
    solve: Option<String>,
    #[serde(default)]
    hints: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Backend {
    imageid: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Extension {
    lab: Option<String>,
    environment_template: Option<String>,
    docker_image: Option<String>,
}

/// A lab read from its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabFiles {
    /// `index.json`'s title.
    pub title: Option<String>,
    /// `index.json`'s description.
    pub description: Option<String>,
    /// The intro page, markdown.
    pub intro: Option<String>,
    /// The steps and finish page, as the authoring API takes them.
    pub steps: LabStepsDraft,
    /// The lab these files are (its slug), if `skilltrack.lab` names it.
    pub lab: Option<String>,
    /// `skilltrack.environment_template`.
    pub environment_template: Option<String>,
    /// `skilltrack.docker_image`, else Killercoda's `backend.imageid` when it names an image
    /// (Killercoda's own machine names, `ubuntu` or `kubernetes-kubeadm-1node`, are whole
    /// virtual machines: labs here run on the host's tools instead).
    pub docker_image: Option<String>,
}

/// Killercoda's machine names, which are not lab images.
const KILLERCODA_MACHINES: &[&str] = &[
    "ubuntu",
    "ubuntu-4GB",
    "kubernetes-kubeadm-1node",
    "kubernetes-kubeadm-2nodes",
    "kubernetes-kubeadm-1node-4GB",
];

fn inside(path: &str) -> Result<&str, LabFilesError> {
    let p = Path::new(path);
    if path.is_empty()
        || !p
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(LabFilesError::PathOutside(path.to_owned()));
    }
    Ok(path)
}

/// Reads a lab from `index.json`'s text, reading the files it names with `read` (a path
/// relative to the lab's directory).
pub fn read(
    index_json: &str,
    mut read: impl FnMut(&str) -> std::io::Result<String>,
) -> Result<LabFiles, LabFilesError> {
    let index: Index =
        serde_json::from_str(index_json).map_err(|e| LabFilesError::Index(e.to_string()))?;
    let mut file = |path: &Option<String>| -> Result<Option<String>, LabFilesError> {
        path.as_deref()
            .map(|p| {
                let p = inside(p)?;
                read(p).map_err(|e| LabFilesError::File {
                    path: p.to_owned(),
                    message: e.to_string(),
                })
            })
            .transpose()
    };
    let foreground = |page: &str, script: &Option<String>| match script {
        Some(_) => Err(LabFilesError::Unsupported(format!(
            "{page}: `foreground` scripts (typed into the learner's terminal) are not supported; \
             make it a `background` (setup) script, or a runnable code block (```bash exec) in \
             the text"
        ))),
        None => Ok(()),
    };
    let (intro, intro_setup) = match &index.details.intro {
        Some(page) => {
            foreground("the intro", &page.foreground)?;
            (file(&page.text)?, file(&page.background)?)
        }
        None => (None, None),
    };
    let finish = match &index.details.finish {
        Some(page) => {
            foreground("the finish page", &page.foreground)?;
            file(&page.text)?
        }
        None => None,
    };
    let mut steps = Vec::new();
    for (i, step) in index.details.steps.iter().enumerate() {
        foreground(&format!("step {}", i + 1), &step.foreground)?;
        if step.background.is_some() && step.setup.is_some() {
            return Err(LabFilesError::Unsupported(format!(
                "step {}: name its setup script once (`background` or `setup`)",
                i + 1
            )));
        }
        let mut setup = file(&step.background.clone().or_else(|| step.setup.clone()))?;
        if i == 0 {
            setup = match (intro_setup.clone(), setup) {
                (Some(intro), Some(own)) => Some(format!("{intro}\n{own}")),
                (intro, own) => intro.or(own),
            };
        }
        steps.push(LabStepDraft {
            title: step.title.clone(),
            body: file(&step.text)?.unwrap_or_default(),
            hints: step.hints.clone(),
            setup,
            verify: file(&step.verify)?,
            solve: file(&step.solve)?,
        });
    }
    let docker_image = index.skilltrack.docker_image.or_else(|| {
        index
            .backend
            .imageid
            .filter(|id| !KILLERCODA_MACHINES.contains(&id.as_str()))
    });
    Ok(LabFiles {
        title: index.title,
        description: index.description,
        intro,
        steps: LabStepsDraft { steps, finish },
        lab: index.skilltrack.lab,
        environment_template: index.skilltrack.environment_template,
        docker_image,
    })
}

/// Reads the lab in `dir` (its `index.json` and the files it names).
pub fn read_dir(dir: &Path) -> Result<LabFiles, LabFilesError> {
    let index =
        std::fs::read_to_string(dir.join("index.json")).map_err(|e| LabFilesError::File {
            path: dir.join("index.json").display().to_string(),
            message: e.to_string(),
        })?;
    read(&index, |path| std::fs::read_to_string(dir.join(path)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn a_killercoda_scenario_reads_as_steps() {
        let dir = tempfile::tempdir().unwrap();
        let write = |p: &str, s: &str| {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, s).unwrap();
        };
        write(
            "index.json",
            r#"{"title": "Create a file", "description": "In /etc.",
                "details": {"intro": {"text": "intro.md", "background": "setup.sh"},
                  "steps": [{"title": "Make it", "text": "step1/text.md",
                             "verify": "step1/verify.sh", "solve": "step1/solve.sh",
                             "hints": ["Use touch."]},
                            {"title": "Read on", "text": "step2/text.md"}],
                  "finish": {"text": "finish.md"}},
                "backend": {"imageid": "ubuntu"}}"#,
        );
        write("intro.md", "# Hello");
        write("setup.sh", "mkdir -p /tmp/x");
        write("step1/text.md", "Run `touch /etc/lab`");
        write("step1/verify.sh", "test -f /etc/lab");
        write("step1/solve.sh", "touch /etc/lab");
        write("step2/text.md", "Done.");
        write("finish.md", "Well done");
        let lab = read_dir(dir.path()).unwrap();
        assert_eq!(lab.title.as_deref(), Some("Create a file"));
        assert_eq!(lab.intro.as_deref(), Some("# Hello"));
        assert_eq!(lab.docker_image, None, "ubuntu is Killercoda's machine");
        assert_eq!(lab.steps.finish.as_deref(), Some("Well done"));
        let [one, two] = &lab.steps.steps[..] else {
            panic!("{lab:?}")
        };
        assert_eq!(one.setup.as_deref(), Some("mkdir -p /tmp/x"));
        assert_eq!(one.verify.as_deref(), Some("test -f /etc/lab"));
        assert_eq!(one.solve.as_deref(), Some("touch /etc/lab"));
        assert_eq!(one.hints, ["Use touch."]);
        assert_eq!(two.verify, None);
    }

    #[test]
    fn paths_out_of_the_lab_and_foreground_scripts_are_refused() {
        let no_files = |_: &str| -> std::io::Result<String> { Ok(String::new()) };
        let outside = r#"{"details": {"steps": [{"title": "x", "verify": "../../etc/shadow"}]}}"#;
        assert!(matches!(
            read(outside, no_files),
            Err(LabFilesError::PathOutside(_))
        ));
        let absolute = r#"{"details": {"steps": [{"title": "x", "text": "/etc/passwd"}]}}"#;
        assert!(matches!(
            read(absolute, no_files),
            Err(LabFilesError::PathOutside(_))
        ));
        let typed = r#"{"details": {"steps": [{"title": "x", "foreground": "f.sh"}]}}"#;
        assert!(matches!(
            read(typed, no_files),
            Err(LabFilesError::Unsupported(_))
        ));
        assert!(matches!(read("{", no_files), Err(LabFilesError::Index(_))));
    }
}
