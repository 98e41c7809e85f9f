//! Offline sync's SQL: reading the change log and the rows it names under the caller's RLS
//! role (pull), and the writes of pushed mutations with their idempotency records.
//! `migrations/0030_sync_log.sql` explains the log, `0031_sync_push.sql` the push side.
//!
//! A pull page is read in one transaction opened by [`crate::db::session::begin`] as the caller,
//! so whatever RLS hides from them is a tombstone here, never a row. The change log itself is
//! reached only through SECURITY DEFINER functions that return a caller the entries meant for
//! them (shared rows and their own).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;
use skilltrack_protocol::sync::{
    ChangeOp, MAX_PULL_PAGE_BYTES, PullPage, RowChange, RowData, SyncTable,
};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Numbers the committed change-log entries (commit order), waiting for whoever numbers now.
///
/// One round trip: a simple query of two statements runs as one implicit transaction, with
/// the role `service_role` for that transaction only (the server acting for itself), and an
/// error rolls the whole of it back. As an explicit transaction it took four (BEGIN, the role,
/// the call, COMMIT), and it runs before every live notice and after every push.
pub async fn sequence(api: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("SET LOCAL role service_role; SELECT private.sync_sequence()")
        .execute(api)
        .await
        .map(drop)
}

/// Numbers the committed change-log entries if no one else is numbering right now; returns at
/// once either way (the pull path never waits on the sequencer's lock). One round trip, as
/// [`sequence`]: it runs before every pull.
pub async fn sequence_if_free(api: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("SET LOCAL role service_role; SELECT private.sync_sequence_if_free()")
        .execute(api)
        .await
        .map(drop)
}

/// Compacts the change log (as `service_role`): drops superseded entries, then every entry
/// logged before `before`, and returns the new horizon (cursors below it must start again).
pub async fn compact(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT private.sync_compact($1)")
        .bind(before)
        .fetch_one(conn)
        .await
}

/// Where a pull resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Nothing yet: start a snapshot.
    Start,
    /// Reading a snapshot taken at log position `base`: table `table` (an index into
    /// [`SyncTable::ALL`]) after row `after`.
    Snapshot {
        /// The log position the snapshot stands for; the tail resumes there.
        base: i64,
        /// The table being read.
        table: usize,
        /// The last row sent from it.
        after: Option<Uuid>,
    },
    /// Following the log after this position.
    Tail(i64),
}

/// Ends the lineage a cursor starts with (see [`SentCursor`]).
const LINEAGE_END: char = ':';

/// A cursor as a client sent it: `<lineage>:<cursor>`, where the lineage names the database
/// the log positions belong to (its cluster's system identifier and its own oid, hashed).
/// A cursor of another lineage is none of ours: a database restored from a backup numbers its
/// log again from the backup's position, so a device that saw positions past it would
/// otherwise skip what is numbered there anew. A cursor without a lineage (from a server
/// before this one) is taken as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentCursor<'a> {
    lineage: Option<&'a str>,
    cursor: Option<Cursor>,
}

impl<'a> SentCursor<'a> {
    /// Reads a cursor off the wire (`None`: no cursor, a first sync).
    pub fn parse(text: Option<&'a str>) -> Self {
        let (lineage, rest) = match text.and_then(|t| t.split_once(LINEAGE_END)) {
            Some((lineage, rest)) => (Some(lineage), Some(rest)),
            None => (None, text),
        };
        Self {
            lineage,
            cursor: Cursor::parse(rest),
        }
    }

    /// The cursor, if it is one of ours in the log of `lineage`.
    pub fn in_lineage(self, lineage: &str) -> Option<Cursor> {
        self.cursor
            .filter(|_| self.lineage.is_none_or(|l| l == lineage))
    }
}

impl Cursor {
    /// Parses a cursor without its lineage; `None` when it is not one of ours.
    pub fn parse(text: Option<&str>) -> Option<Self> {
        let text = text.unwrap_or("").trim();
        if text.is_empty() || text == "0" {
            return Some(Self::Start);
        }
        if let Some(rest) = text.strip_prefix('s') {
            let mut parts = rest.split('.');
            let base = parts.next()?.parse().ok()?;
            let table: usize = parts.next()?.parse().ok()?;
            let after = match parts.next()? {
                "-" => None,
                id => Some(id.parse().ok()?),
            };
            if parts.next().is_some() || table > SyncTable::ALL.len() {
                return None;
            }
            return Some(Self::Snapshot { base, table, after });
        }
        text.parse().ok().filter(|n| *n >= 0).map(Self::Tail)
    }

    /// The cursor's wire form (opaque to clients).
    pub fn encode(self) -> String {
        match self {
            Self::Start => "0".to_owned(),
            Self::Snapshot { base, table, after } => format!(
                "s{base}.{table}.{}",
                after.map_or_else(|| "-".to_owned(), |id| id.to_string())
            ),
            Self::Tail(seq) => seq.to_string(),
        }
    }
}

/// How a synced table is read: where the rows come from (aliased `t`), the JSON each row
/// travels as, and which rows of it are the caller's own (for personal tables; `$2` is the
/// caller).
struct Source {
    from: &'static str,
    row: &'static str,
    mine: Option<&'static str>,
}

fn source(table: SyncTable) -> Source {
    // `json`, not `jsonb`: PostgreSQL writes the record's text straight out (no binary form
    // built, sorted and printed again), and the text travels to the device as it is.
    const PLAIN: &str = "to_json(t)";
    let (from, row, mine) = match table {
        // Numeric money and ratings go as exact strings; the search vector stays home.
        SyncTable::Courses => (
            "public.courses t",
            "to_jsonb(t) - 'search' || jsonb_build_object('price', t.price::text, 'rating', t.rating::text)",
            None,
        ),
        SyncTable::Labs => (
            "public.labs t",
            "to_jsonb(t) - 'search' || jsonb_build_object('rating', t.rating::text,
                'estimated_cost', t.estimated_cost::text)",
            None,
        ),
        // Never the table itself: its answer keys are for the course's managers, and a device
        // holds what a learner may hold, whoever signs in on it. The learner's projection comes
        // from the function learners use, for each assessment the caller may see.
        SyncTable::AssessmentQuestions => (
            "public.assessments a CROSS JOIN LATERAL public.assessment_questions_for_learner(a.id) t",
            PLAIN,
            None,
        ),
        SyncTable::Profiles => ("public.profiles t", PLAIN, Some("t.id = $2")),
        // Which answers were right is a key too: it travels only as the assessment's review
        // policy allows (`private.answer_grade_open`, migrations/0034), as the routes show it.
        SyncTable::UserAssessmentAnswers => (
            "public.user_assessment_answers t",
            "CASE WHEN private.answer_grade_open(t.attempt_id, t.question_id) THEN to_jsonb(t)
                  ELSE to_jsonb(t) || '{\"is_correct\": null, \"points_earned\": 0}'::jsonb END",
            Some(
                "t.attempt_id IN (SELECT x.id FROM public.user_assessment_attempts x
                                  WHERE x.user_id = $2)",
            ),
        ),
        SyncTable::Enrollments => ("public.enrollments t", PLAIN, Some("t.user_id = $2")),
        SyncTable::UserProgress => ("public.user_progress t", PLAIN, Some("t.user_id = $2")),
        SyncTable::UserBookmarks => ("public.user_bookmarks t", PLAIN, Some("t.user_id = $2")),
        SyncTable::Notifications => ("public.notifications t", PLAIN, Some("t.user_id = $2")),
        SyncTable::Certificates => ("public.certificates t", PLAIN, Some("t.user_id = $2")),
        SyncTable::UserAssessmentAttempts => (
            "public.user_assessment_attempts t",
            "to_jsonb(t) || jsonb_build_object('review_open', private.review_open(t.id))",
            Some("t.user_id = $2"),
        ),
        SyncTable::Services => ("public.services t", PLAIN, None),
        SyncTable::LabCategories => ("public.lab_categories t", PLAIN, None),
        SyncTable::CourseTags => ("public.course_tags t", PLAIN, None),
        SyncTable::CourseModules => ("public.course_modules t", PLAIN, None),
        SyncTable::CourseLessons => ("public.course_lessons t", PLAIN, None),
        SyncTable::CourseTagRelationships => ("public.course_tag_relationships t", PLAIN, None),
        SyncTable::CoursePrerequisites => ("public.course_prerequisites t", PLAIN, None),
        SyncTable::LabPrerequisites => ("public.lab_prerequisites t", PLAIN, None),
        // With the review policy in force (the default for its kind and limits when none is set).
        SyncTable::Assessments => (
            "public.assessments t",
            "to_jsonb(t) || jsonb_build_object('review_policy',
                private.effective_review_policy(t.type, t.max_attempts, t.review_policy))",
            None,
        ),
        SyncTable::CourseReviews => ("public.course_reviews t", PLAIN, None),
        SyncTable::LabReviews => ("public.lab_reviews t", PLAIN, None),
    };
    Source { from, row, mine }
}

/// A row's id and its JSON text, checked but not parsed into a tree.
type RawRow = (Uuid, Json<Box<RawValue>>);

/// The WHERE clause's ownership part of a source, if it has one.
fn and_mine(s: &Source) -> String {
    s.mine.map(|m| format!(" AND {m}")).unwrap_or_default()
}

/// The rows among `ids` that the caller may see now, as they travel.
async fn visible_rows(
    conn: &mut PgConnection,
    me: Uuid,
    table: SyncTable,
    ids: &[Uuid],
) -> Result<Vec<RawRow>, sqlx::Error> {
    let s = source(table);
    let sql = format!(
        "SELECT t.id, {} FROM {} WHERE t.id = ANY($1){}",
        s.row,
        s.from,
        and_mine(&s)
    );
    let query = sqlx::query_as(&sql).bind(ids);
    let query = if s.mine.is_some() {
        query.bind(me)
    } else {
        query
    };
    query.fetch_all(conn).await
}

/// How many bytes each row among `ids` that the caller may see would take on the wire (the
/// rows themselves stay in the database).
async fn visible_sizes(
    conn: &mut PgConnection,
    me: Uuid,
    table: SyncTable,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, i64>, sqlx::Error> {
    let s = source(table);
    let sql = format!(
        "SELECT t.id, octet_length(({})::text)::bigint FROM {} WHERE t.id = ANY($1){}",
        s.row,
        s.from,
        and_mine(&s)
    );
    let query = sqlx::query_as::<_, (Uuid, i64)>(&sql).bind(ids);
    let query = if s.mine.is_some() {
        query.bind(me)
    } else {
        query
    };
    Ok(query.fetch_all(conn).await?.into_iter().collect())
}

/// Up to `limit` rows of `table` the caller may see, after `after`, in id order, stopping
/// once they reach `budget` bytes (the first row always comes). Also says whether the table
/// has no rows after the last one returned.
async fn snapshot_rows(
    conn: &mut PgConnection,
    me: Uuid,
    table: SyncTable,
    after: Option<Uuid>,
    limit: u32,
    budget: usize,
) -> Result<(Vec<RawRow>, usize, bool), sqlx::Error> {
    let s = source(table);
    // The running total is taken in the database, so rows past the budget never leave it.
    let sql = format!(
        "SELECT id, row, size, candidates FROM (
           SELECT id, row, size, count(*) OVER () AS candidates,
                  sum(size) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) - size AS before
           FROM (SELECT t.id, {row} AS row, octet_length(({row})::text)::bigint AS size
                 FROM {from} WHERE t.id > $1{mine} ORDER BY t.id LIMIT {limit}) r
         ) w
         WHERE before < {budget} ORDER BY id",
        row = s.row,
        from = s.from,
        mine = and_mine(&s),
        // `$2` is the caller wherever a source names its rows' owner.
        budget = if s.mine.is_some() { "$3" } else { "$2" },
    );
    let query = sqlx::query_as::<_, (Uuid, Json<Box<RawValue>>, i64, i64)>(&sql)
        .bind(after.unwrap_or(Uuid::nil()));
    let query = if s.mine.is_some() {
        query.bind(me)
    } else {
        query
    };
    let fetched = query
        .bind(i64::try_from(budget).unwrap_or(i64::MAX).max(1))
        .fetch_all(conn)
        .await?;
    let candidates = fetched.first().map_or(0, |r| r.3);
    let exhausted = usize::try_from(candidates).unwrap_or(usize::MAX) < limit as usize
        && i64::try_from(fetched.len()).unwrap_or(i64::MAX) == candidates;
    let bytes = fetched
        .iter()
        .map(|r| usize::try_from(r.2).unwrap_or(0))
        .sum();
    Ok((
        fetched
            .into_iter()
            .map(|(id, row, _, _)| (id, row))
            .collect(),
        bytes,
        exhausted,
    ))
}

/// One page of changes for the caller after `cursor` (see [`Cursor`]), at most `limit` rows.
/// Run [`sequence`] first, in its own transaction, so the log is numbered up to now.
pub async fn pull(
    conn: &mut PgConnection,
    me: Uuid,
    cursor: Option<&str>,
    limit: u32,
) -> Result<PullPage, sqlx::Error> {
    let sent = SentCursor::parse(cursor);
    // A device that is up to date pulls from a tail cursor: the log's position and the
    // entries after the cursor come in one round trip (the entries go unused if the cursor
    // turns out not to be this log's).
    let tail_from = match sent.cursor {
        Some(Cursor::Tail(seq)) => Some(seq),
        _ => None,
    };
    let (position, entries) = position_and_changes(conn, tail_from, limit).await?;
    let Position {
        horizon,
        head,
        lineage,
    } = position;
    // A cursor the log can no longer serve (compacted past it, from another database — a
    // restored backup among them — or not ours at all) starts a new snapshot, and says so: the
    // client drops what it has.
    let (cursor, reset) = match sent.in_lineage(&lineage) {
        Some(Cursor::Start) => (Cursor::Start, false),
        Some(Cursor::Tail(seq)) if seq >= horizon && seq <= head => (Cursor::Tail(seq), false),
        Some(c @ Cursor::Snapshot { base, .. }) if base >= horizon && base <= head => (c, false),
        Some(_) | None => (Cursor::Start, true),
    };
    let mut page = match cursor {
        Cursor::Start => snapshot_page(conn, me, head, 0, None, limit, head).await?,
        Cursor::Snapshot { base, table, after } => {
            snapshot_page(conn, me, base, table, after, limit, head).await?
        }
        Cursor::Tail(seq) => tail_page(conn, me, seq, limit, entries).await?,
    };
    page.reset = reset;
    page.cursor = format!("{lineage}{LINEAGE_END}{}", page.cursor);
    Ok(page)
}

async fn snapshot_page(
    conn: &mut PgConnection,
    me: Uuid,
    base: i64,
    mut table: usize,
    mut after: Option<Uuid>,
    limit: u32,
    head: i64,
) -> Result<PullPage, sqlx::Error> {
    let mut changes = Vec::new();
    let mut bytes = 0;
    while let Some(&t) = SyncTable::ALL.get(table) {
        let room = limit.saturating_sub(u32::try_from(changes.len()).unwrap_or(u32::MAX));
        let budget = MAX_PULL_PAGE_BYTES.saturating_sub(bytes);
        if room == 0 || budget == 0 {
            break;
        }
        let (rows, size, exhausted) = snapshot_rows(conn, me, t, after, room, budget).await?;
        bytes += size;
        after = rows.last().map(|(id, _)| *id).or(after);
        changes.extend(rows.into_iter().map(|(id, Json(row))| RowChange {
            table: t,
            id,
            op: ChangeOp::Upsert,
            row: Some(RowData::from(row)),
        }));
        if exhausted {
            table += 1;
            after = None;
        } else if bytes >= MAX_PULL_PAGE_BYTES || changes.len() >= limit as usize {
            break;
        }
    }
    let (cursor, has_more) = if table >= SyncTable::ALL.len() {
        // Done: follow the log from where the snapshot stood.
        (Cursor::Tail(base), base < head)
    } else {
        (Cursor::Snapshot { base, table, after }, true)
    };
    Ok(PullPage {
        changes,
        cursor: cursor.encode(),
        has_more,
        reset: false,
    })
}

/// Where the log stands, and the lineage of the database it is in (see [`SentCursor`]).
struct Position {
    horizon: i64,
    head: i64,
    lineage: String,
}

/// A change-log entry: its position, table and row.
type Entry = (i64, String, Uuid);

/// Where the log stands and, with `tail_from`, the caller's first `limit` entries after it:
/// one round trip.
async fn position_and_changes(
    conn: &mut PgConnection,
    tail_from: Option<i64>,
    limit: u32,
) -> Result<(Position, Vec<Entry>), sqlx::Error> {
    type Answer = (i64, i64, String, Option<i64>, Option<String>, Option<Uuid>);
    let rows: Vec<Answer> = sqlx::query_as(
        "SELECT p.horizon, p.head, p.lineage, c.seq, c.tbl, c.row_id
         FROM (SELECT p.horizon, p.head,
                      left(md5(s.system_identifier::text || '/' || d.oid::text), 16) AS lineage
               FROM private.sync_position() p, pg_control_system() s, pg_database d
               WHERE d.datname = current_database()) p
         LEFT JOIN LATERAL private.sync_changes($1, $2) c ON $1 IS NOT NULL
         ORDER BY c.seq",
    )
    .bind(tail_from)
    .bind(i32::try_from(limit).unwrap_or(i32::MAX))
    .fetch_all(&mut *conn)
    .await?;
    let Some((horizon, head, lineage, ..)) = rows.first().cloned() else {
        return Err(sqlx::Error::RowNotFound);
    };
    let entries = rows
        .into_iter()
        .filter_map(|(.., seq, tbl, id)| Some((seq?, tbl?, id?)))
        .collect();
    Ok((
        Position {
            horizon,
            head,
            lineage,
        },
        entries,
    ))
}

/// Up to this many rows, a tail page reads its rows at once and measures them here; beyond,
/// it measures them in the database first, so rows past the page's byte budget never leave
/// it. A live change reaches a device as a page of a few rows: one round trip fewer.
const ROWS_READ_AT_ONCE: usize = 64;

async fn tail_page(
    conn: &mut PgConnection,
    me: Uuid,
    after: i64,
    limit: u32,
    entries: Vec<Entry>,
) -> Result<PullPage, sqlx::Error> {
    let mut has_more = entries.len() >= limit as usize;
    // Each row once per page, in the order of its first entry; its current state decides.
    let mut order: Vec<(i64, SyncTable, Uuid)> = Vec::new();
    let mut by_table: HashMap<SyncTable, Vec<Uuid>> = HashMap::new();
    for (seq, name, id) in &entries {
        // A table another migration tracks before this server knows it: skipped, not fatal.
        let Some(table) = SyncTable::from_name(name) else {
            continue;
        };
        let ids = by_table.entry(table).or_default();
        if !ids.contains(id) {
            ids.push(*id);
            order.push((*seq, table, *id));
        }
    }
    // The page ends where its rows reach the byte budget; the next page starts after the last
    // entry whose row it carries (a row repeated further on is simply sent again then).
    let mut sizes: HashMap<(SyncTable, Uuid), i64> = HashMap::new();
    let mut visible: HashMap<(SyncTable, Uuid), RowData> = HashMap::new();
    let read_at_once = order.len() <= ROWS_READ_AT_ONCE;
    for (table, ids) in &by_table {
        if read_at_once {
            for (id, Json(row)) in visible_rows(conn, me, *table, ids).await? {
                let size = i64::try_from(row.get().len()).unwrap_or(i64::MAX);
                sizes.insert((*table, id), size);
                visible.insert((*table, id), RowData::from(row));
            }
        } else {
            for (id, size) in visible_sizes(conn, me, *table, ids).await? {
                sizes.insert((*table, id), size);
            }
        }
    }
    let mut last = entries.last().map_or(after, |e| e.0);
    let mut total: usize = 0;
    for (i, (seq, table, id)) in order.iter().enumerate() {
        let size = usize::try_from(sizes.get(&(*table, *id)).copied().unwrap_or(0)).unwrap_or(0);
        if i > 0 && total + size > MAX_PULL_PAGE_BYTES {
            last = seq - 1;
            order.truncate(i);
            has_more = true;
            break;
        }
        total += size;
    }
    if !read_at_once {
        let mut wanted: HashMap<SyncTable, Vec<Uuid>> = HashMap::new();
        for (_, table, id) in &order {
            if sizes.contains_key(&(*table, *id)) {
                wanted.entry(*table).or_default().push(*id);
            }
        }
        for (table, ids) in &wanted {
            for (id, Json(row)) in visible_rows(conn, me, *table, ids).await? {
                visible.insert((*table, id), RowData::from(row));
            }
        }
    }
    let changes = order
        .into_iter()
        .map(|(_, table, id)| match visible.remove(&(table, id)) {
            Some(row) => RowChange {
                table,
                id,
                op: ChangeOp::Upsert,
                row: Some(row),
            },
            None => RowChange {
                table,
                id,
                op: ChangeOp::Delete,
                row: None,
            },
        })
        .collect();
    Ok(PullPage {
        changes,
        cursor: Cursor::Tail(last).encode(),
        has_more,
        reset: false,
    })
}

/// Whether the caller may record progress in `lesson` (it exists, and they may study it).
pub async fn may_study_lesson(conn: &mut PgConnection, lesson: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT private.may_study_lesson($1)")
        .bind(lesson)
        .fetch_one(conn)
        .await
}

/// What an earlier push answered for mutation `id`: `None` if it never arrived,
/// `Some(None)` if it was applied, `Some(Some(code, reason))` if it was refused.
pub async fn previous_outcome(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Option<(String, String)>>, sqlx::Error> {
    let row: Option<(Option<Value>,)> =
        sqlx::query_as("SELECT outcome FROM public.applied_mutations WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(outcome,)| outcome.map(|o| outcome_parts(&o))))
}

/// A stored refusal's code and reason.
fn outcome_parts(outcome: &Value) -> (String, String) {
    (
        outcome["code"].as_str().unwrap_or("rejected").to_owned(),
        outcome["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The lessons among `lessons` the caller may record progress in, each with its course (the
/// rule of [`may_study_lesson`], asked of a whole batch at once).
pub async fn lessons_i_may_study(
    conn: &mut PgConnection,
    lessons: &[Uuid],
) -> Result<HashMap<Uuid, Uuid>, sqlx::Error> {
    let rows: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT lesson_id, course_id FROM private.lessons_i_may_study($1)")
            .bind(lessons)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// What earlier pushes answered for these mutations, by id: `None` if applied,
/// `Some((code, reason))` if refused; an id that never arrived is not in the map.
pub async fn previous_outcomes(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Option<(String, String)>>, sqlx::Error> {
    let rows: Vec<(Uuid, Option<Value>)> =
        sqlx::query_as("SELECT id, outcome FROM public.applied_mutations WHERE id = ANY ($1)")
            .bind(ids)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, outcome)| (id, outcome.map(|o| outcome_parts(&o))))
        .collect())
}

/// Records that mutation `id` was refused, and why, so that a retry gets the same answer.
pub async fn record_rejection(
    conn: &mut PgConnection,
    user: Uuid,
    id: Uuid,
    kind: &str,
    code: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO public.applied_mutations (id, user_id, kind, outcome)
         VALUES ($1, $2, $3, jsonb_build_object('code', $4::text, 'reason', $5::text))
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(user)
    .bind(kind)
    .bind(code)
    .bind(reason)
    .execute(conn)
    .await
    .map(drop)
}

/// Moves the caller's last-writer-wins clock for (`kind`, `target`) to `at`; false when a write
/// with a later (or the same) client time was applied before, so this one must change nothing.
pub async fn clock_advance(
    conn: &mut PgConnection,
    kind: &str,
    target: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT private.sync_clock_advance($1, $2, $3)")
        .bind(kind)
        .bind(target)
        .bind(at)
        .fetch_one(conn)
        .await
}

/// Writes or rewrites the caller's review of a course.
pub async fn put_course_review(
    conn: &mut PgConnection,
    user: Uuid,
    course: Uuid,
    rating: i32,
    text: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO public.course_reviews (user_id, course_id, rating, review_text)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, course_id) DO UPDATE
         SET rating = EXCLUDED.rating, review_text = EXCLUDED.review_text",
    )
    .bind(user)
    .bind(course)
    .bind(rating)
    .bind(text)
    .execute(conn)
    .await
    .map(drop)
}

/// Writes or rewrites the caller's review of a lab.
pub async fn put_lab_review(
    conn: &mut PgConnection,
    user: Uuid,
    lab: Uuid,
    rating: i32,
    text: Option<&str>,
    difficulty: Option<i32>,
    time_accuracy: Option<i32>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO public.lab_reviews (user_id, lab_id, rating, review_text, difficulty_rating,
                                         time_accuracy_rating)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, lab_id) DO UPDATE
         SET rating = EXCLUDED.rating, review_text = EXCLUDED.review_text,
             difficulty_rating = EXCLUDED.difficulty_rating,
             time_accuracy_rating = EXCLUDED.time_accuracy_rating",
    )
    .bind(user)
    .bind(lab)
    .bind(rating)
    .bind(text)
    .bind(difficulty)
    .bind(time_accuracy)
    .execute(conn)
    .await
    .map(drop)
}

/// Deletes the caller's review of a course, if there is one.
pub async fn delete_course_review(
    conn: &mut PgConnection,
    user: Uuid,
    course: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM public.course_reviews WHERE user_id = $1 AND course_id = $2")
        .bind(user)
        .bind(course)
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes the caller's review of a lab, if there is one.
pub async fn delete_lab_review(
    conn: &mut PgConnection,
    user: Uuid,
    lab: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM public.lab_reviews WHERE user_id = $1 AND lab_id = $2")
        .bind(user)
        .bind(lab)
        .execute(conn)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::{Cursor, SentCursor};

    #[test]
    fn a_cursor_of_another_lineage_is_not_ours_and_one_without_is_taken_as_it_is() {
        let here = "0123456789abcdef";
        let read = |text| SentCursor::parse(text).in_lineage(here);
        assert_eq!(read(Some("0123456789abcdef:42")), Some(Cursor::Tail(42)));
        assert_eq!(read(Some("fedcba9876543210:42")), None);
        assert_eq!(read(Some("42")), Some(Cursor::Tail(42)));
        assert_eq!(
            read(Some("0123456789abcdef:s7.2.-")),
            Some(Cursor::Snapshot {
                base: 7,
                table: 2,
                after: None
            })
        );
        assert_eq!(read(None), Some(Cursor::Start));
    }
}
