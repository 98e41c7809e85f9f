//! Issue 20, operators: the optional TOML configuration file. The real binary, started with a
//! file, uses its values; the environment and flags override them; a bad file is refused
//! before anything starts, naming the file, line and column; and `deploy/skilltrack.toml`
//! lists every setting and is accepted as it is documented.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use skilltrack_tests::process::{data_dir, server_command};
use skilltrack_tests::{ServerProcess, server_binary};

const SECRET: &str = "file-held-secret-0123456789-0123456789";

async fn issuer_name(server: &ServerProcess) -> String {
    let issuer: serde_json::Value =
        reqwest::get(format!("{}/api/v1/certificates/issuer", server.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    issuer["name"].as_str().unwrap_or_default().to_owned()
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn a_configuration_file_sets_the_server_below_environment_and_flags() {
    let dir = data_dir();
    let file = dir.path().join("skilltrack.toml");
    let file_arg = file.to_str().unwrap();
    // `listen` names a port the flag (`--listen 127.0.0.1:0`, which ServerProcess passes)
    // overrides: the server answering at all proves the flag won.
    write(
        &file,
        &format!(
            "# a site's settings\ninstance_name = \"File Academy\"\nlisten = \"127.0.0.1:1\"\n\
             jwt_secret = \"{SECRET}\"\ntrusted_proxies = [\"127.0.0.1\"]\n"
        ),
        0o644,
    );

    let mut server = ServerProcess::start_with(dir.path(), &["--config", file_arg], &[]);
    assert_eq!(issuer_name(&server).await, "File Academy");
    let log = server.startup_log.join("\n");
    assert!(
        log.contains("settings read from the configuration file"),
        "{log}"
    );
    assert!(log.contains("instance_name"), "{log}");
    // Secrets are used, never logged; a secret in a file others may read is warned about.
    assert!(!log.contains(SECRET), "the secret was logged:\n{log}");
    assert!(log.contains("chmod 600"), "{log}");
    assert!(server.terminate().success());

    // The environment wins over the file (the file named by the environment this time).
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut server = ServerProcess::start_with(
        dir.path(),
        &[],
        &[
            ("SKILLTRACK_CONFIG", file_arg),
            ("SKILLTRACK_INSTANCE_NAME", "Environment Academy"),
        ],
    );
    assert_eq!(issuer_name(&server).await, "Environment Academy");
    assert!(!server.startup_log.join("\n").contains("chmod 600"));
    assert!(server.terminate().success());

    // A flag wins over both (`serve`'s flags follow `serve`).
    let mut cmd = server_command(
        dir.path(),
        &[
            "--config",
            file_arg,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--instance-name",
            "Flag Academy",
        ],
    );
    cmd.env("SKILLTRACK_INSTANCE_NAME", "Environment Academy");
    let mut server = ServerProcess::start_command(cmd);
    assert_eq!(issuer_name(&server).await, "Flag Academy");
    assert!(server.terminate().success());
}

#[test]
fn a_bad_configuration_file_is_refused_at_start_naming_file_and_line() {
    let dir = data_dir();
    let file = dir.path().join("site.toml");
    let name = file.display().to_string();
    let refused = |text: &str| {
        write(&file, text, 0o600);
        let out = server_command(dir.path(), &["--config", &name, "serve"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    let said = refused("instance_name = \"A\"\n\ninstanse_name = \"B\"\n");
    assert!(
        said.contains(&format!("{name}:3:1: unknown key `instanse_name`")),
        "{said}"
    );
    let said = refused("listen = \"nowhere\"\n");
    assert!(
        said.contains(&format!("{name}:1:10: `listen`: invalid value 'nowhere'")),
        "{said}"
    );
    let said = refused("instance-name = \"A\"\n");
    assert!(said.contains("snake_case (`instance_name`)"), "{said}");
    let said = refused("database_url = 5\njwt_secret = [\"a\"]\n");
    assert!(
        said.contains(&format!("{name}:2:14: `jwt_secret`")),
        "{said}"
    );
    let said = refused("instance_name = \"unclosed\n");
    assert!(said.contains(&format!("{name}:1:")), "{said}");
    // Refused before anything started: no cluster was made.
    assert!(!dir.path().join("postgres").exists());

    // A file that is not there is an error too, not silently nothing.
    let out = server_command(
        dir.path(),
        &["--config", "/nonexistent/skilltrack.toml", "serve"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cannot read the configuration file /nonexistent/skilltrack.toml"),
        "{said}"
    );
}

/// The long flags `--help` lists for a command, as configuration keys.
fn keys_in_help(args: &[&str]) -> Vec<String> {
    let out = Command::new(server_binary()).args(args).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut keys: Vec<String> = help
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .filter_map(|l| l.split([' ', '=', '<']).next())
        // A flag's own line, not a description that wraps onto one starting with `--`.
        .filter(|flag| flag.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .filter(|flag| !["help", "version", "config"].contains(flag))
        .map(|flag| flag.replace('-', "_"))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn the_example_configuration_lists_every_setting_and_is_accepted() {
    let example_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/skilltrack.toml");
    let example = std::fs::read_to_string(&example_path).unwrap();
    // Every `# key = value` line, uncommented.
    let settings: Vec<&str> = example
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.split_once(" = ").is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            })
        })
        .collect();
    let mut documented: Vec<String> = settings
        .iter()
        .map(|l| l.split(" = ").next().unwrap().to_owned())
        .collect();
    documented.sort();
    let mut flags = keys_in_help(&["--help"]);
    flags.extend(keys_in_help(&["serve", "--help"]));
    flags.sort();
    flags.dedup();
    assert_eq!(
        documented, flags,
        "deploy/skilltrack.toml and the flags of --help differ"
    );

    let dir = data_dir();
    let file = dir.path().join("all.toml");
    write(&file, &settings.join("\n"), 0o600);
    // `openapi` needs no database: the file is read and checked, then the command runs.
    let out = Command::new(server_binary())
        .args(["--config", file.to_str().unwrap(), "openapi"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the example, uncommented, is refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
