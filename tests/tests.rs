#![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

//! Skilltrack's end-to-end tests, one binary: the real server against real PostgreSQL.

mod auth_api;
mod http_api;
mod openapi;
mod profile_api;
mod rls_matrix;
mod schema;
mod seed_demo;
mod server_process;
mod session;
mod triggers;
