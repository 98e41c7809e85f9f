//! Lab sessions, their environments and workspace files. Reads run under the caller's RLS
//! role (a learner sees their own sessions, a lab's instructor those of their lab); writes are
//! the server's (`lab_sessions`, `cloud_environments` and `user_files` are "the server
//! decides" tables, `migrations/0006_row_level_security.sql`) and run as `service_role` after
//! the handler's own checks. Starting a lab's rules live in `migrations/0020_lab_runtime.sql`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use skilltrack_protocol::catalog::LabRef;
use skilltrack_protocol::labs::{LabEnvironment, LabSession};
use skilltrack_protocol::learning::Payment;
use skilltrack_protocol::{FileType, LabSessionStatus, PaymentMethod, PgEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{decode, with_scale};
use crate::messages::Key;

/// A lab as starting it needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LabToStart {
    /// Id.
    pub id: Uuid,
    /// Published (only the lab's instructor and admins may start a draft).
    pub is_published: bool,
    /// The template.
    pub environment_template: Option<String>,
    /// `{"cpu": …, "memory": GB, "storage": GB}`.
    pub resource_requirements: Value,
    /// The image it runs on (`None`: the host's tools).
    pub docker_image: Option<String>,
}

/// The lab, if the caller may see it.
pub async fn lab_to_start(
    conn: &mut PgConnection,
    lab: Uuid,
) -> Result<Option<LabToStart>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, is_published, environment_template, resource_requirements, docker_image
         FROM labs WHERE id = $1",
    )
    .bind(lab)
    .fetch_optional(conn)
    .await
}

/// What opening a session needs besides the lab.
#[derive(Debug, Clone)]
pub struct SessionOpening<'a> {
    /// The learner.
    pub user: Uuid,
    /// The lab.
    pub lab: Uuid,
    /// Its template.
    pub template: &'a str,
    /// Its resources.
    pub resources: &'a Value,
    /// What the server records of the environment.
    pub environment_data: &'a Value,
    /// Keep the workspace.
    pub auto_save: bool,
    /// The most sessions the learner may have running.
    pub max_running: u32,
}

/// Opens a session and its environment (`service_role`); raises `lab_session_active`,
/// `lab_full`, `payment_required`, `lab_prerequisites_unmet` or `lab_learner_limit`
/// (`migrations/0040_lab_payments_and_limits.sql`).
pub async fn open_session(
    conn: &mut PgConnection,
    opening: &SessionOpening<'_>,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar("SELECT public.open_lab_session($1, $2, $3, $4, $5, $6, $7)")
        .bind(opening.user)
        .bind(opening.lab)
        .bind(opening.template)
        .bind(opening.resources)
        .bind(opening.environment_data)
        .bind(opening.auto_save)
        .bind(i32::try_from(opening.max_running).unwrap_or(i32::MAX))
        .fetch_one(conn)
        .await
}

/// Before a paused session resumes (`service_role`, in the transaction that resumes it):
/// raises `lab_learner_limit` when its learner has `max_running` sessions running already.
pub async fn check_resume(
    conn: &mut PgConnection,
    session: Uuid,
    max_running: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, bool>("SELECT public.resume_lab_session($1, $2)")
        .bind(session)
        .bind(i32::try_from(max_running).unwrap_or(i32::MAX))
        .fetch_one(conn)
        .await?;
    Ok(())
}

/// A lab as paying for it needs it, if the caller may see it: (published, free).
pub async fn lab_for_checkout(
    conn: &mut PgConnection,
    lab: Uuid,
) -> Result<Option<(bool, bool)>, sqlx::Error> {
    sqlx::query_as("SELECT is_published, is_free FROM labs WHERE id = $1")
        .bind(lab)
        .fetch_optional(conn)
        .await
}

/// Whether the user has a completed payment for the lab.
pub async fn has_paid_for_lab(
    conn: &mut PgConnection,
    user: Uuid,
    lab: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM payments WHERE user_id = $1 AND lab_id = $2
                        AND payment_status = 'completed')",
    )
    .bind(user)
    .bind(lab)
    .fetch_one(conn)
    .await
}

/// What a paid lab costs (the `lab_price` setting, USD), if it is set to a number.
pub async fn lab_price(conn: &mut PgConnection) -> Result<Option<Decimal>, sqlx::Error> {
    let value: Option<Value> = sqlx::query_scalar(
        "SELECT setting_value FROM system_settings WHERE setting_key = 'lab_price'",
    )
    .fetch_optional(conn)
    .await?;
    Ok(value.and_then(|v| match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }))
}

/// Records a completed charge for a lab, with its activity (`service_role`).
pub async fn record_lab_payment(
    conn: &mut PgConnection,
    user: Uuid,
    lab: Uuid,
    amount: Decimal,
    method: PaymentMethod,
    reference: &str,
) -> Result<Payment, sqlx::Error> {
    let (id, created_at): (Uuid, DateTime<Utc>) = sqlx::query_as(
        "WITH p AS (INSERT INTO public.payments (user_id, lab_id, amount, currency,
                      payment_method, payment_status, stripe_payment_intent_id)
                    VALUES ($1, $2, $3, 'USD', $4::payment_method, 'completed', $5)
                    RETURNING id, created_at),
              a AS (INSERT INTO public.user_activities (user_id, activity_type, entity_type, entity_id, metadata)
                    SELECT $1, 'payment', 'lab', $2, jsonb_build_object('payment_id', p.id) FROM p)
         SELECT id, created_at FROM p",
    )
    .bind(user)
    .bind(lab)
    .bind(amount)
    .bind(method.as_str())
    .bind(reference)
    .fetch_one(conn)
    .await?;
    Ok(Payment {
        id,
        course_id: None,
        lab_id: Some(lab),
        amount: with_scale(amount, 2),
        currency: "USD".to_owned(),
        payment_method: method,
        payment_status: skilltrack_protocol::PaymentStatus::Completed,
        test_mode: reference.starts_with("test_"),
        created_at,
    })
}

/// A session with its environment and lab, as read from the database.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    /// Id.
    pub id: Uuid,
    /// The learner.
    pub user_id: Uuid,
    /// The lab.
    pub lab_id: Uuid,
    slug: String,
    title: String,
    status: String,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    duration_minutes: i32,
    last_activity: DateTime<Utc>,
    cost_estimate: Decimal,
    resource_usage: Value,
    progress_data: Value,
    /// The workspace outlives the session.
    pub auto_save_enabled: bool,
    /// What the server recorded at start (driver, profile, network, limits).
    pub environment_data: Value,
    /// The environment's id.
    pub environment_id: Uuid,
    environment_status: String,
    /// The template.
    pub template_name: String,
    /// The resources the lab asked for.
    pub resource_config: Value,
    /// Minutes of no input before the reaper stops it.
    pub auto_stop_minutes: i32,
    environment_started_at: Option<DateTime<Utc>>,
    stopped_at: Option<DateTime<Utc>>,
}

impl SessionRow {
    /// The session's status.
    pub fn status(&self) -> Result<LabSessionStatus, sqlx::Error> {
        decode("status", &self.status)
    }

    /// The last input saved.
    pub fn last_activity_at(&self) -> DateTime<Utc> {
        self.last_activity
    }

    /// Starting, active or paused.
    pub fn is_live(&self) -> bool {
        matches!(self.status.as_str(), "starting" | "active" | "paused")
    }

    /// Its progress through the lab's steps, if it has checked any.
    pub fn step_progress(&self) -> Option<skilltrack_protocol::lab_steps::StepProgress> {
        super::lab_steps::progress_of(&self.progress_data["steps"])
    }

    /// As the API shows it.
    pub fn into_wire(self) -> Result<LabSession, sqlx::Error> {
        let status: LabSessionStatus = decode("status", &self.status)?;
        let live = matches!(
            status,
            LabSessionStatus::Starting | LabSessionStatus::Active
        );
        Ok(LabSession {
            id: self.id,
            user_id: self.user_id,
            lab: LabRef {
                id: self.lab_id,
                slug: self.slug,
                title: self.title,
            },
            status,
            environment: LabEnvironment {
                id: self.environment_id,
                status: decode("environment_status", &self.environment_status)?,
                template_name: self.template_name,
                profile: self.environment_data["profile"]
                    .as_str()
                    .unwrap_or("shell-basic")
                    .to_owned(),
                network: self.environment_data["network"].as_bool().unwrap_or(false),
                resource_config: self.resource_config,
                auto_stop_minutes: self.auto_stop_minutes,
                started_at: self.environment_started_at,
                stopped_at: self.stopped_at,
            },
            started_at: self.started_at,
            ended_at: self.ended_at,
            duration_minutes: self.duration_minutes,
            last_activity: self.last_activity,
            auto_stop_at: live.then(|| {
                self.last_activity + chrono::Duration::minutes(i64::from(self.auto_stop_minutes))
            }),
            cost_estimate: with_scale(self.cost_estimate, 4),
            resource_usage: self.resource_usage,
            steps: super::lab_steps::progress_of(&self.progress_data["steps"]),
            progress_data: self.progress_data,
            auto_save_enabled: self.auto_save_enabled,
            terminal_path: format!("/api/v1/lab-sessions/{}/terminal", self.id),
        })
    }
}

/// Live sessions' duration and cost are computed to now; ended ones are as recorded. A lab the
/// caller can no longer see (unpublished since) still names itself by id.
const SESSION_SELECT: &str = "SELECT s.id, s.user_id, s.lab_id,
      coalesce(l.slug, '') AS slug, coalesce(l.title, '') AS title, s.status::text AS status,
      s.started_at, s.ended_at,
      CASE WHEN s.ended_at IS NULL
           THEN floor(extract(epoch FROM now() - s.started_at) / 60)::int
           ELSE coalesce(s.duration_minutes, 0) END AS duration_minutes,
      s.last_activity,
      CASE WHEN s.ended_at IS NULL AND l.id IS NOT NULL
           THEN round(l.estimated_cost * extract(epoch FROM now() - s.started_at)::numeric / 3600, 4)
           ELSE s.cost_estimate END AS cost_estimate,
      s.resource_usage, s.progress_data, s.auto_save_enabled, s.environment_data,
      e.id AS environment_id, e.status::text AS environment_status, e.template_name,
      e.resource_config, e.auto_stop_minutes, e.started_at AS environment_started_at, e.stopped_at
    FROM lab_sessions s
    JOIN cloud_environments e ON e.session_id = s.session_id
    LEFT JOIN labs l ON l.id = s.lab_id";

/// A session, if the caller may see it.
pub async fn session(conn: &mut PgConnection, id: Uuid) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(&format!("{SESSION_SELECT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The user's sessions, newest first (`live_only`: starting, active or paused).
pub async fn sessions_of(
    conn: &mut PgConnection,
    user: Uuid,
    live_only: bool,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SESSION_SELECT} WHERE s.user_id = $1
           AND (NOT $2 OR s.status IN ('starting', 'active', 'paused'))
         ORDER BY s.started_at DESC, s.id DESC LIMIT 200"
    ))
    .bind(user)
    .bind(live_only)
    .fetch_all(conn)
    .await
}

/// Every active session (the reaper's view, `service_role`).
pub async fn active_sessions(conn: &mut PgConnection) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(&format!("{SESSION_SELECT} WHERE s.status = 'active'"))
        .fetch_all(conn)
        .await
}

/// Moves a session and its environment from one status to another; false when the session
/// was not in `from` (someone else moved it first).
pub async fn transition(
    conn: &mut PgConnection,
    id: Uuid,
    from: &[LabSessionStatus],
    to: LabSessionStatus,
    environment: &str,
) -> Result<bool, sqlx::Error> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let ended = matches!(to, LabSessionStatus::Completed | LabSessionStatus::Expired);
    let moved: Option<Uuid> = sqlx::query_scalar(
        "WITH s AS (
           UPDATE public.lab_sessions s SET status = $3::lab_session_status,
                  ended_at = CASE WHEN $5 THEN now() END,
                  duration_minutes = floor(extract(epoch FROM now() - s.started_at) / 60)::int,
                  cost_estimate = round(coalesce((SELECT estimated_cost FROM public.labs WHERE id = s.lab_id), 0)
                                        * extract(epoch FROM now() - s.started_at)::numeric / 3600, 4)
            WHERE s.id = $1 AND s.status::text = ANY($2)
           RETURNING s.id, s.session_id, s.user_id, s.lab_id),
         e AS (
           UPDATE public.cloud_environments e SET status = $4::environment_status,
                  started_at = CASE WHEN $4 = 'running' THEN coalesce(e.started_at, now()) ELSE e.started_at END,
                  stopped_at = CASE WHEN $4 IN ('stopped', 'deleted', 'error', 'paused') THEN now() END,
                  last_activity = CASE WHEN $4 = 'running' THEN now() ELSE e.last_activity END
             FROM s WHERE e.session_id = s.session_id
           RETURNING e.id),
         a AS (
           INSERT INTO public.user_activities (user_id, activity_type, entity_type, entity_id, metadata)
           SELECT s.user_id, 'lab_complete', 'lab', s.lab_id, jsonb_build_object('session_id', s.id)
             FROM s WHERE $3 = 'completed'
              -- A lab in steps is complete when its last step passes, not when it stops.
              AND NOT EXISTS (SELECT 1 FROM public.lab_steps st WHERE st.lab_id = s.lab_id))
         SELECT id FROM s",
    )
    .bind(id)
    .bind(&from)
    .bind(to.as_str())
    .bind(environment)
    .bind(ended)
    .fetch_optional(&mut *conn)
    .await?;
    if moved.is_some() && matches!(to, LabSessionStatus::Active) {
        sqlx::query("UPDATE public.lab_sessions SET last_activity = now() WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(moved.is_some())
}

/// Saves what the reaper measured: the last input (when there was new input), usage, duration
/// and cost so far; a new input withdraws an idle warning.
pub async fn record_activity(
    conn: &mut PgConnection,
    id: Uuid,
    input_at: Option<DateTime<Utc>>,
    usage: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH s AS (
           UPDATE public.lab_sessions s
              SET last_activity = coalesce($2, s.last_activity),
                  environment_data = CASE WHEN $2 IS NULL THEN s.environment_data
                                          ELSE s.environment_data - 'idle_warned_at' END,
                  resource_usage = $3,
                  duration_minutes = floor(extract(epoch FROM now() - s.started_at) / 60)::int,
                  cost_estimate = round(coalesce((SELECT estimated_cost FROM public.labs WHERE id = s.lab_id), 0)
                                        * extract(epoch FROM now() - s.started_at)::numeric / 3600, 4)
            WHERE s.id = $1 RETURNING s.session_id)
         UPDATE public.cloud_environments e SET last_activity = coalesce($2, e.last_activity)
           FROM s WHERE e.session_id = s.session_id",
    )
    .bind(id)
    .bind(input_at)
    .bind(usage)
    .execute(conn)
    .await?;
    Ok(())
}

/// Tells the learner their idle lab stops soon, once per idle stretch.
pub async fn warn_idle(
    conn: &mut PgConnection,
    row: &SessionRow,
    stops_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH s AS (
           UPDATE public.lab_sessions SET environment_data = environment_data
                  || jsonb_build_object('idle_warned_at', now())
            WHERE id = $1 AND NOT environment_data ? 'idle_warned_at' RETURNING id)
         SELECT private.notify_message($2, $5,
                  jsonb_build_object('lab', $3::text,
                                     'time', to_char($4 AT TIME ZONE 'UTC', 'HH24:MI')),
                  'lab_session', $1)
           FROM s",
    )
    .bind(row.id)
    .bind(row.user_id)
    .bind(&row.title)
    .bind(stops_at)
    .bind(Key::LabStopsSoon.name())
    .execute(conn)
    .await?;
    Ok(())
}

/// Tells the learner their lab was stopped for being idle.
pub async fn notify_stopped(conn: &mut PgConnection, row: &SessionRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT private.notify_message($1, $5,
                  jsonb_build_object('lab', $2::text, 'minutes', $3::text),
                  'lab_session', $4)",
    )
    .bind(row.user_id)
    .bind(&row.title)
    .bind(row.auto_stop_minutes)
    .bind(row.id)
    .bind(Key::LabStopped.name())
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a live session's warning was sent.
pub fn was_warned(row: &SessionRow) -> bool {
    row.environment_data.get("idle_warned_at").is_some()
}

/// Replaces the session's saved progress.
pub async fn save_progress(
    conn: &mut PgConnection,
    id: Uuid,
    progress: &Value,
) -> Result<(), sqlx::Error> {
    // `steps` is the server's record of the learner's checks: what the client saves never
    // replaces it.
    sqlx::query(
        "UPDATE public.lab_sessions
            SET progress_data = ($2::jsonb - 'steps')
                || CASE WHEN progress_data ? 'steps'
                        THEN jsonb_build_object('steps', progress_data -> 'steps')
                        ELSE '{}'::jsonb END
          WHERE id = $1",
    )
    .bind(id)
    .bind(progress)
    .execute(conn)
    .await?;
    Ok(())
}

/// A workspace file as `user_files` records it.
#[derive(Debug, Clone)]
pub struct FileRecord<'a> {
    /// The learner.
    pub user_id: Uuid,
    /// The environment.
    pub environment_id: Uuid,
    /// The path in the workspace.
    pub path: &'a str,
    /// The last part of the path.
    pub name: &'a str,
    /// A directory.
    pub is_directory: bool,
    /// Bytes.
    pub size: i64,
    /// Its media type.
    pub mime_type: &'a str,
    /// Its kind.
    pub file_type: FileType,
}

/// Records a file or directory (replacing the record of the same path), linked to its parent
/// directory's record when there is one.
pub async fn upsert_file(
    conn: &mut PgConnection,
    f: &FileRecord<'_>,
    parent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO public.user_files (user_id, environment_id, filename, original_filename, file_path,
                                        file_type, file_size, mime_type, is_directory, parent_directory_id)
         VALUES ($1, $2, $3, $3, $4, $5::file_type, $6, $7, $8,
                 (SELECT id FROM public.user_files WHERE environment_id = $2 AND file_path = $9))
         ON CONFLICT (environment_id, file_path) DO UPDATE
           SET file_size = EXCLUDED.file_size, mime_type = EXCLUDED.mime_type,
               file_type = EXCLUDED.file_type, is_directory = EXCLUDED.is_directory, updated_at = now()",
    )
    .bind(f.user_id)
    .bind(f.environment_id)
    .bind(f.name)
    .bind(f.path)
    .bind(f.file_type.as_str())
    .bind(f.size)
    .bind(f.mime_type)
    .bind(f.is_directory)
    // NULL for a top-level file (matches no row); PostgreSQL text cannot hold a NUL.
    .bind(parent)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets a path and everything under it.
pub async fn delete_files(
    conn: &mut PgConnection,
    environment: Uuid,
    path: &str,
) -> Result<(), sqlx::Error> {
    // Children first: parent_directory_id has no ON DELETE action.
    sqlx::query(
        "DELETE FROM public.user_files WHERE environment_id = $1
           AND (file_path = $2 OR starts_with(file_path, $2 || '/'))",
    )
    .bind(environment)
    .bind(path)
    .execute(conn)
    .await?;
    Ok(())
}

/// Pauses the live lab sessions a dead server process of this host was running (decision
/// 364), and returns them: those `previous` hosted, or whose environment is in `environments`
/// (what the host found left behind), unless a live process other than `previous` and `me`
/// hosts them now. Each is paused with its environment, marked `interrupted_at` in
/// `environment_data`, and its learner is told that it was interrupted and that resuming it
/// carries on over the same files.
pub async fn pause_lost_sessions(
    conn: &mut PgConnection,
    previous: Option<Uuid>,
    environments: &[Uuid],
    me: Uuid,
    stale: std::time::Duration,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let stale_ms = i64::try_from(stale.as_millis()).unwrap_or(i64::MAX / 2);
    let lost: Vec<Uuid> = sqlx::query_scalar(
        "SELECT s.id FROM public.lab_sessions s
           JOIN public.cloud_environments e ON e.session_id = s.session_id
          WHERE s.status IN ('starting', 'active')
            AND (e.id = ANY($2)
                 OR EXISTS (SELECT 1 FROM private.lab_session_hosts h
                             WHERE h.session_id = s.id AND h.instance_id = $1))
            AND NOT EXISTS (SELECT 1 FROM private.lab_session_hosts h
                              JOIN private.server_instances i ON i.id = h.instance_id
                             WHERE h.session_id = s.id
                               AND h.instance_id IS DISTINCT FROM $1 AND h.instance_id <> $3
                               AND i.seen_at >= now() - $4 * interval '1 millisecond')
          ORDER BY s.id
          FOR UPDATE OF s",
    )
    .bind(previous)
    .bind(environments)
    .bind(me)
    .bind(stale_ms)
    .fetch_all(&mut *conn)
    .await?;
    let mut paused = Vec::with_capacity(lost.len());
    for id in lost {
        let from = [LabSessionStatus::Starting, LabSessionStatus::Active];
        if !transition(&mut *conn, id, &from, LabSessionStatus::Paused, "paused").await? {
            continue;
        }
        sqlx::query(
            "WITH s AS (
               UPDATE public.lab_sessions s SET environment_data = s.environment_data
                      || jsonb_build_object('interrupted_at', now())
                WHERE s.id = $1
               RETURNING s.id, s.user_id, s.lab_id)
             SELECT private.notify_message(s.user_id, $2,
                      jsonb_build_object('lab', coalesce(l.title, '')), 'lab_session', s.id)
               FROM s LEFT JOIN public.labs l ON l.id = s.lab_id",
        )
        .bind(id)
        .bind(Key::LabInterrupted.name())
        .execute(&mut *conn)
        .await?;
        paused.push(id);
    }
    Ok(paused)
}
