//! Analytics: storing the app's event batches, and the admins' summaries. Runs in the caller's
//! request transaction, so RLS decides: signed-in users insert their own events, only admins
//! read events, and activities are read by their owner and admins
//! (`migrations/0006_row_level_security.sql`).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use skilltrack_protocol::analytics::{ActiveDay, AnalyticsEvent, CourseAnalytics};
use skilltrack_protocol::catalog::CourseRef;
use sqlx::PgConnection;
use uuid::Uuid;

use super::auth::ClientInfo;
use super::with_scale;

/// A count as the wire carries it.
fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// Stores a (validated) batch of the caller's events; how many were new. An event whose id is
/// already stored (the caller's own from an earlier try, or anyone's) is skipped without
/// touching the stored row. The caller, address and user agent are the server's, never the
/// batch's.
///
/// No `RETURNING` and no conflict target: either makes PostgreSQL check the new row against the
/// SELECT policy, which only admins pass (the sender may not read analytics back). The primary
/// key is the table's only unique constraint, so `ON CONFLICT DO NOTHING` skips exactly the ids
/// already stored, and the count of inserted rows is all this learns.
pub async fn insert_events(
    conn: &mut PgConnection,
    user: Uuid,
    client: &ClientInfo,
    events: &[AnalyticsEvent],
) -> Result<u64, sqlx::Error> {
    let empty = serde_json::Value::Object(serde_json::Map::new());
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let names: Vec<&str> = events.iter().map(|e| e.event_name.as_str()).collect();
    let data: Vec<serde_json::Value> = events
        .iter()
        .map(|e| e.event_data.clone().unwrap_or_else(|| empty.clone()))
        .collect();
    let sessions: Vec<Option<&str>> = events.iter().map(|e| e.session_id.as_deref()).collect();
    let pages: Vec<Option<&str>> = events.iter().map(|e| e.page_url.as_deref()).collect();
    let referrers: Vec<Option<&str>> = events.iter().map(|e| e.referrer.as_deref()).collect();
    let times: Vec<Option<DateTime<Utc>>> = events.iter().map(|e| e.occurred_at).collect();
    let done = sqlx::query(
        "INSERT INTO public.analytics_events (id, user_id, event_name, event_data, session_id,
                                              page_url, referrer, user_agent, ip_address,
                                              created_at)
         SELECT e.id, $1, e.event_name, e.event_data, e.session_id, e.page_url, e.referrer,
                $2, $3::inet, coalesce(e.occurred_at, now())
         FROM unnest($4::uuid[], $5::text[], $6::jsonb[], $7::text[], $8::text[], $9::text[],
                     $10::timestamptz[])
              WITH ORDINALITY AS e(id, event_name, event_data, session_id, page_url, referrer,
                                   occurred_at, n)
         ORDER BY e.n
         ON CONFLICT DO NOTHING",
    )
    .bind(user)
    .bind(client.user_agent.as_deref())
    .bind(client.ip.map(|ip| ip.to_string()))
    .bind(&ids)
    .bind(&names)
    .bind(&data)
    .bind(&sessions)
    .bind(&pages)
    .bind(&referrers)
    .bind(&times)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The users active in `[from, to]` (UTC days): any activity or any signed-in analytics event.
/// Anonymous events (no user) are not users and are left out.
const ACTIVE: &str = "
    WITH bounds AS (
      SELECT $1::date::timestamp AT TIME ZONE 'UTC' AS lo,
             ($2::date + 1)::timestamp AT TIME ZONE 'UTC' AS hi
    ),
    active AS (
      SELECT a.user_id, (a.created_at AT TIME ZONE 'UTC')::date AS day
      FROM public.user_activities a, bounds b
      WHERE a.created_at >= b.lo AND a.created_at < b.hi
      UNION
      SELECT e.user_id, (e.created_at AT TIME ZONE 'UTC')::date AS day
      FROM public.analytics_events e, bounds b
      WHERE e.user_id IS NOT NULL AND e.created_at >= b.lo AND e.created_at < b.hi
    )";

/// Active users per UTC day from `from` to `to` (both included, every day listed), and the
/// distinct users over the whole range. Admins only: RLS shows anyone else their own
/// activities at most, which is why the handler asks `require_admin` first.
pub async fn active_users(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<ActiveDay>, u32), sqlx::Error> {
    let days: Vec<(NaiveDate, i64)> = sqlx::query_as(&format!(
        "{ACTIVE}
         SELECT d.day::date, count(DISTINCT a.user_id)
         FROM generate_series($1::date, $2::date, interval '1 day') AS d(day)
         LEFT JOIN active a ON a.day = d.day::date
         GROUP BY d.day
         ORDER BY d.day"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let distinct: i64 = sqlx::query_scalar(&format!(
        "{ACTIVE}
         SELECT count(DISTINCT user_id) FROM active"
    ))
    .bind(from)
    .bind(to)
    .fetch_one(conn)
    .await?;
    Ok((
        days.into_iter()
            .map(|(day, n)| ActiveDay {
                day,
                active_users: count(n),
            })
            .collect(),
        count(distinct),
    ))
}

/// Where a page of courses starts: after this `(created_at, id)`, newest first.
pub type CourseCursor = (DateTime<Utc>, Uuid);

#[derive(sqlx::FromRow)]
struct CourseRow {
    id: Uuid,
    slug: String,
    title: String,
    is_published: bool,
    created_at: DateTime<Utc>,
    enrollments: i64,
    active: i64,
    completed: i64,
    cancelled: i64,
    completion_rate: Option<Decimal>,
    average_progress: Option<Decimal>,
}

impl From<CourseRow> for CourseAnalytics {
    fn from(r: CourseRow) -> Self {
        Self {
            course: CourseRef {
                id: r.id,
                slug: r.slug,
                title: r.title,
            },
            is_published: r.is_published,
            created_at: r.created_at,
            enrollments: count(r.enrollments),
            active: count(r.active),
            completed: count(r.completed),
            cancelled: count(r.cancelled),
            completion_rate: r.completion_rate.map(|d| with_scale(d, 2)),
            average_progress: r.average_progress.map(|d| with_scale(d, 2)),
        }
    }
}

/// Every course the caller can see (for an admin: all, drafts included), newest first, after
/// `cursor`, with its enrollment figures. The page of courses is chosen first and only its
/// courses' enrollments are counted.
pub async fn course_stats(
    conn: &mut PgConnection,
    cursor: Option<CourseCursor>,
    limit: u32,
) -> Result<Vec<CourseAnalytics>, sqlx::Error> {
    sqlx::query_as::<_, CourseRow>(
        "SELECT c.id, c.slug, c.title, c.is_published, c.created_at,
                s.enrollments, s.active, s.completed, s.cancelled,
                round(100.0 * s.completed / nullif(s.enrollments, 0), 2) AS completion_rate,
                round(s.average_progress, 2) AS average_progress
         FROM (SELECT id, slug, title, is_published, created_at FROM public.courses
               WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1, $2)
               ORDER BY created_at DESC, id DESC
               LIMIT $3) c
         CROSS JOIN LATERAL (
           SELECT count(*) AS enrollments,
                  count(*) FILTER (WHERE e.status = 'active') AS active,
                  count(*) FILTER (WHERE e.status = 'completed') AS completed,
                  count(*) FILTER (WHERE e.status = 'cancelled') AS cancelled,
                  avg(e.progress_percentage) AS average_progress
           FROM public.enrollments e WHERE e.course_id = c.id) s
         ORDER BY c.created_at DESC, c.id DESC",
    )
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(CourseAnalytics::from).collect())
}
