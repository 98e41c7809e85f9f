-- Analytics (see server/src/db/analytics.rs and docs/decisions.md, "Analytics").
--
-- Ingest needs nothing new: `analytics_events.id` is the primary key, so a batch inserted with
-- `ON CONFLICT DO NOTHING` is idempotent by event id, and the policies of 0006 already say who
-- may write (signed-in users, their own events) and read (admins) them.
--
-- The admins' "active learners per day" summary reads activities by time; the spec's index on
-- user_activities leads with user_id, so a range of days would scan the whole table.
CREATE INDEX idx_user_activities_created ON user_activities(created_at);
