//! Reviews, helpful votes, bookmarks and notifications. Everything runs in the caller's request
//! transaction, so RLS decides which rows are reachable; the database's triggers keep ratings,
//! `helpful_votes` and `is_verified_purchase` (`migrations/0011_engagement.sql`).
//!
//! Routes under `/me` also filter on the caller's id: that scopes them to the caller (an admin,
//! whom RLS lets see everyone's rows, still gets only their own), it does not authorize.

use chrono::{DateTime, Utc};
use skilltrack_protocol::catalog::PublicProfile;
use skilltrack_protocol::engagement::{
    Bookmark, BookmarkEntity, CourseReview, CourseReviewPatch, CourseReviewWrite, HelpfulVotes,
    LabReview, LabReviewPatch, LabReviewWrite, Notification,
};
use skilltrack_protocol::{NotificationStatus, NotificationType};
use sqlx::PgConnection;
use uuid::Uuid;

use super::decode;

/// Where a page starts: after this `(created_at, id)`, newest first.
pub type Cursor = (DateTime<Utc>, Uuid);

/// Which kind of review a vote or a look-up is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKind {
    /// `course_reviews`.
    Course,
    /// `lab_reviews`.
    Lab,
}

impl ReviewKind {
    fn table(self) -> &'static str {
        match self {
            Self::Course => "public.course_reviews",
            Self::Lab => "public.lab_reviews",
        }
    }

    /// The column of `review_votes` that points at this kind of review.
    fn vote_column(self) -> &'static str {
        match self {
            Self::Course => "course_review_id",
            Self::Lab => "lab_review_id",
        }
    }
}

// Reviews --------------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct CourseReviewRow {
    id: Uuid,
    course_id: Uuid,
    user_id: Uuid,
    rating: i32,
    review_text: Option<String>,
    is_verified_purchase: bool,
    helpful_votes: i32,
    voted_by_me: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    full_name: Option<String>,
    avatar_url: Option<String>,
    bio: Option<String>,
}

impl From<CourseReviewRow> for CourseReview {
    fn from(r: CourseReviewRow) -> Self {
        Self {
            id: r.id,
            course_id: r.course_id,
            reviewer: PublicProfile {
                id: r.user_id,
                full_name: r.full_name,
                avatar_url: r.avatar_url,
                bio: r.bio,
            },
            rating: r.rating,
            review_text: r.review_text,
            is_verified_purchase: r.is_verified_purchase,
            helpful_votes: r.helpful_votes,
            voted_by_me: r.voted_by_me,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LabReviewRow {
    id: Uuid,
    lab_id: Uuid,
    user_id: Uuid,
    rating: i32,
    review_text: Option<String>,
    difficulty_rating: Option<i32>,
    time_accuracy_rating: Option<i32>,
    helpful_votes: i32,
    voted_by_me: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    full_name: Option<String>,
    avatar_url: Option<String>,
    bio: Option<String>,
}

impl From<LabReviewRow> for LabReview {
    fn from(r: LabReviewRow) -> Self {
        Self {
            id: r.id,
            lab_id: r.lab_id,
            reviewer: PublicProfile {
                id: r.user_id,
                full_name: r.full_name,
                avatar_url: r.avatar_url,
                bio: r.bio,
            },
            rating: r.rating,
            review_text: r.review_text,
            difficulty_rating: r.difficulty_rating,
            time_accuracy_rating: r.time_accuracy_rating,
            helpful_votes: r.helpful_votes,
            voted_by_me: r.voted_by_me,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Reviews of one kind, picked by `selection` (a `WHERE` clause and any `ORDER BY`/`LIMIT`),
/// each with its reviewer's public card (one call of `public_profile_cards` per page) and
/// whether the caller voted for it; newest first.
fn review_query(kind: ReviewKind, selection: &str) -> String {
    let columns = match kind {
        ReviewKind::Course => "r.course_id, r.is_verified_purchase",
        ReviewKind::Lab => "r.lab_id, r.difficulty_rating, r.time_accuracy_rating",
    };
    let (table, vote_column) = (kind.table(), kind.vote_column());
    format!(
        "WITH page AS (
           SELECT r.id, r.user_id, r.rating, r.review_text, r.helpful_votes, r.created_at,
                  r.updated_at, {columns},
                  EXISTS (SELECT 1 FROM public.review_votes v
                          WHERE v.{vote_column} = r.id AND v.user_id = (SELECT auth.uid()))
                    AS voted_by_me
           FROM {table} r
           {selection}
         ),
         cards AS (SELECT * FROM public.public_profile_cards(ARRAY(SELECT user_id FROM page)))
         SELECT page.*, cards.full_name, cards.avatar_url, cards.bio
         FROM page LEFT JOIN cards ON cards.id = page.user_id
         ORDER BY page.created_at DESC, page.id DESC"
    )
}

/// A page of one parent's reviews: `$1` the course or lab, `$2`/`$3` the cursor, `$4` the limit.
fn page_of(parent_column: &str) -> String {
    format!(
        "WHERE r.{parent_column} = $1
           AND ($2::timestamptz IS NULL OR (r.created_at, r.id) < ($2, $3))
         ORDER BY r.created_at DESC, r.id DESC
         LIMIT $4"
    )
}

/// One review: `$1`.
const BY_ID: &str = "WHERE r.id = $1";

/// Whether the caller may see this course (published, or theirs to manage).
pub async fn course_visible(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM public.courses WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Whether the caller may see this lab.
pub async fn lab_visible(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM public.labs WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// A course's reviews the caller may read, newest first, after `cursor`.
pub async fn course_reviews(
    conn: &mut PgConnection,
    course_id: Uuid,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Vec<CourseReview>, sqlx::Error> {
    let rows = sqlx::query_as::<_, CourseReviewRow>(&review_query(
        ReviewKind::Course,
        &page_of("course_id"),
    ))
    .bind(course_id)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(CourseReview::from).collect())
}

/// A lab's reviews the caller may read, newest first, after `cursor`.
pub async fn lab_reviews(
    conn: &mut PgConnection,
    lab_id: Uuid,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Vec<LabReview>, sqlx::Error> {
    let rows =
        sqlx::query_as::<_, LabReviewRow>(&review_query(ReviewKind::Lab, &page_of("lab_id")))
            .bind(lab_id)
            .bind(cursor.map(|c| c.0))
            .bind(cursor.map(|c| c.1))
            .bind(i64::from(limit))
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(LabReview::from).collect())
}

/// One course review, if the caller may read it.
pub async fn course_review(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CourseReview>, sqlx::Error> {
    sqlx::query_as::<_, CourseReviewRow>(&review_query(ReviewKind::Course, BY_ID))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map(|r| r.map(CourseReview::from))
}

/// One lab review, if the caller may read it.
pub async fn lab_review(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LabReview>, sqlx::Error> {
    sqlx::query_as::<_, LabReviewRow>(&review_query(ReviewKind::Lab, BY_ID))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map(|r| r.map(LabReview::from))
}

/// Writes the caller's review of a course; its id. RLS refuses (42501) a learner who is not
/// enrolled; a second review by the same learner is a unique violation (23505).
pub async fn insert_course_review(
    conn: &mut PgConnection,
    user_id: Uuid,
    course_id: Uuid,
    write: &CourseReviewWrite,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO public.course_reviews (user_id, course_id, rating, review_text)
         VALUES ($1, $2, $3, nullif($4, '')) RETURNING id",
    )
    .bind(user_id)
    .bind(course_id)
    .bind(write.rating)
    .bind(write.review_text.as_deref())
    .fetch_one(conn)
    .await
}

/// Writes the caller's review of a lab; its id. RLS refuses (42501) a learner who has never
/// started the lab; a second review is a unique violation (23505).
pub async fn insert_lab_review(
    conn: &mut PgConnection,
    user_id: Uuid,
    lab_id: Uuid,
    write: &LabReviewWrite,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO public.lab_reviews
           (user_id, lab_id, rating, review_text, difficulty_rating, time_accuracy_rating)
         VALUES ($1, $2, $3, nullif($4, ''), $5, $6) RETURNING id",
    )
    .bind(user_id)
    .bind(lab_id)
    .bind(write.rating)
    .bind(write.review_text.as_deref())
    .bind(write.difficulty_rating)
    .bind(write.time_accuracy_rating)
    .fetch_one(conn)
    .await
}

/// Applies a (validated) patch to a course review the caller may change (their own; any, for an
/// admin); false when there is none.
pub async fn update_course_review(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &CourseReviewPatch,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE public.course_reviews SET
           rating = coalesce($2, rating),
           review_text = CASE WHEN $3::text IS NULL THEN review_text ELSE nullif($3, '') END
         WHERE id = $1",
    )
    .bind(id)
    .bind(patch.rating)
    .bind(patch.review_text.as_deref())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Applies a (validated) patch to a lab review the caller may change; false when there is none.
pub async fn update_lab_review(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &LabReviewPatch,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE public.lab_reviews SET
           rating = coalesce($2, rating),
           review_text = CASE WHEN $3::text IS NULL THEN review_text ELSE nullif($3, '') END,
           difficulty_rating = coalesce($4, difficulty_rating),
           time_accuracy_rating = coalesce($5, time_accuracy_rating)
         WHERE id = $1",
    )
    .bind(id)
    .bind(patch.rating)
    .bind(patch.review_text.as_deref())
    .bind(patch.difficulty_rating)
    .bind(patch.time_accuracy_rating)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a review the caller may delete; false when there is none.
pub async fn delete_review(
    conn: &mut PgConnection,
    kind: ReviewKind,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!("DELETE FROM {} WHERE id = $1", kind.table()))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

// Helpful votes --------------------------------------------------------------------------------

/// The author of a review the caller may read; `None` when there is no such review for them.
pub async fn review_author(
    conn: &mut PgConnection,
    kind: ReviewKind,
    id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT user_id FROM {} WHERE id = $1",
        kind.table()
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Records the caller's vote (a second one changes nothing). The database refuses a vote for
/// one's own review (23514) and for a review the caller cannot see (42501).
pub async fn vote(
    conn: &mut PgConnection,
    kind: ReviewKind,
    user_id: Uuid,
    review_id: Uuid,
) -> Result<(), sqlx::Error> {
    let column = kind.vote_column();
    sqlx::query(&format!(
        "INSERT INTO public.review_votes (user_id, {column}) VALUES ($1, $2)
         ON CONFLICT (user_id, {column}) DO NOTHING"
    ))
    .bind(user_id)
    .bind(review_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Takes the caller's vote back, if there is one.
pub async fn unvote(
    conn: &mut PgConnection,
    kind: ReviewKind,
    user_id: Uuid,
    review_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "DELETE FROM public.review_votes WHERE user_id = $1 AND {} = $2",
        kind.vote_column()
    ))
    .bind(user_id)
    .bind(review_id)
    .execute(conn)
    .await
    .map(drop)
}

/// A review's vote count and whether the caller's vote is in it.
pub async fn helpful_votes(
    conn: &mut PgConnection,
    kind: ReviewKind,
    review_id: Uuid,
) -> Result<Option<HelpfulVotes>, sqlx::Error> {
    let row: Option<(i32, bool)> = sqlx::query_as(&format!(
        "SELECT r.helpful_votes,
                EXISTS (SELECT 1 FROM public.review_votes v
                        WHERE v.{} = r.id AND v.user_id = (SELECT auth.uid()))
         FROM {} r WHERE r.id = $1",
        kind.vote_column(),
        kind.table()
    ))
    .bind(review_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(helpful_votes, voted_by_me)| HelpfulVotes {
        review_id,
        helpful_votes,
        voted_by_me,
    }))
}

// Bookmarks ------------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct BookmarkRow {
    id: Uuid,
    entity_type: String,
    entity_id: Uuid,
    title: Option<String>,
    slug: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<BookmarkRow> for Bookmark {
    type Error = sqlx::Error;
    fn try_from(r: BookmarkRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: r.id,
            entity_type: decode::<BookmarkEntity>("entity_type", &r.entity_type)?,
            entity_id: r.entity_id,
            title: r.title,
            slug: r.slug,
            created_at: r.created_at,
        })
    }
}

/// The caller's bookmarks with the title and slug of what they point at, when the caller may
/// still see it (the joins run under RLS). `$1` the user; `filter` may use `$2`–`$4`.
fn bookmark_query(filter: &str) -> String {
    format!(
        "SELECT b.id, b.entity_type, b.entity_id, b.created_at,
                coalesce(c.title, l.title, s.title) AS title,
                coalesce(c.slug, l.slug, s.slug) AS slug
         FROM public.user_bookmarks b
         LEFT JOIN public.courses c ON b.entity_type = 'course' AND c.id = b.entity_id
         LEFT JOIN public.labs l ON b.entity_type = 'lab' AND l.id = b.entity_id
         LEFT JOIN public.services s ON b.entity_type = 'service' AND s.id = b.entity_id
         WHERE b.user_id = $1 AND {filter}
         ORDER BY b.created_at DESC, b.id DESC"
    )
}

/// Bookmarks `entity` for the caller; true if it is new. The database refuses (23503) an
/// entity that does not exist or that the caller may not see.
pub async fn add_bookmark(
    conn: &mut PgConnection,
    user_id: Uuid,
    entity: BookmarkEntity,
    entity_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO public.user_bookmarks (user_id, entity_type, entity_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, entity_type, entity_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(entity.as_str())
    .bind(entity_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The caller's bookmark of `entity`, if any.
pub async fn bookmark(
    conn: &mut PgConnection,
    user_id: Uuid,
    entity: BookmarkEntity,
    entity_id: Uuid,
) -> Result<Option<Bookmark>, sqlx::Error> {
    sqlx::query_as::<_, BookmarkRow>(&bookmark_query("b.entity_type = $2 AND b.entity_id = $3"))
        .bind(user_id)
        .bind(entity.as_str())
        .bind(entity_id)
        .fetch_optional(conn)
        .await?
        .map(Bookmark::try_from)
        .transpose()
}

/// Removes the caller's bookmark of `entity`, if there is one.
pub async fn remove_bookmark(
    conn: &mut PgConnection,
    user_id: Uuid,
    entity: BookmarkEntity,
    entity_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM public.user_bookmarks
         WHERE user_id = $1 AND entity_type = $2 AND entity_id = $3",
    )
    .bind(user_id)
    .bind(entity.as_str())
    .bind(entity_id)
    .execute(conn)
    .await
    .map(drop)
}

/// The caller's bookmarks (of one kind, if given), newest first, after `cursor`.
pub async fn bookmarks(
    conn: &mut PgConnection,
    user_id: Uuid,
    entity: Option<BookmarkEntity>,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Vec<Bookmark>, sqlx::Error> {
    sqlx::query_as::<_, BookmarkRow>(&format!(
        "{} LIMIT $5",
        bookmark_query(
            "($2::text IS NULL OR b.entity_type = $2)
             AND ($3::timestamptz IS NULL OR (b.created_at, b.id) < ($3, $4))"
        )
    ))
    .bind(user_id)
    .bind(entity.map(BookmarkEntity::as_str))
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Bookmark::try_from)
    .collect()
}

// Notifications --------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: Uuid,
    title: String,
    message: String,
    notification_type: String,
    notification_status: String,
    entity_type: Option<String>,
    entity_id: Option<Uuid>,
    read_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = sqlx::Error;
    fn try_from(r: NotificationRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: r.id,
            title: r.title,
            message: r.message,
            notification_type: decode::<NotificationType>(
                "notification_type",
                &r.notification_type,
            )?,
            notification_status: decode::<NotificationStatus>(
                "notification_status",
                &r.notification_status,
            )?,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            read_at: r.read_at,
            created_at: r.created_at,
        })
    }
}

const NOTIFICATION_COLUMNS: &str =
    "id, title, message, notification_type::text AS notification_type,
    notification_status::text AS notification_status, entity_type, entity_id, read_at, created_at";

/// The caller's notifications (only unread ones, if asked), newest first, after `cursor`.
pub async fn notifications(
    conn: &mut PgConnection,
    user_id: Uuid,
    unread_only: bool,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query_as::<_, NotificationRow>(&format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM public.notifications
         WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)
           AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
         ORDER BY created_at DESC, id DESC
         LIMIT $5"
    ))
    .bind(user_id)
    .bind(unread_only)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Notification::try_from)
    .collect()
}

/// How many of the caller's notifications are unread.
pub async fn unread_count(conn: &mut PgConnection, user_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM public.notifications WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// Marks one of the caller's notifications read (keeping the first reading's time); `None` when
/// the caller has no such notification.
pub async fn mark_read(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Notification>, sqlx::Error> {
    sqlx::query_as::<_, NotificationRow>(&format!(
        "UPDATE public.notifications
         SET read_at = coalesce(read_at, now()), notification_status = 'read'
         WHERE id = $1 AND user_id = $2
         RETURNING {NOTIFICATION_COLUMNS}"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?
    .map(Notification::try_from)
    .transpose()
}

/// Marks every unread notification of the caller's read; how many that was.
pub async fn mark_all_read(conn: &mut PgConnection, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE public.notifications SET read_at = now(), notification_status = 'read'
         WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
