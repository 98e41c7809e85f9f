//! `skilltrack`: the client engine from a terminal — sign in, sync, study offline, download
//! media — without the desktop app. Handy for trying the engine, scripting and benchmarks.

mod commands;

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    commands::run(commands::Cli::parse()).await
}
