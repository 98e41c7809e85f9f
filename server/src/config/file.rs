//! The optional TOML configuration file (`--config FILE` or `SKILLTRACK_CONFIG`).
//!
//! Its keys are the long flags in `snake_case` (`instance_name` for `--instance-name`), at the top
//! level, with no sections. A flag or an environment variable overrides the file, and the file
//! overrides the built-in defaults: the file's values become the flags' defaults before the
//! command line is parsed, so clap's own order (command line, environment, default) gives that
//! precedence, and `--help` shows the file's values as the defaults (secrets hidden).
//!
//! Every key and value is checked before anything starts, by the flag's own parser, and a bad
//! one is refused naming the file, line and column. Values are never logged: only which keys
//! the file set.

use std::ffi::OsString;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command};

/// The flag that names the file, and its environment variable.
pub const FLAG: &str = "--config";
/// The environment variable that names the file.
pub const ENV: &str = "SKILLTRACK_CONFIG";

/// The subcommand whose flags the file may set besides the global ones.
const SERVE: &str = "serve";

/// Why the configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A syntax error, an unknown key or a bad value, at a place in the file.
    #[error("{}:{line}:{column}: {message}", path.display())]
    At {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong there.
        message: String,
    },
}

/// What the file set: its path and its keys (never the values, which may be secrets).
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigFile {
    /// The file.
    pub path: PathBuf,
    /// The keys it set, in file order.
    pub keys: Vec<String>,
    /// Of those, the ones holding secrets (`jwt_secret`, `database_url`, …).
    pub secret_keys: Vec<String>,
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// The file the command line (`--config FILE`, `--config=FILE`) or else the environment names;
/// an empty name is none. The command line is read before clap parses it, because the file
/// changes how clap parses it; the caller checks clap read the same name.
pub fn named_in(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else { continue };
        if text == "--" {
            break;
        }
        if text == FLAG {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os(ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `command` with the file's values as its flags' defaults, and what the file set.
pub fn apply(command: Command, path: &Path) -> Result<(Command, ConfigFile), ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    apply_text(command, path, &text)
}

/// [`apply`] over the file's text.
pub fn apply_text(
    mut command: Command,
    path: &Path,
    text: &str,
) -> Result<(Command, ConfigFile), ConfigFileError> {
    let at = |span: Range<usize>, message: String| {
        let (line, column) = line_and_column(text, span.start);
        ConfigFileError::At {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    };
    let table = toml::de::DeTable::parse(text).map_err(|e| {
        at(
            e.span().unwrap_or(0..0),
            e.message().trim_end().replace('\n', " "),
        )
    })?;
    let mut entries: Vec<_> = table.get_ref().iter().collect();
    // The table is sorted by key; errors and the log read best in file order.
    entries.sort_by_key(|(key, _)| key.span().start);
    let mut file = ConfigFile {
        path: path.to_owned(),
        keys: Vec::new(),
        secret_keys: Vec::new(),
    };
    for (key, value) in entries {
        let name = key.get_ref().as_ref();
        let (arg, in_serve) = find(&command, name).ok_or_else(|| at(key.span(), unknown(name)))?;
        let values = values_of(&arg, name, value.get_ref()).map_err(|m| at(value.span(), m))?;
        check(&arg, name, &values).map_err(|m| at(value.span(), m))?;
        let secret = arg.is_hide_env_values_set();
        let default = move |a: Arg| a.default_values(values.clone()).hide_default_value(secret);
        command = if in_serve {
            command.mut_subcommand(SERVE, |s| s.mut_arg(name, default.clone()))
        } else {
            command.mut_arg(name, default.clone())
        };
        // The lab images' owner is the serve flag's user too: one setting, not two.
        if name == "lab_sandbox_user" {
            command = command.mut_subcommand("lab-images", |images| {
                images
                    .mut_subcommand("import", |s| s.mut_arg("sandbox_user", default.clone()))
                    .mut_subcommand("build", |s| s.mut_arg("sandbox_user", default.clone()))
            });
        }
        file.keys.push(name.to_owned());
        if secret {
            file.secret_keys.push(name.to_owned());
        }
    }
    Ok((command, file))
}

/// Says which file was read and which keys it set (never their values); warns when it holds a
/// secret and other users may read it.
pub fn log_read(file: &ConfigFile) {
    use std::os::unix::fs::PermissionsExt as _;
    tracing::info!(file = %file.path.display(), keys = ?file.keys, "settings read from the configuration file");
    let shared = std::fs::metadata(&file.path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0);
    if shared && !file.secret_keys.is_empty() {
        tracing::warn!(
            file = %file.path.display(),
            secrets = ?file.secret_keys,
            "the configuration file holds secrets and other users may read it: `chmod 600` it (or `640` with the server's group)"
        );
    }
}

/// The flag a key names: a global one, or one of `serve`'s (with `true`). The file's own flag,
/// `--help`, `--version` and hidden flags (test-only fault injection) are not keys.
fn find(command: &Command, key: &str) -> Option<(Arg, bool)> {
    let is_key = |a: &&Arg| {
        a.get_id() == key
            && a.get_long().is_some()
            && !a.is_hide_set()
            && !matches!(a.get_action(), ArgAction::Help | ArgAction::Version)
            && key != "config"
    };
    if let Some(arg) = command.get_arguments().find(is_key) {
        return Some((arg.clone(), false));
    }
    command
        .find_subcommand(SERVE)?
        .get_arguments()
        .find(is_key)
        .map(|a| (a.clone(), true))
}

fn unknown(key: &str) -> String {
    let snake = key.replace('-', "_");
    if key == "config" {
        "`config`: a configuration file cannot name another".to_owned()
    } else if snake != key {
        format!("unknown key `{key}`: keys are written in snake_case (`{snake}`)")
    } else {
        format!(
            "unknown key `{key}`: the keys are the long flags of `skilltrack-server --help` and \
             `skilltrack-server serve --help`, in snake_case, with no sections"
        )
    }
}

/// A TOML value as the flag's arguments: a list only where the flag takes several values (a
/// string there may list them with the flag's delimiter, as the environment variable does).
fn values_of(arg: &Arg, key: &str, value: &toml::de::DeValue<'_>) -> Result<Vec<String>, String> {
    use toml::de::DeValue;
    let many = matches!(arg.get_action(), ArgAction::Append);
    let scalar = |value: &DeValue<'_>| -> Result<String, String> {
        match value {
            DeValue::String(s) => Ok(s.to_string()),
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
                .map(|n| n.to_string())
                .map_err(|_| format!("`{key}`: the number is too large")),
            DeValue::Float(f) => Ok(f.as_str().to_owned()),
            DeValue::Boolean(b) => Ok(b.to_string()),
            DeValue::Datetime(_) => Err(format!("`{key}`: a date is not a valid value here")),
            DeValue::Array(_) | DeValue::Table(_) => Err(format!(
                "`{key}`: one value is expected, not a list or table"
            )),
        }
    };
    match value {
        DeValue::Array(items) if many => items.iter().map(|i| scalar(i.get_ref())).collect(),
        DeValue::String(s) if many => Ok(match arg.get_value_delimiter() {
            Some(d) => s.split(d).map(str::to_owned).collect(),
            None => vec![s.to_string()],
        }),
        DeValue::Table(_) => Err(format!(
            "`{key}` is a section; the file has no sections, every key is at the top level"
        )),
        other => scalar(other).map(|v| vec![v]),
    }
}

/// Runs the flag's own parser over the values, so the file accepts exactly what the flag does.
fn check(arg: &Arg, key: &str, values: &[String]) -> Result<(), String> {
    let long = arg.get_long().unwrap_or(key);
    let mut probe = Command::new("config")
        .no_binary_name(true)
        .color(clap::ColorChoice::Never)
        .disable_help_flag(true)
        .arg(
            arg.clone()
                .env(None)
                .default_values(Vec::<String>::new())
                .required(false),
        );
    probe.build();
    let args = values.iter().map(|v| format!("--{long}={v}"));
    match probe.try_get_matches_from_mut(args) {
        Ok(_) => Ok(()),
        // A secret's value is never repeated, not even to the operator's terminal.
        Err(_) if arg.is_hide_env_values_set() => Err(format!("`{key}`: not a valid value")),
        Err(e) => Err(format!("`{key}`: {}", clap_reason(&e))),
    }
}

/// clap's complaint without its prefix, usage and advice: "invalid value 'x' for '--listen
/// <LISTEN>': invalid socket address syntax".
fn clap_reason(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let text = text.split("\n\n").next().unwrap_or_default();
    let text = text.strip_prefix("error: ").unwrap_or(text);
    text.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    fn apply(text: &str) -> Result<(Command, ConfigFile), ConfigFileError> {
        apply_text(crate::config::Cli::command(), Path::new("site.toml"), text)
    }

    fn refusal(text: &str) -> String {
        apply(text).map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_file_line_and_column() {
        let said = refusal("instance_name = \"A\"\n\n  instance_nam = \"B\"\n");
        assert!(
            said.starts_with("site.toml:3:3: unknown key `instance_nam`"),
            "{said}"
        );
        let said = refusal("instance-name = \"A\"\n");
        assert!(said.contains("snake_case (`instance_name`)"), "{said}");
        let said = refusal("listen = \"nowhere\"\n");
        assert!(
            said.starts_with("site.toml:1:10: `listen`: invalid value"),
            "{said}"
        );
        let said = refusal("log_format = \"xml\"\n");
        assert!(said.contains("possible values: text, json"), "{said}");
        let said = refusal("lab_process_cap = -1\n");
        assert!(
            said.starts_with("site.toml:1:19: `lab_process_cap`"),
            "{said}"
        );
        let said = refusal("[serve]\nlisten = \"127.0.0.1:1\"\n");
        assert!(said.contains("no sections"), "{said}");
        let said = refusal("listen = \n");
        assert!(said.starts_with("site.toml:1:"), "{said}");
        assert!(refusal("lab_fault = \"hang-file-operations\"\n").contains("unknown key"));
        assert!(refusal("config = \"other.toml\"\n").contains("cannot name another"));
    }

    #[test]
    fn secrets_are_never_repeated() {
        let (_, file) = apply("jwt_secret = \"hunter2-hunter2-hunter2-hunter2-x\"\n").unwrap();
        assert_eq!(file.secret_keys, ["jwt_secret"]);
        assert!(!format!("{file:?}").contains("hunter2"));
    }

    #[test]
    fn the_file_is_below_flags_and_environment() {
        use clap::FromArgMatches as _;
        let text = "instance_name = \"From the file\"\ntrusted_proxies = [\"10.0.0.0/8\", \
                    \"127.0.0.1\"]\ndata_dir = \"/srv/skilltrack\"\n";
        let (command, _) = apply(text).unwrap();
        let parse = |args: &[&str]| {
            let m = command.clone().try_get_matches_from(args).unwrap();
            crate::config::Cli::from_arg_matches(&m).unwrap()
        };
        let cli = parse(&["skilltrack-server", "serve"]);
        let Some(crate::config::Command::Serve(serve)) = cli.command else {
            panic!()
        };
        assert_eq!(serve.instance_name, "From the file");
        assert_eq!(serve.trusted_proxies.len(), 2);
        assert_eq!(cli.global.data_dir.unwrap(), Path::new("/srv/skilltrack"));
        let cli = parse(&[
            "skilltrack-server",
            "serve",
            "--instance-name",
            "From a flag",
        ]);
        let Some(crate::config::Command::Serve(serve)) = cli.command else {
            panic!()
        };
        assert_eq!(serve.instance_name, "From a flag");
    }

    #[test]
    fn the_file_is_named_by_the_flag_or_else_the_environment() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            named_in(&args(&["s", "--config", "a.toml", "serve"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            named_in(&args(&["s", "serve", "--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
    }
}
