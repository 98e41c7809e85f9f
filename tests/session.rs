//! The request transaction: the caller's role and claims hold for exactly one transaction.

use skilltrack_server::db::session::{Access, Caller, begin};
use skilltrack_tests::test_db;
use uuid::Uuid;

#[tokio::test]
async fn claims_never_survive_into_another_request_on_a_pooled_connection() {
    // The API pool has 4 connections; 200 requests from 50 users interleave over them.
    let t = test_db().await;
    let users: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..4 {
        for (i, user) in users.iter().enumerate() {
            let api = t.api().clone();
            let caller = if (i + round) % 5 == 0 {
                Caller::Anonymous
            } else {
                Caller::User(*user)
            };
            tasks.spawn(async move {
                let mut tx = begin(&api, caller, Access::ReadOnly).await.unwrap();
                tokio::task::yield_now().await;
                let (uid, role, db_role): (Option<Uuid>, Option<String>, String) =
                    sqlx::query_as("SELECT auth.uid(), auth.role(), current_user::text")
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap();
                tx.commit().await.unwrap();
                (caller, uid, role, db_role)
            });
        }
    }
    while let Some(result) = tasks.join_next().await {
        let (caller, uid, role, db_role) = result.unwrap();
        match caller {
            Caller::Anonymous => {
                assert_eq!(
                    (uid, role.as_deref(), db_role.as_str()),
                    (None, Some("anon"), "anon")
                );
            }
            Caller::User(id) => {
                assert_eq!(uid, Some(id));
                assert_eq!(
                    (role.as_deref(), db_role.as_str()),
                    (Some("authenticated"), "authenticated")
                );
            }
        }
    }
    // Outside a request transaction every connection is back to the bare login role, with no
    // claims left.
    for _ in 0..8 {
        assert_eq!(
            bare_identity(t.api()).await,
            ("authenticator".to_owned(), None)
        );
    }
}

#[tokio::test]
async fn a_rolled_back_request_leaves_no_identity_behind() {
    let t = test_db().await;
    let api = t.api().clone();
    {
        let mut tx = begin(&api, Caller::User(Uuid::now_v7()), Access::ReadWrite)
            .await
            .unwrap();
        sqlx::query("SELECT 1").execute(&mut *tx).await.unwrap();
        // Dropped without commit: rolled back.
    }
    for _ in 0..4 {
        assert_eq!(
            bare_identity(&api).await,
            ("authenticator".to_owned(), None)
        );
    }
}

/// The role and claims of a statement run outside any request transaction.
async fn bare_identity(api: &sqlx::PgPool) -> (String, Option<String>) {
    sqlx::query_as(
        "SELECT current_user::text, nullif(current_setting('request.jwt.claims', true), '')",
    )
    .fetch_one(api)
    .await
    .unwrap()
}

#[tokio::test]
async fn read_only_requests_cannot_write() {
    let t = test_db().await;
    let mut tx = begin(t.api(), Caller::Anonymous, Access::ReadOnly)
        .await
        .unwrap();
    let err = sqlx::query("INSERT INTO analytics_events (event_name) VALUES ('x')")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    // 25006: read_only_sql_transaction.
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("25006")
    );
}
