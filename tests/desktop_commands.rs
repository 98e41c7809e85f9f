//! Every command the desktop app registers is callable from its window: listed in the app
//! manifest (`src-tauri/build.rs`) and allowed by the main window's capability. A command
//! registered but missing from either is refused at run time ("not allowed. Command not
//! found"), which only an end-to-end test of that very button would notice.

use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path))
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The names inside `generate_handler![…]` in the app's `lib.rs`.
fn registered() -> BTreeSet<String> {
    let lib = read("src-tauri/src/lib.rs");
    let start = lib
        .find("generate_handler![")
        .expect("the app registers its commands");
    let end = start + lib[start..].find(']').expect("the list ends");
    lib[start + "generate_handler![".len()..end]
        .split(',')
        .map(|path| {
            path.trim()
                .rsplit("::")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[test]
fn every_registered_command_is_in_the_manifest_and_allowed_in_the_window() {
    let commands = registered();
    assert!(commands.len() > 40, "{commands:?}");
    let build = read("src-tauri/build.rs");
    let start = build
        .find("const COMMANDS")
        .expect("build.rs lists COMMANDS");
    let end = start + build[start..].find("];").expect("the list ends");
    let listed: BTreeSet<String> = build[start..end]
        .lines()
        .filter_map(|line| line.trim().strip_prefix('"'))
        .filter_map(|line| line.split('"').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(
        commands.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "registered in lib.rs but not in build.rs's COMMANDS"
    );
    assert_eq!(
        listed.difference(&commands).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in build.rs's COMMANDS but not registered"
    );
    let capability: serde_json::Value =
        serde_json::from_str(&read("src-tauri/capabilities/main-window.json")).unwrap();
    let allowed: BTreeSet<&str> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    let missing: Vec<String> = commands
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .filter(|p| !allowed.contains(p.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the main window's capability does not allow: {missing:?}"
    );
}
