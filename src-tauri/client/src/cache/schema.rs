//! The cache's own migrations, applied in order and counted in `PRAGMA user_version`. Like the
//! server's: never edit one that has shipped, add the next.

use rusqlite::Connection;

use super::CacheError;

const MIGRATIONS: &[&str] = &[
    // 1: synced rows, sync state, the outbox, rejected writes, downloads, catalog search.
    r"
    -- A rowid table, not WITHOUT ROWID: with (tbl, id) as the primary key SQLite's planner
    -- prefers its `tbl = ?` prefix to the expression indexes below and scans a whole table.
    CREATE TABLE rows (
      tbl  TEXT NOT NULL,
      id   TEXT NOT NULL,
      data TEXT NOT NULL CHECK (json_valid(data)),
      UNIQUE (tbl, id)
    );
    -- How the screens find rows: children by parent, the caller's rows by what they are about.
    -- Partial indexes, one per table and field: a row pays only for the index of its own
    -- table (a JSON field is extracted once, not once per index). Queries name the table as
    -- a literal so SQLite can use them.
    CREATE INDEX modules_by_course ON rows (json_extract(data, '$.course_id'))
      WHERE tbl = 'course_modules';
    CREATE INDEX lessons_by_module ON rows (json_extract(data, '$.module_id'))
      WHERE tbl = 'course_lessons';
    CREATE INDEX progress_by_lesson ON rows (json_extract(data, '$.lesson_id'))
      WHERE tbl = 'user_progress';
    CREATE INDEX enrollments_by_course ON rows (json_extract(data, '$.course_id'))
      WHERE tbl = 'enrollments';
    CREATE INDEX reviews_by_course ON rows (json_extract(data, '$.course_id'))
      WHERE tbl = 'course_reviews';
    CREATE INDEX assessments_by_course ON rows (json_extract(data, '$.course_id'))
      WHERE tbl = 'assessments';
    CREATE INDEX questions_by_assessment ON rows (json_extract(data, '$.assessment_id'))
      WHERE tbl = 'assessment_questions';
    CREATE INDEX attempts_by_assessment ON rows (json_extract(data, '$.assessment_id'))
      WHERE tbl = 'user_assessment_attempts';
    CREATE INDEX answers_by_attempt ON rows (json_extract(data, '$.attempt_id'))
      WHERE tbl = 'user_assessment_answers';

    CREATE TABLE sync_state (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );

    -- Writes made here and not yet answered by the server, oldest first. `row_key` names the
    -- local row the write changed, so a pulled version of that row does not overwrite it
    -- while the write waits; `tbl`, `row_id` and `undo` (the row before the write, NULL if
    -- there was none) put it back if the server refuses the write.
    CREATE TABLE outbox (
      seq        INTEGER PRIMARY KEY AUTOINCREMENT,
      id         TEXT NOT NULL UNIQUE,
      body       TEXT NOT NULL CHECK (json_valid(body)),
      row_key    TEXT,
      tbl        TEXT,
      row_id     TEXT,
      undo       TEXT,
      tries      INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      queued_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX outbox_by_row ON outbox (row_key);

    -- Rows an offline write created under an id of this device's, by natural key: when the
    -- server's row for the same thing arrives (under its own id), the local one goes.
    CREATE TABLE shadows (
      row_key TEXT PRIMARY KEY,
      tbl     TEXT NOT NULL,
      id      TEXT NOT NULL
    );

    -- Writes the server refused, kept to tell the learner why.
    CREATE TABLE rejected (
      id          TEXT PRIMARY KEY,
      body        TEXT NOT NULL,
      code        TEXT NOT NULL,
      reason      TEXT NOT NULL,
      rejected_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );

    CREATE TABLE downloads (
      url         TEXT PRIMARY KEY,
      lesson_id   TEXT,
      path        TEXT NOT NULL,
      bytes_total INTEGER,
      bytes_done  INTEGER NOT NULL DEFAULT 0,
      etag        TEXT,
      state       TEXT NOT NULL CHECK (state IN ('partial', 'complete')),
      updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );

    -- Offline catalog search over published courses: title, descriptions, tags.
    CREATE VIRTUAL TABLE course_search USING fts5 (
      id UNINDEXED, title, short_description, description, tags,
      tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER course_search_insert AFTER INSERT ON rows WHEN new.tbl = 'courses' BEGIN
      INSERT INTO course_search (id, title, short_description, description, tags)
      VALUES (new.id, json_extract(new.data, '$.title'),
              coalesce(json_extract(new.data, '$.short_description'), ''),
              coalesce(json_extract(new.data, '$.description'), ''),
              coalesce((SELECT group_concat(value, ' ') FROM json_each(new.data, '$.tags')), ''));
    END;
    CREATE TRIGGER course_search_delete AFTER DELETE ON rows WHEN old.tbl = 'courses' BEGIN
      DELETE FROM course_search WHERE id = old.id;
    END;
    CREATE TRIGGER course_search_update AFTER UPDATE ON rows WHEN new.tbl = 'courses' BEGIN
      DELETE FROM course_search WHERE id = old.id;
      INSERT INTO course_search (id, title, short_description, description, tags)
      VALUES (new.id, json_extract(new.data, '$.title'),
              coalesce(json_extract(new.data, '$.short_description'), ''),
              coalesce(json_extract(new.data, '$.description'), ''),
              coalesce((SELECT group_concat(value, ' ') FROM json_each(new.data, '$.tags')), ''));
    END;
    ",
    // 2: the catalog's order (best rated first, then by title) as an index, so a page of it
    // reads a page of rows, not every course: with 10,000 courses the first page came from a
    // sort of all of them, and their pages filled the page cache.
    r"
    CREATE INDEX courses_by_rating ON rows (
      CAST(coalesce(json_extract(data, '$.rating'), '0') AS REAL) DESC,
      json_extract(data, '$.title')
    ) WHERE tbl = 'courses';
    ",
    // 3: courses (or single modules) the learner keeps offline: the download queue, which
    // survives a restart. An empty module_id is the whole course.
    r"
    CREATE TABLE offline_requests (
      course_id    TEXT NOT NULL,
      module_id    TEXT NOT NULL DEFAULT '',
      paused       INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
      requested_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      PRIMARY KEY (course_id, module_id)
    );
    ",
    // 4: files downloaded by themselves to keep the next lessons of enrolled courses offline
    // (Settings' "keep the next lessons downloaded"), so they are deleted again once their
    // lesson is done, and only those: a file the learner downloaded is theirs to delete.
    r"
    CREATE TABLE ahead_files (
      url       TEXT PRIMARY KEY,
      course_id TEXT NOT NULL
    );
    ",
];

/// Applies the migrations this file has not seen, each in its own transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), CacheError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if version > known {
        return Err(CacheError::TooNew {
            found: version,
            known,
        });
    }
    for (n, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", n + 1)?;
        tx.commit()?;
    }
    Ok(())
}
