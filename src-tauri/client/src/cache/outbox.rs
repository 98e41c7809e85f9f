//! The outbox: offline writes waiting for the server, and the ones it refused.

use rusqlite::{OptionalExtension as _, params};
use serde_json::Value;
use skilltrack_protocol::sync::{Mutation, MutationOutcome, MutationResult, SyncTable};
use uuid::Uuid;

use super::{Cache, CacheError};

/// The refused writes that submitted attempt `?1` (a condition on `rejected`).
const SUBMISSION_OF_ATTEMPT: &str = "json_extract(body, '$.change.kind') = 'assessment_submit'
     AND json_extract(body, '$.change.attempt_id') = ?1";

/// A local write: the row as it should look here now, and the mutation that tells the server.
#[derive(Debug, Clone)]
pub struct PendingWrite {
    /// The local row to write (`None`: delete `row_id` locally).
    pub table: SyncTable,
    /// Its id here.
    pub row_id: Uuid,
    /// The row's new columns (`None` deletes it).
    pub row: Option<Value>,
    /// Which row it is, for pulls to leave alone until answered ([`super::row_key`]).
    pub row_key: String,
    /// What to send.
    pub mutation: Mutation,
}

/// A queued mutation.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    /// The mutation.
    pub mutation: Mutation,
    /// How many pushes tried it.
    pub tries: i64,
    /// Why the last try failed, if it did.
    pub last_error: Option<String>,
}

/// A write the server refused, kept to show the learner.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Rejection {
    /// The mutation's id.
    pub id: Uuid,
    /// What it was.
    pub mutation: Value,
    /// The server's stable code.
    pub code: String,
    /// The server's reason, in words.
    pub reason: String,
    /// When.
    pub rejected_at: String,
}

impl Cache {
    /// Makes a write locally and queues it for the server, in one transaction.
    pub fn record(&mut self, write: &PendingWrite) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        let before: Option<String> = tx
            .query_row(
                "SELECT data FROM rows WHERE tbl = ?1 AND id = ?2",
                params![write.table.as_str(), write.row_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match &write.row {
            Some(row) => tx.execute(
                "INSERT INTO rows (tbl, id, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data",
                params![
                    write.table.as_str(),
                    write.row_id.to_string(),
                    row.to_string()
                ],
            )?,
            None => tx.execute(
                "DELETE FROM rows WHERE tbl = ?1 AND id = ?2",
                params![write.table.as_str(), write.row_id.to_string()],
            )?,
        };
        if before.is_none() && write.row.is_some() {
            tx.execute(
                "INSERT INTO shadows (row_key, tbl, id) VALUES (?1, ?2, ?3)
                 ON CONFLICT (row_key) DO UPDATE SET tbl = excluded.tbl, id = excluded.id",
                params![
                    write.row_key,
                    write.table.as_str(),
                    write.row_id.to_string()
                ],
            )?;
        }
        tx.execute(
            "INSERT INTO outbox (id, body, row_key, tbl, row_id, undo)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                write.mutation.id.to_string(),
                serde_json::to_string(&write.mutation)?,
                write.row_key,
                write.table.as_str(),
                write.row_id.to_string(),
                before
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The oldest `limit` queued mutations.
    pub fn outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>, CacheError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT body, tries, last_error FROM outbox ORDER BY seq LIMIT ?1")?;
        let rows = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(body, tries, last_error)| {
                Ok(OutboxEntry {
                    mutation: serde_json::from_str(&body)?,
                    tries,
                    last_error,
                })
            })
            .collect()
    }

    /// How many writes wait for the server.
    pub fn outbox_len(&self) -> Result<i64, CacheError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
    }

    /// Takes the server's answers: applied and duplicate writes leave the outbox, refused ones
    /// move to `rejected` and their local change is undone (unless a later write to the same
    /// row still waits); all in one transaction, so an answer is never half-recorded.
    pub fn resolve(&mut self, results: &[MutationResult]) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        {
            let mut entry = tx.prepare_cached(
                "SELECT body, tbl, row_id, undo, row_key, seq FROM outbox WHERE id = ?1",
            )?;
            let mut later =
                tx.prepare_cached("SELECT 1 FROM outbox WHERE row_key = ?1 AND seq > ?2 LIMIT 1")?;
            let mut remove = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
            let mut reject = tx.prepare_cached(
                "INSERT INTO rejected (id, body, code, reason) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO NOTHING",
            )?;
            let mut restore = tx.prepare_cached(
                "INSERT INTO rows (tbl, id, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data",
            )?;
            let mut drop_row = tx.prepare_cached("DELETE FROM rows WHERE tbl = ?1 AND id = ?2")?;
            for result in results {
                let id = result.id.to_string();
                if let MutationOutcome::Rejected { code, reason } = &result.outcome {
                    type Entry = (
                        String,
                        Option<String>,
                        Option<String>,
                        Option<String>,
                        Option<String>,
                        i64,
                    );
                    let found: Option<Entry> = entry
                        .query_row([&id], |r| {
                            Ok((
                                r.get(0)?,
                                r.get(1)?,
                                r.get(2)?,
                                r.get(3)?,
                                r.get(4)?,
                                r.get(5)?,
                            ))
                        })
                        .optional()?;
                    if let Some((body, tbl, row_id, undo, row_key, seq)) = found {
                        reject.execute(params![id, body, code, reason])?;
                        let superseded = match &row_key {
                            Some(k) => later.exists(params![k, seq])?,
                            None => false,
                        };
                        if let (Some(tbl), Some(row_id), false) = (tbl, row_id, superseded) {
                            match undo {
                                Some(before) => restore.execute(params![tbl, row_id, before])?,
                                None => drop_row.execute(params![tbl, row_id])?,
                            };
                        }
                    }
                }
                remove.execute([&id])?;
            }
        }
        crate::fault::reached(crate::fault::FaultPoint::PushResolveUncommitted);
        tx.commit()?;
        Ok(())
    }

    /// Notes a failed push of these mutations (they stay queued).
    pub fn note_push_failure(&self, ids: &[Uuid], error: &str) -> Result<(), CacheError> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE outbox SET tries = tries + 1, last_error = ?2 WHERE id = ?1")?;
        for id in ids {
            stmt.execute(params![id.to_string(), error])?;
        }
        Ok(())
    }

    /// Writes the server refused, newest first.
    pub fn rejections(&self) -> Result<Vec<Rejection>, CacheError> {
        self.rejections_where("true", [])
    }

    /// The newest refusal of a submission of this attempt, if the server refused one.
    pub fn attempt_refusal(&self, attempt_id: Uuid) -> Result<Option<Rejection>, CacheError> {
        Ok(self
            .rejections_where(SUBMISSION_OF_ATTEMPT, [attempt_id.to_string()])?
            .into_iter()
            .next())
    }

    /// Refused writes matching `filter` (a condition on `rejected`), newest first.
    fn rejections_where(
        &self,
        filter: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Rejection>, CacheError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, body, code, reason, rejected_at FROM rejected WHERE {filter}
             ORDER BY rejected_at DESC"
        ))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, body, code, reason, rejected_at)| {
                Ok(Rejection {
                    id: id.parse().unwrap_or_default(),
                    mutation: serde_json::from_str(&body)?,
                    code,
                    reason,
                    rejected_at,
                })
            })
            .collect()
    }

    /// Throws away an attempt that exists only on this device and was never submitted (or
    /// whose submission the server refused, which puts it back in progress), with the
    /// refusals of its submissions; in one transaction. False when there was no such attempt
    /// (one waiting to be sent, or the server's, is never thrown away here).
    pub fn discard_local_attempt(&mut self, attempt_id: Uuid) -> Result<bool, CacheError> {
        let tx = self.conn.transaction()?;
        let deleted = tx.execute(
            "DELETE FROM rows WHERE tbl = 'user_assessment_attempts' AND id = ?1
               AND json_extract(data, '$.local_only') IS 1
               AND json_extract(data, '$.completed_at') IS NULL",
            [attempt_id.to_string()],
        )?;
        if deleted > 0 {
            tx.execute(
                &format!("DELETE FROM rejected WHERE {SUBMISSION_OF_ATTEMPT}"),
                [attempt_id.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(deleted > 0)
    }

    /// Forgets a rejection the learner has read.
    pub fn dismiss_rejection(&self, id: Uuid) -> Result<(), CacheError> {
        self.conn
            .execute("DELETE FROM rejected WHERE id = ?1", [id.to_string()])?;
        Ok(())
    }
}
