//! `cert-bench`: signed certificates (issue 21). Two figures, each beside what it is part of:
//!
//! 1. **Offline verification** of a certificate credential (a VC-JWT) against a cached key set
//!    and status list, as `skilltrack certificate verify` does, beside its parts: the `EdDSA`
//!    signature check alone and decoding the 16 KiB status list.
//! 2. **Issuing on completion**: the progress write that completes a course, run as the
//!    handler runs it (the learner's RLS transaction), then the signing the handler does after
//!    its commit (`sign_pending_of`); and the whole `PUT …/progress` over HTTP, which does both.
//!
//! Prints Markdown tables for docs/benchmarks.md.
//!
//!     cargo run --release -p skilltrack-bench --bin cert-bench -- --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]

mod stack;
mod stats;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Parser;
use serde_json::{Value, json};
use skilltrack_credentials::{
    Achievement, CertificateFacts, IssuerProfile, JwkSet, SigningKey, StatusEntry, StatusList,
    TrustedIssuer, verify,
};
use skilltrack_server::certificates::{Issuer, KeyRing, sign_pending_of};
use skilltrack_server::db::session::{Access, Caller, begin};
use uuid::Uuid;

use crate::stack::{Stack, StackOptions, call};
use crate::stats::percentile;

/// Measures offline verification and the cost of issuing on course completion.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Offline verifications to time.
    #[arg(long, default_value_t = 2000)]
    verifications: usize,
    /// Learners completing the course (half through the handler's parts, half over HTTP).
    #[arg(long, default_value_t = 60)]
    learners: usize,
    /// Connections in the server's API pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Directory for PostgreSQL's binaries (default: searched).
    #[arg(long)]
    pg_bin_dir: Option<PathBuf>,
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn row(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "| {name} | {} | {} | {} | {} |",
        samples.len(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.95)),
        ms(percentile(&samples, 0.99)),
    );
}

fn header(first: &str) {
    println!("| {first} | n | p50 ms | p95 ms | p99 ms |");
    println!("|---|---|---|---|---|");
}

/// A credential as the server signs one, with a list that has some revocations.
fn offline_setup() -> anyhow::Result<(String, TrustedIssuer)> {
    let key = SigningKey::generate()?;
    let issuer = "https://learn.example.org/api/v1/certificates/issuer";
    let list_url = "https://learn.example.org/api/v1/certificates/status/1";
    let facts = CertificateFacts {
        id: "https://learn.example.org/api/v1/certificates/SKT-2026-7F3K9-QXMA2-0HBV4-TR8CW"
            .to_owned(),
        issuer: IssuerProfile {
            id: issuer.to_owned(),
            name: "Skilltrack".to_owned(),
            url: "https://learn.example.org".to_owned(),
        },
        subject_id: format!("urn:uuid:{}", Uuid::now_v7()),
        learner_name: "Ada Lovelace".to_owned(),
        achievement: Achievement {
            id: "https://learn.example.org/api/v1/courses/docker-fundamentals".to_owned(),
            name: "Docker Fundamentals".to_owned(),
            description: "Images, containers, volumes and networks, hands on. ".repeat(4),
            criteria: "Completed every published lesson of the course and passed its final \
                       exams. Objectives: build images; run containers; compose services."
                .to_owned(),
        },
        valid_from: Utc::now(),
        valid_until: None,
        status: Some(StatusEntry {
            list_url: list_url.to_owned(),
            index: 4242,
        }),
    };
    let jwt = facts.sign(&key)?;
    let mut list = StatusList::new();
    for i in (0..131_072).step_by(97) {
        list.set(i);
    }
    let list_jwt = list.sign(list_url, issuer, Utc::now(), 3600, &key)?;
    // Three keys published, as after two rotations.
    let mut keys = vec![
        SigningKey::generate()?.public_jwk(),
        SigningKey::generate()?.public_jwk(),
    ];
    keys.push(key.public_jwk());
    Ok((
        jwt,
        TrustedIssuer {
            issuer: issuer.to_owned(),
            keys: JwkSet { keys },
            status_lists: vec![list_jwt],
            fetched_at: Some(Utc::now()),
        },
    ))
}

fn offline(n: usize) -> anyhow::Result<()> {
    let (jwt, trust) = offline_setup()?;
    let max_age = chrono::Duration::days(7);
    let v = verify(&jwt, &trust, Utc::now(), max_age);
    anyhow::ensure!(v.verdict.code() == "valid", "{v:?}");
    let time = |f: &dyn Fn()| {
        for _ in 0..n / 10 {
            f();
        }
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect::<Vec<_>>()
    };
    let full = time(&|| {
        std::hint::black_box(verify(&jwt, &trust, Utc::now(), max_age));
    });
    let jwk = &trust.keys.keys[2];
    let key = jsonwebtoken::DecodingKey::from_ed_components(&jwk.x)?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let signature = time(&|| {
        std::hint::black_box(jsonwebtoken::decode::<Value>(&jwt, &key, &validation).is_ok());
    });
    let encoded = StatusList::new().encode();
    let list = time(&|| {
        std::hint::black_box(StatusList::decode(&encoded).is_ok());
    });
    println!(
        "Offline verification ({} bytes of credential, a 131,072-entry list, 3 keys):\n",
        jwt.len()
    );
    header("what");
    row(
        "`verify`: signature, claims, the list's own signature and bit, dates",
        full,
    );
    row(
        "of which: one EdDSA signature check (jsonwebtoken)",
        signature,
    );
    row("of which: decoding the 16 KiB list (GZIP, base64url)", list);
    println!();
    Ok(())
}

#[expect(
    clippy::too_many_lines,
    reason = "set-up, the two measurements and the table, read top to bottom"
)]
async fn completion(stack: &Stack, learners: usize) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let url = &stack.url;
    let course = skilltrack_server::seed::demo_id("course/docker-fundamentals");
    let issuer = Issuer::new(KeyRing::ephemeral()?, url, "Skilltrack (bench)");
    let mut ready = Vec::new();
    for i in 0..learners {
        let session: Value = http
            .post(format!("{url}/api/v1/auth/sign-up"))
            .json(&json!({
                "email": format!("cert-bench-{i}-{}@example.com", Uuid::now_v7().simple()),
                "password": "correct horse battery",
                "full_name": format!("Bench Learner {i}"),
            }))
            .send()
            .await?
            .json()
            .await?;
        let token = session["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let user: Uuid = session["user"]["id"].as_str().unwrap_or_default().parse()?;
        call(
            &http,
            reqwest::Method::POST,
            &format!("{url}/api/v1/courses/{course}/enrollment"),
            &token,
            None,
        )
        .await?;
        let page = call(
            &http,
            reqwest::Method::GET,
            &format!("{url}/api/v1/courses/docker-fundamentals"),
            &token,
            None,
        )
        .await?;
        let lessons: Vec<Uuid> = page["modules"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|m| m["lessons"].as_array().cloned().unwrap_or_default())
            .filter_map(|l| l["id"].as_str().and_then(|s| s.parse().ok()))
            .collect();
        let (last, before) = lessons
            .split_last()
            .ok_or_else(|| anyhow::anyhow!("no lessons"))?;
        for lesson in before {
            call(
                &http,
                reqwest::Method::PUT,
                &format!("{url}/api/v1/lessons/{lesson}/progress"),
                &token,
                Some(json!({"completed": true})),
            )
            .await?;
        }
        ready.push((token, user, *last));
    }
    let half = ready.len() / 2;
    let (parts, whole) = ready.split_at(half);

    // The handler's two parts, timed apart.
    let mut write = Vec::new();
    let mut signing = Vec::new();
    let mut nothing_to_sign = Vec::new();
    for (_, user, lesson) in parts {
        let update = skilltrack_protocol::learning::ProgressUpdate {
            progress_percentage: None,
            add_minutes: None,
            completed: true,
            mutation_id: None,
        };
        let t = Instant::now();
        let mut tx = begin(stack.db.api(), Caller::User(*user), Access::ReadWrite).await?;
        skilltrack_server::db::learning::record_progress(&mut tx, *user, *lesson, &update).await?;
        let certificate =
            skilltrack_server::db::learning::my_certificates(&mut tx, *user, Some(course)).await?;
        tx.commit().await?;
        write.push(t.elapsed());
        anyhow::ensure!(
            certificate.len() == 1,
            "the write did not issue a certificate"
        );
        let t = Instant::now();
        let signed = sign_pending_of(&stack.db, &issuer, *user).await?;
        signing.push(t.elapsed());
        anyhow::ensure!(signed == 1, "signed {signed}");
        let t = Instant::now();
        sign_pending_of(&stack.db, &issuer, *user).await?;
        nothing_to_sign.push(t.elapsed());
    }
    // The whole request, as a learner's device sends it.
    let mut requests = Vec::new();
    for (token, _, lesson) in whole {
        let t = Instant::now();
        let answer = call(
            &http,
            reqwest::Method::PUT,
            &format!("{url}/api/v1/lessons/{lesson}/progress"),
            token,
            Some(json!({"completed": true})),
        )
        .await?;
        requests.push(t.elapsed());
        anyhow::ensure!(
            answer["enrollment"]["status"] == "completed",
            "not completed: {answer}"
        );
    }
    println!("Issuing on completion (the demo course's last lesson, {learners} learners):\n");
    header("what");
    row(
        "the completing progress write (RLS transaction: progress, enrollment, certificate, notifications)",
        write,
    );
    row(
        "**signing it after the commit** (`sign_pending_of`: look-up, sign, store)",
        signing,
    );
    row(
        "the same look-up on later writes, nothing to sign",
        nothing_to_sign,
    );
    row(
        "`PUT /api/v1/lessons/{id}/progress` over HTTP, both together",
        requests,
    );
    println!();
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    offline(args.verifications)?;
    let stack = Stack::start(&StackOptions {
        pg_bin_dir: args.pg_bin_dir.clone(),
        pool: args.pool,
        server_threads: args.server_threads,
        labs: false,
    })?;
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    client.block_on(completion(&stack, args.learners))?;
    Ok(())
}
