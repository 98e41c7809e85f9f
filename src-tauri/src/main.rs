//! The Skilltrack desktop app (Tauri v2). Not built yet: the desktop issue puts the Tauri shell
//! here, as thin command adapters over `skilltrack-client`. Until then this binary says so
//! instead of pretending.

fn main() -> std::process::ExitCode {
    eprintln!(
        "skilltrack-desktop is not built yet (see the desktop-app issue); \
         run the server with scripts/run-demo"
    );
    std::process::ExitCode::from(2)
}
