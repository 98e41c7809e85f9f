//! Labs in steps (`lab_steps`, `lab_step_scripts`, `migrations/0061_lab_steps.sql`): the steps
//! learners read, the scripts only a lab's managers and the server read, and a session's
//! progress through them (`lab_sessions.progress_data -> 'steps'`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use skilltrack_protocol::lab_steps::{
    AuthoredLabStep, AuthoredLabSteps, LabStep, LabSteps, LabStepsDraft, StepProgress, StepRecord,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::labs::steps::StepScripts;

type StepRow = (Uuid, i32, String, String, Vec<String>, bool);

/// A step with its scripts, as the server reads them.
#[derive(Debug, sqlx::FromRow)]
struct ScriptRow {
    id: Uuid,
    position: i32,
    title: String,
    setup_script: Option<String>,
    verify_script: Option<String>,
    solve_script: Option<String>,
}

impl ScriptRow {
    fn into_scripts(self) -> (Uuid, StepScripts) {
        (
            self.id,
            StepScripts {
                position: self.position,
                title: self.title,
                setup: self.setup_script,
                verify: self.verify_script,
                solve: self.solve_script,
            },
        )
    }
}

/// Steps of a lab with their scripts, by position.
const SCRIPTS_OF_LAB: &str =
    "SELECT s.id, s.position, s.title, c.setup_script, c.verify_script, c.solve_script
       FROM public.lab_steps s LEFT JOIN public.lab_step_scripts c ON c.step_id = s.id
      WHERE s.lab_id = $1 ORDER BY s.position";

fn step_of(row: StepRow) -> LabStep {
    let (id, position, title, body, hints, checked) = row;
    LabStep {
        id,
        position,
        title,
        body,
        hints,
        checked,
    }
}

/// Whether the caller writes labs (instructors and admins).
pub async fn is_author(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT private.is_author()")
        .fetch_one(conn)
        .await
}

/// The id of the lab called `slug`, if the caller may see it.
pub async fn lab_by_slug(conn: &mut PgConnection, slug: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM public.labs WHERE slug = $1")
        .bind(slug)
        .fetch_optional(conn)
        .await
}

/// A lab's intro, steps and finish page, if the caller may see the lab.
pub async fn steps(conn: &mut PgConnection, lab: Uuid) -> Result<Option<LabSteps>, sqlx::Error> {
    let Some((intro, finish)): Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT instructions, finish_text FROM public.labs WHERE id = $1")
            .bind(lab)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let rows: Vec<StepRow> = sqlx::query_as(
        "SELECT id, position, title, body, hints, checked FROM public.lab_steps
          WHERE lab_id = $1 ORDER BY position",
    )
    .bind(lab)
    .fetch_all(conn)
    .await?;
    Ok(Some(LabSteps {
        lab_id: lab,
        intro,
        steps: rows.into_iter().map(step_of).collect(),
        finish,
    }))
}

/// A lab's steps with their scripts, if the caller manages the lab (RLS hides the scripts from
/// everyone else, and this answers `None` for them).
pub async fn authored_steps(
    conn: &mut PgConnection,
    lab: Uuid,
) -> Result<Option<AuthoredLabSteps>, sqlx::Error> {
    let manages: bool = sqlx::query_scalar("SELECT private.manages_lab($1)")
        .bind(lab)
        .fetch_one(&mut *conn)
        .await?;
    if !manages {
        return Ok(None);
    }
    let Some(plain) = steps(&mut *conn, lab).await? else {
        return Ok(None);
    };
    let mut scripts: std::collections::HashMap<Uuid, StepScripts> =
        sqlx::query_as::<_, ScriptRow>(SCRIPTS_OF_LAB)
            .bind(lab)
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(ScriptRow::into_scripts)
            .collect();
    let steps = plain
        .steps
        .into_iter()
        .map(|step| {
            let own = scripts.remove(&step.id).unwrap_or_default();
            AuthoredLabStep {
                step,
                setup: own.setup,
                verify: own.verify,
                solve: own.solve,
            }
        })
        .collect();
    Ok(Some(AuthoredLabSteps {
        lab_id: lab,
        intro: plain.intro,
        steps,
        finish: plain.finish,
    }))
}

/// Replaces a lab's steps and finish page under the caller's RLS role (its managers only):
/// the step at each position keeps its id, steps past the new last one go. False if the caller
/// may not write the lab.
pub async fn replace_steps(
    conn: &mut PgConnection,
    lab: Uuid,
    draft: &LabStepsDraft,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query("UPDATE public.labs SET finish_text = $2 WHERE id = $1")
        .bind(lab)
        .bind(&draft.finish)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if updated == 0 {
        return Ok(false);
    }
    let count = i32::try_from(draft.steps.len()).unwrap_or(i32::MAX);
    sqlx::query("DELETE FROM public.lab_steps WHERE lab_id = $1 AND position > $2")
        .bind(lab)
        .bind(count)
        .execute(&mut *conn)
        .await?;
    for (position, step) in (1..).zip(&draft.steps) {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO public.lab_steps (lab_id, position, title, body, hints)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (lab_id, position) DO UPDATE
               SET title = EXCLUDED.title, body = EXCLUDED.body, hints = EXCLUDED.hints
             RETURNING id",
        )
        .bind(lab)
        .bind(position)
        .bind(&step.title)
        .bind(&step.body)
        .bind(&step.hints)
        .fetch_one(&mut *conn)
        .await?;
        if step.setup.is_none() && step.verify.is_none() && step.solve.is_none() {
            sqlx::query("DELETE FROM public.lab_step_scripts WHERE step_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO public.lab_step_scripts (step_id, setup_script, verify_script, solve_script)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (step_id) DO UPDATE SET setup_script = EXCLUDED.setup_script,
                   verify_script = EXCLUDED.verify_script, solve_script = EXCLUDED.solve_script",
            )
            .bind(id)
            .bind(&step.setup)
            .bind(&step.verify)
            .bind(&step.solve)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(true)
}

/// A lab's steps with their scripts, for the server to run (as `service_role`).
pub async fn scripts(conn: &mut PgConnection, lab: Uuid) -> Result<Vec<StepScripts>, sqlx::Error> {
    Ok(sqlx::query_as::<_, ScriptRow>(SCRIPTS_OF_LAB)
        .bind(lab)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| row.into_scripts().1)
        .collect())
}

/// One step of a session's lab with its scripts: `step`, or the one the learner is on.
pub async fn step_to_check(
    conn: &mut PgConnection,
    session: Uuid,
    step: Option<Uuid>,
) -> Result<Option<(Uuid, StepScripts)>, sqlx::Error> {
    let row: Option<ScriptRow> = sqlx::query_as(
            "SELECT s.id, s.position, s.title, c.setup_script, c.verify_script, c.solve_script
               FROM public.lab_sessions ls
               JOIN public.lab_steps s ON s.lab_id = ls.lab_id
               LEFT JOIN public.lab_step_scripts c ON c.step_id = s.id
              WHERE ls.id = $1
                AND CASE WHEN $2::uuid IS NOT NULL THEN s.id = $2
                         ELSE s.position >= coalesce((ls.progress_data -> 'steps' ->> 'current')::int, 1)
                    END
              ORDER BY s.position LIMIT 1",
        )
        .bind(session)
        .bind(step)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(ScriptRow::into_scripts))
}

/// The setup script of the step at `position` of a lab, if it has one.
pub async fn setup_at(
    conn: &mut PgConnection,
    lab: Uuid,
    position: i32,
) -> Result<Option<String>, sqlx::Error> {
    Ok(sqlx::query_scalar(
        "SELECT c.setup_script FROM public.lab_steps s
           JOIN public.lab_step_scripts c ON c.step_id = s.id
          WHERE s.lab_id = $1 AND s.position = $2",
    )
    .bind(lab)
    .bind(position)
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// Records a check in the session's progress (completing the lab on its last step) and
/// returns the progress. Runs as `service_role`.
pub async fn record_check(
    conn: &mut PgConnection,
    session: Uuid,
    step: Uuid,
    passed: bool,
    output: &str,
) -> Result<StepProgress, sqlx::Error> {
    let steps: Value = sqlx::query_scalar("SELECT public.record_lab_check($1, $2, $3, $4)")
        .bind(session)
        .bind(step)
        .bind(passed)
        .bind(output)
        .fetch_one(conn)
        .await?;
    Ok(progress_of(&steps).unwrap_or_default())
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str()?.parse().ok()
}

/// The typed progress of `progress_data -> 'steps'` (`None` when there is none).
pub fn progress_of(steps: &Value) -> Option<StepProgress> {
    let object = steps.as_object()?;
    let int = |v: &Value| v.as_i64().and_then(|n| i32::try_from(n).ok()).unwrap_or(0);
    let mut records: Vec<StepRecord> = object
        .get("records")
        .and_then(Value::as_object)
        .map(|records| {
            records
                .iter()
                .filter_map(|(id, r)| {
                    Some(StepRecord {
                        step_id: id.parse().ok()?,
                        position: int(&r["position"]),
                        attempts: int(&r["attempts"]),
                        passed_at: time(&r["passed_at"]),
                        last_checked_at: time(&r["last_checked_at"]),
                        last_passed: r["last_passed"].as_bool().unwrap_or(false),
                        last_output: r["last_output"].as_str().unwrap_or_default().to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    records.sort_by_key(|r| r.position);
    Some(StepProgress {
        current: object.get("current").map_or(1, int),
        total: object.get("total").map_or(0, int),
        completed_at: object.get("completed_at").and_then(time),
        records,
    })
}
