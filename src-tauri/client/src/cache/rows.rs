//! Synced rows: applying pulled pages, and reading rows back.

use rusqlite::{OptionalExtension as _, params};
use serde_json::Value;
use skilltrack_protocol::sync::{ChangeOp, PullPage, SyncTable};
use uuid::Uuid;

use super::{Cache, CacheError};
use crate::fault::FaultPoint;

/// What identifies a row for local writes: its natural key where the server gives a new row
/// its own id (a progress row is the learner's progress *in a lesson*), else its id.
pub type RowKey = String;

/// The fields that identify a row of `table` besides its id, where a learner's offline write
/// creates it before the server has named it.
fn natural_key(table: SyncTable) -> Option<&'static [&'static str]> {
    match table {
        SyncTable::UserProgress => Some(&["user_id", "lesson_id"]),
        SyncTable::CourseReviews | SyncTable::Enrollments => Some(&["user_id", "course_id"]),
        SyncTable::LabReviews => Some(&["user_id", "lab_id"]),
        SyncTable::UserBookmarks => Some(&["user_id", "entity_type", "entity_id"]),
        _ => None,
    }
}

/// The key of a row of `table` with these columns.
pub fn row_key(table: SyncTable, id: Uuid, row: &Value) -> RowKey {
    match natural_key(table) {
        Some(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|f| match &row[*f] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            format!("{}:{}", table.as_str(), parts.join("/"))
        }
        None => format!("{}:{id}", table.as_str()),
    }
}

impl Cache {
    /// Applies a pulled page and stores the cursor after it, in one transaction: after a crash
    /// the cache holds either the page and its cursor or neither. A row with a local write
    /// still waiting in the outbox keeps its local version until the write is answered.
    pub fn apply_page(&mut self, page: &PullPage) -> Result<usize, CacheError> {
        let tx = self.conn.transaction()?;
        if page.reset {
            // A new snapshot follows: forget every synced row except those with local writes
            // waiting (the snapshot brings the server's version of the rest).
            tx.execute(
                "DELETE FROM rows WHERE NOT EXISTS (
                   SELECT 1 FROM outbox o WHERE o.row_key = rows.tbl || ':' || rows.id)
                 AND json_extract(data, '$.local_only') IS NOT 1",
                [],
            )?;
        }
        let mut applied = 0;
        // With nothing queued and no offline-made rows (the usual case), a pulled row needs no
        // checks against them: two statements fewer per row.
        let local_writes: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM shadows)",
            [],
            |r| r.get(0),
        )?;
        {
            let mut pending = tx.prepare_cached("SELECT 1 FROM outbox WHERE row_key = ?1")?;
            let mut upsert = tx.prepare_cached(
                "INSERT INTO rows (tbl, id, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data
                 WHERE rows.data IS NOT excluded.data",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM rows WHERE tbl = ?1 AND id = ?2")?;
            let mut shadow =
                tx.prepare_cached("DELETE FROM shadows WHERE row_key = ?1 RETURNING tbl, id")?;
            let mut previous_table = None;
            for change in &page.changes {
                if previous_table.is_some_and(|t| t != change.table) {
                    crate::fault::reached(FaultPoint::PullBetweenTables);
                }
                previous_table = Some(change.table);
                let table = change.table.as_str();
                let id = change.id.to_string();
                match (&change.op, &change.row) {
                    (ChangeOp::Upsert, Some(row)) => {
                        if local_writes {
                            let key = row_key(change.table, change.id, &row.to_value()?);
                            if pending.exists([&key])? {
                                continue;
                            }
                            // The local row this server row replaces (made offline, under an
                            // id of this device's).
                            let local: Option<(String, String)> = shadow
                                .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?)))
                                .optional()?;
                            if let Some((tbl, local_id)) = local.filter(|(_, l)| *l != id) {
                                delete.execute(params![tbl, local_id])?;
                            }
                        }
                        // Stored as the text the server sent: no tree built for a row kept as is.
                        upsert.execute(params![table, id, row.as_json()])?;
                    }
                    (ChangeOp::Delete, _) | (ChangeOp::Upsert, None) => {
                        let key = format!("{table}:{id}");
                        if local_writes && pending.exists([&key])? {
                            continue;
                        }
                        delete.execute(params![table, id])?;
                    }
                }
                applied += 1;
            }
        }
        crate::fault::reached(FaultPoint::PullRowsWritten);
        tx.execute(
            "INSERT INTO sync_state (key, value) VALUES ('cursor', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [&page.cursor],
        )?;
        tx.commit()?;
        Ok(applied)
    }

    /// Writes a row only this device knows yet (an attempt taken offline, before it is
    /// submitted): no outbox entry, and pulls never remove it (`local_only: true`).
    pub fn put_local_row(&self, table: SyncTable, id: Uuid, row: &Value) -> Result<(), CacheError> {
        let mut row = row.clone();
        row["local_only"] = Value::Bool(true);
        self.conn.execute(
            "INSERT INTO rows (tbl, id, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data",
            params![table.as_str(), id.to_string(), row.to_string()],
        )?;
        Ok(())
    }

    /// One row.
    pub fn row(&self, table: SyncTable, id: Uuid) -> Result<Option<Value>, CacheError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT data FROM rows WHERE tbl = ?1 AND id = ?2",
                params![table.as_str(), id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }

    /// Rows of `table` whose `field` (`course_id`, `module_id`, `lesson_id`, `assessment_id` or
    /// `attempt_id`; indexed for the tables the screens ask about) is `value`.
    pub fn rows_where(
        &self,
        table: SyncTable,
        field: &str,
        value: &str,
    ) -> Result<Vec<Value>, CacheError> {
        let path = match field {
            "course_id" => "$.course_id",
            "module_id" => "$.module_id",
            "lesson_id" => "$.lesson_id",
            "assessment_id" => "$.assessment_id",
            "attempt_id" => "$.attempt_id",
            _ => "$.id",
        };
        // The table as a literal (it comes from the enum), so the partial index applies.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT data FROM rows WHERE tbl = '{}' AND json_extract(data, '{path}') = ?1",
            table.as_str()
        ))?;
        let rows = stmt
            .query_map(params![value], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .map(|t| serde_json::from_str(t).map_err(CacheError::from))
            .collect()
    }

    /// Every row of `table`.
    pub fn all_rows(&self, table: SyncTable) -> Result<Vec<Value>, CacheError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM rows WHERE tbl = ?1")?;
        let rows = stmt
            .query_map([table.as_str()], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .map(|t| serde_json::from_str(t).map_err(CacheError::from))
            .collect()
    }

    /// How many rows of each synced table the cache holds.
    pub fn row_counts(&self) -> Result<Vec<(String, i64)>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT tbl, count(*) FROM rows GROUP BY tbl ORDER BY tbl")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Inserts rows straight into the store, one transaction, no sync logic: the raw rate the
    /// sync benchmark compares the real path with.
    pub fn insert_raw(&mut self, rows: &[(SyncTable, Uuid, Value)]) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO rows (tbl, id, data) VALUES (?1, ?2, ?3)",
            )?;
            for (table, id, row) in rows {
                stmt.execute(params![table.as_str(), id.to_string(), row.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
