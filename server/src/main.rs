//! `skilltrack-server`: reads the command line (and the configuration file it names), sets up
//! logging, runs.

use std::io::IsTerminal as _;

use skilltrack_server::config::{Cli, LogFormat};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (cli, file) = match Cli::load() {
        Ok(loaded) => loaded,
        // The operator's mistake, not the program's: said plainly (no backtrace), and the exit
        // status of a bad command line.
        Err(e) => {
            eprintln!("skilltrack-server: {e}");
            std::process::exit(2);
        }
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match cli.global.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    if let Some(file) = &file {
        skilltrack_server::config::file::log_read(file);
    }
    skilltrack_server::run(cli).await?;
    Ok(())
}
