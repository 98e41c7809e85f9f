//! The HTTP load generator: N tasks, each with its own connection, for a fixed time; latency
//! percentiles over every request after the warm-up.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

/// What the scenarios need: a signed-in learner enrolled in a course, and its lessons.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The learner's bearer token.
    pub token: String,
    /// The learner's id.
    pub user_id: String,
    /// The course's slug.
    pub slug: String,
    /// Its lessons.
    pub lessons: Vec<String>,
}

/// Signs the demo learner in and reads the course they are enrolled in.
pub async fn prepare(url: &str) -> anyhow::Result<Setup> {
    let http = reqwest::Client::new();
    let session: Value = http
        .post(format!("{url}/api/v1/auth/sign-in"))
        .json(&json!({"email": "learner@skilltrack.dev", "password": "learner-demo-pass"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = session["access_token"]
        .as_str()
        .context("no token")?
        .to_owned();
    let user_id = session["user"]["id"]
        .as_str()
        .context("no user")?
        .to_owned();
    let slug = "python-for-data-analysis".to_owned();
    let course: Value = http
        .get(format!("{url}/api/v1/courses/{slug}"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let lessons: Vec<String> = course["modules"]
        .as_array()
        .context("no modules")?
        .iter()
        .flat_map(|m| m["lessons"].as_array().cloned().unwrap_or_default())
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect();
    anyhow::ensure!(!lessons.is_empty(), "the demo learner sees no lessons");
    Ok(Setup {
        token,
        user_id,
        slug,
        lessons,
    })
}

/// Which request the tasks repeat.
#[derive(Debug, Clone, Copy)]
pub enum Scenario {
    /// `GET /api/v1/courses/{slug}` as the enrolled learner (syllabus with lessons).
    CourseDetail,
    /// `PUT /api/v1/lessons/{id}/progress` adding a minute, lessons in turn.
    Progress,
}

/// A scenario's figures.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Requests measured.
    pub requests: usize,
    /// Per second.
    pub rate: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Non-2xx answers and failures.
    pub errors: usize,
}

/// Runs `scenario` on `connections` connections for `duration` after a warm-up.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "percentiles of at most millions of samples"
)]
pub async fn run(
    url: &str,
    setup: &Setup,
    scenario: Scenario,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let warmup = duration / 5;
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..connections {
        let (url, setup) = (url.to_owned(), setup.clone());
        tasks.spawn(async move {
            // One connection per task, as 50 clients would have.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = n;
            while Instant::now() < end {
                let t0 = Instant::now();
                let request = match scenario {
                    Scenario::CourseDetail => {
                        http.get(format!("{url}/api/v1/courses/{}", setup.slug))
                    }
                    Scenario::Progress => http
                        .put(format!(
                            "{url}/api/v1/lessons/{}/progress",
                            setup.lessons[i % setup.lessons.len()]
                        ))
                        .json(&json!({"progress_percentage": 40, "add_minutes": 1})),
                };
                let ok = request
                    .bearer_auth(&setup.token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if t0 >= measure_from {
                    latencies.push(t0.elapsed());
                    errors += usize::from(!ok);
                }
                i += 1;
            }
            anyhow::Ok((latencies, errors))
        });
    }
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(done) = tasks.join_next().await {
        let (latencies, e) = done??;
        all.extend(latencies);
        errors += e;
    }
    all.sort_unstable();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(all.len().saturating_sub(1));
        all.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(Report {
        requests: all.len(),
        rate: all.len() as f64 / duration.as_secs_f64(),
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        errors,
    })
}
