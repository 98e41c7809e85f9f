//! What the screens read from the cache: the catalog (with offline search), a course's
//! syllabus, lessons.

use rusqlite::params;
use serde::Serialize;
use serde_json::Value;

use super::{Cache, CacheError};

/// How to narrow the offline catalog.
#[derive(Debug, Clone, Default)]
pub struct CourseFilter {
    /// Full-text search over title, descriptions and tags (FTS5 syntax is escaped).
    pub text: Option<String>,
    /// Only this service.
    pub service_id: Option<String>,
    /// Only this level (`Beginner`, `Intermediate`, `Advanced`).
    pub level: Option<String>,
    /// Only free courses.
    pub free_only: bool,
    /// At most this many (default 50).
    pub limit: Option<u32>,
}

/// A course in a list.
#[derive(Debug, Clone, Serialize)]
pub struct CourseCard {
    /// The course's columns as synced.
    pub course: Value,
}

/// A module of a course.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleRow {
    /// Its columns.
    pub module: Value,
    /// Its lessons the cache holds, in order (none when the learner may not study them).
    pub lessons: Vec<LessonRow>,
}

/// A lesson.
#[derive(Debug, Clone, Serialize)]
pub struct LessonRow {
    /// Its columns.
    pub lesson: Value,
}

/// Words of a search, each as an FTS5 prefix term: a learner's text is never FTS syntax.
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The catalog's statement: `?1` the search (FTS5 syntax) when `searching`, `?2` a service,
/// `?3` a level, `?4` free only, `?5` the limit.
fn courses_sql(searching: bool) -> String {
    format!(
        "SELECT r.data FROM rows r {}
         WHERE r.tbl = 'courses'
           AND coalesce(json_extract(r.data, '$.is_published'), 1)
           AND (?2 IS NULL OR json_extract(r.data, '$.service_id') = ?2)
           AND (?3 IS NULL OR json_extract(r.data, '$.level') = ?3)
           AND (NOT ?4 OR CAST(coalesce(json_extract(r.data, '$.price'), '0') AS REAL) = 0)
         ORDER BY {} LIMIT ?5",
        if searching {
            "JOIN (SELECT id, rank FROM course_search WHERE course_search MATCH ?1) s
             ON s.id = r.id"
        } else {
            // The planner would take the `(tbl, id)` key and sort every course; the index
            // is in the ORDER BY's order, so the LIMIT stops the scan.
            "INDEXED BY courses_by_rating"
        },
        if searching {
            "s.rank"
        } else {
            "CAST(coalesce(json_extract(r.data, '$.rating'), '0') AS REAL) DESC,
             json_extract(r.data, '$.title')"
        },
    )
}

impl Cache {
    /// Published courses the cache holds, best match first when searching, else by rating.
    pub fn courses(&self, filter: &CourseFilter) -> Result<Vec<CourseCard>, CacheError> {
        let limit = i64::from(filter.limit.unwrap_or(50).clamp(1, 500));
        let search = filter.text.as_deref().and_then(fts_query);
        let sql = courses_sql(search.is_some());
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(
                params![
                    search,
                    filter.service_id,
                    filter.level,
                    filter.free_only,
                    limit
                ],
                |r| r.get::<_, String>(0),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .map(|t| {
                Ok(CourseCard {
                    course: serde_json::from_str(t)?,
                })
            })
            .collect()
    }

    /// The id of the course whose slug is `slug` (its package folder's name), if the cache
    /// holds it.
    pub fn course_by_slug(&self, slug: &str) -> Result<Option<String>, CacheError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM rows WHERE tbl = 'courses' AND json_extract(data, '$.slug') = ?1",
        )?;
        let mut rows = stmt.query_map(params![slug], |r| r.get::<_, String>(0))?;
        Ok(rows.next().transpose()?)
    }

    /// A course's modules in order, each with the lessons the cache holds.
    pub fn syllabus(&self, course_id: &str) -> Result<Vec<ModuleRow>, CacheError> {
        let mut modules = self.ordered("course_modules", "$.course_id", course_id)?;
        let mut out = Vec::with_capacity(modules.len());
        for module in modules.drain(..) {
            let id = module["id"].as_str().unwrap_or_default().to_owned();
            let lessons = self
                .ordered("course_lessons", "$.module_id", &id)?
                .into_iter()
                .map(|lesson| LessonRow { lesson })
                .collect();
            out.push(ModuleRow { module, lessons });
        }
        Ok(out)
    }

    /// `table` and `path` are this module's literals (the partial indexes need literals).
    fn ordered(&self, table: &str, path: &str, value: &str) -> Result<Vec<Value>, CacheError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT data FROM rows WHERE tbl = '{table}' AND json_extract(data, '{path}') = ?1
             ORDER BY coalesce(json_extract(data, '$.sort_order'), 0), id"
        ))?;
        let rows = stmt
            .query_map(params![value], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .map(|t| serde_json::from_str(t).map_err(CacheError::from))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

    use super::*;
    use serde_json::json;
    use skilltrack_protocol::sync::{ChangeOp, PullPage, RowChange, RowData, SyncTable};
    use uuid::Uuid;

    fn course(title: &str, tags: &[&str], price: &str) -> RowChange {
        RowChange {
            table: SyncTable::Courses,
            id: Uuid::now_v7(),
            op: ChangeOp::Upsert,
            row: Some(RowData::from_value(
                &json!({"title": title, "short_description": "", "description": "",
                              "tags": tags, "price": price, "is_published": true,
                              "rating": "4.50", "level": "Beginner"}),
            )),
        }
    }

    fn titles(cache: &Cache, f: &CourseFilter) -> Vec<String> {
        let mut t: Vec<String> = cache
            .courses(f)
            .unwrap()
            .into_iter()
            .map(|c| c.course["title"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    }

    #[test]
    fn the_catalog_pages_best_rated_first_from_its_index() {
        let mut cache = Cache::in_memory().unwrap();
        let rated = |title: &str, rating: &str, published: bool| {
            let mut c = course(title, &[], "0.00");
            let mut row = c.row.unwrap().to_value().unwrap();
            row["rating"] = json!(rating);
            row["is_published"] = json!(published);
            c.row = Some(RowData::from_value(&row));
            c
        };
        let page = PullPage {
            changes: vec![
                rated("B", "4.50", true),
                rated("A", "4.50", true),
                rated("Top", "4.90", true),
                rated("Draft", "5.00", false),
                rated("Low", "3.00", true),
                rated("Unrated", "0", true),
            ],
            cursor: "c1".into(),
            has_more: false,
            reset: false,
        };
        cache.apply_page(&page).unwrap();
        let page_of = |limit| -> Vec<String> {
            cache
                .courses(&CourseFilter {
                    limit: Some(limit),
                    ..CourseFilter::default()
                })
                .unwrap()
                .into_iter()
                .map(|c| c.course["title"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(page_of(3), ["Top", "A", "B"]);
        assert_eq!(page_of(10), ["Top", "A", "B", "Low", "Unrated"]);
        // A page reads a page of the index, not a sort of every course.
        let plan: Vec<String> = cache
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", courses_sql(false)))
            .unwrap()
            .query_map(
                rusqlite::params![None::<String>, None::<String>, None::<String>, false, 3],
                |r| r.get::<_, String>(3),
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter().any(|step| step.contains("courses_by_rating"))
                && plan.iter().all(|step| !step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }

    #[test]
    fn offline_search_finds_courses_by_words_prefixes_and_tags() {
        let mut cache = Cache::in_memory().unwrap();
        let page = PullPage {
            changes: vec![
                course("Docker Fundamentals", &["containers"], "0.00"),
                course("Kubernetes in Production", &["containers", "k8s"], "89.00"),
                course("Python for Data Analysis", &["pandas"], "0.00"),
            ],
            cursor: "c1".into(),
            has_more: false,
            reset: false,
        };
        cache.apply_page(&page).unwrap();
        let text = |s: &str| CourseFilter {
            text: Some(s.into()),
            ..CourseFilter::default()
        };
        assert_eq!(
            titles(&cache, &text("contain")),
            ["Docker Fundamentals", "Kubernetes in Production"]
        );
        assert_eq!(titles(&cache, &text("pyth")), ["Python for Data Analysis"]);
        // Learner text is never FTS syntax.
        assert!(titles(&cache, &text("\"NEAR(( OR")).is_empty());
        assert_eq!(
            titles(
                &cache,
                &CourseFilter {
                    text: Some("containers".into()),
                    free_only: true,
                    ..CourseFilter::default()
                }
            ),
            ["Docker Fundamentals"]
        );
        assert_eq!(cache.state("cursor").unwrap().as_deref(), Some("c1"));
        // An unpublished (tombstoned) course leaves the index.
        let gone = page.changes[0].id;
        cache
            .apply_page(&PullPage {
                changes: vec![RowChange {
                    table: SyncTable::Courses,
                    id: gone,
                    op: ChangeOp::Delete,
                    row: None,
                }],
                cursor: "c2".into(),
                has_more: false,
                reset: false,
            })
            .unwrap();
        assert_eq!(titles(&cache, &text("docker")), Vec::<String>::new());
        assert_eq!(cache.integrity_check().unwrap(), "ok");
    }
}
