//! Cursor pagination, shared by every list: lists are ordered by `(key DESC, id DESC)`, a page
//! is fetched with one extra row to learn whether another follows, and the next page starts
//! after an opaque cursor naming the last row's position.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::error::ApiError;
use super::validate::Checks;

/// The most items a page holds.
pub const MAX_PAGE: u32 = 100;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 25;

/// Where a row stands in its list: its sort key (as text) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The sort key, e.g. an RFC 3339 time or a rating.
    pub key: String,
    /// The row's id, which breaks ties.
    pub id: Uuid,
}

impl Position {
    /// The position of a row listed by time.
    pub fn at(time: DateTime<Utc>, id: Uuid) -> Self {
        Self {
            key: time.to_rfc3339(),
            id,
        }
    }

    /// The key as a time, for lists ordered by time.
    pub fn time(&self) -> Result<(DateTime<Utc>, Uuid), ApiError> {
        let at = DateTime::parse_from_rfc3339(&self.key).map_err(|_| bad_cursor())?;
        Ok((at.with_timezone(&Utc), self.id))
    }
}

fn bad_cursor() -> ApiError {
    ApiError::BadRequest("The cursor is not one this server gave out.".to_owned())
}

/// The page size asked for: 1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] by default.
pub fn limit(requested: Option<u32>) -> Result<u32, ApiError> {
    let limit = requested.unwrap_or(DEFAULT_PAGE);
    Checks::default()
        .check(
            (1..=MAX_PAGE).contains(&limit),
            "/limit",
            "out_of_range",
            "From 1 to 100.",
        )
        .finish()?;
    Ok(limit)
}

/// The cursor for the page after `position`.
pub fn encode(position: &Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", position.key, position.id))
}

/// The position a cursor names; 400 for anything this server did not give out.
pub fn decode(cursor: &str) -> Result<Position, ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let (key, id) = text.rsplit_once('|').ok_or_else(bad_cursor)?;
    Ok(Position {
        key: key.to_owned(),
        id: id.parse().map_err(|_| bad_cursor())?,
    })
}

/// The query of a list with no filters of its own.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Where a list ordered by time starts: after this time and id.
pub type TimeCursor = (DateTime<Utc>, Uuid);

/// The page size and the start of a list ordered by time.
pub fn by_time(
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<(u32, Option<TimeCursor>), ApiError> {
    let limit = self::limit(limit)?;
    Ok((limit, start(cursor)?.map(|p| p.time()).transpose()?))
}

/// [`decode`] for an optional cursor.
pub fn start(cursor: Option<&str>) -> Result<Option<Position>, ApiError> {
    // `?cursor=` (a form that sends every field) is the first page, like no cursor at all.
    cursor.filter(|c| !c.is_empty()).map(decode).transpose()
}

/// Cuts a fetch of `limit + 1` rows to a page of `limit` and the cursor of the next page, if
/// there is one.
pub fn cut<T>(
    mut items: Vec<T>,
    limit: u32,
    position: impl Fn(&T) -> Position,
) -> (Vec<T>, Option<String>) {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = if more {
        items.last().map(|i| encode(&position(i)))
    } else {
        None
    };
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let p = Position::at(Utc::now(), Uuid::now_v7());
        assert_eq!(decode(&encode(&p)).unwrap(), p);
        let rating = Position {
            key: "4.50".to_owned(),
            id: Uuid::now_v7(),
        };
        assert_eq!(decode(&encode(&rating)).unwrap(), rating);
        for bad in [
            "",
            "!!!",
            "bm9waXBl",
            &URL_SAFE_NO_PAD.encode("x|not-a-uuid"),
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
        assert!(
            Position {
                key: "soon".to_owned(),
                id: Uuid::nil()
            }
            .time()
            .is_err()
        );
    }

    #[test]
    fn a_page_is_cut_with_a_cursor_only_when_more_follow() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let key = |id: &Uuid| Position {
            key: "k".to_owned(),
            id: *id,
        };
        let (page, next) = cut(ids.clone(), 2, key);
        assert_eq!(page, ids[..2]);
        assert_eq!(decode(&next.unwrap()).unwrap().id, ids[1]);
        assert_eq!(cut(ids.clone(), 3, key).1, None);
        assert!(limit(Some(0)).is_err() && limit(Some(101)).is_err());
        assert_eq!(limit(None).unwrap(), DEFAULT_PAGE);
    }
}
