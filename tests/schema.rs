//! The migrated schema matches the spec and the house rules.

use skilltrack_protocol::enums::all_pg_enums;
use skilltrack_tests::test_db;

/// The spec's 31 tables (it numbers 30 sections; section 28 defines two).
const SPEC_TABLES: [&str; 31] = [
    "profiles",
    "services",
    "courses",
    "course_modules",
    "course_lessons",
    "lab_categories",
    "labs",
    "enrollments",
    "user_progress",
    "lab_sessions",
    "cloud_environments",
    "assessments",
    "assessment_questions",
    "user_assessment_attempts",
    "user_assessment_answers",
    "course_reviews",
    "lab_reviews",
    "payments",
    "subscriptions",
    "user_files",
    "content_uploads",
    "notifications",
    "user_activities",
    "analytics_events",
    "user_bookmarks",
    "course_tags",
    "course_tag_relationships",
    "course_prerequisites",
    "lab_prerequisites",
    "system_settings",
    "certificates",
];

/// Tables we added to the spec's, each with its reason in docs/decisions.md.
const ADDED_TABLES: [&str; 7] = [
    "applied_mutations",        // idempotent writes (decision 35)
    "certificate_signing_keys", // public halves of the certificate keys (decision 231)
    "desktop_releases",         // the desktop app's signed updates (decision 333)
    "review_votes",             // one helpful vote per user per review (decision 41)
    "lab_images",               // the images labs run on (decision 157)
    "lab_step_scripts",         // a lab step's setup, verify and solve scripts (decision 200)
    "lab_steps",                // a lab's steps (decision 200)
];

#[tokio::test]
async fn all_31_tables_and_auth_users_exist_with_rls_enabled() {
    let t = test_db().await;
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT schemaname::text, tablename::text, rowsecurity FROM pg_tables
         WHERE schemaname IN ('public', 'auth') ORDER BY 1, 2",
    )
    .fetch_all(t.owner())
    .await
    .unwrap();
    // sqlx's bookkeeping table is in public too; it is not the spec's but must be locked too.
    let public: Vec<&str> = rows
        .iter()
        .filter(|r| r.0 == "public" && r.1 != "_sqlx_migrations")
        .map(|r| r.1.as_str())
        .collect();
    let mut expected = SPEC_TABLES.to_vec();
    expected.extend(ADDED_TABLES);
    expected.sort_unstable();
    assert_eq!(public, expected);
    assert!(rows.iter().any(|r| r.0 == "auth" && r.1 == "users"));
    // The mailed links of account recovery (decision 281), the server's alone.
    assert!(
        rows.iter()
            .any(|r| r.0 == "auth" && r.1 == "account_tokens")
    );
    let without_rls: Vec<String> = rows
        .iter()
        .filter(|r| !r.2)
        .map(|r| format!("{}.{}", r.0, r.1))
        .collect();
    assert!(
        without_rls.is_empty(),
        "tables without RLS: {without_rls:?}"
    );
}

#[tokio::test]
async fn rust_enums_match_postgres_enums_exactly() {
    let t = test_db().await;
    let db: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
         JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY t.typname",
    )
    .fetch_all(t.owner())
    .await
    .unwrap();
    let mut rust: Vec<(String, Vec<String>)> = all_pg_enums()
        .into_iter()
        .map(|(name, values)| {
            (
                name.to_owned(),
                values.into_iter().map(str::to_owned).collect(),
            )
        })
        .collect();
    rust.sort();
    assert_eq!(db, rust);
}

#[tokio::test]
async fn every_foreign_key_has_an_index_leading_with_its_columns() {
    let t = test_db().await;
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT c.conrelid::regclass::text || '(' ||
                (SELECT string_agg(a.attname, ', ') FROM pg_attribute a
                 WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)) || ')'
         FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE c.contype = 'f' AND n.nspname = 'public'
           AND NOT EXISTS (
             SELECT 1 FROM pg_index i
             WHERE i.indrelid = c.conrelid
               AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
               AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
         ORDER BY 1",
    )
    .fetch_all(t.owner())
    .await
    .unwrap();
    assert!(
        missing.is_empty(),
        "foreign keys without an index: {missing:?}"
    );
}

#[tokio::test]
async fn the_specs_indexes_exist() {
    let t = test_db().await;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'")
            .fetch_all(t.owner())
            .await
            .unwrap();
    for spec in [
        "idx_user_progress_user_course",
        "idx_lab_sessions_user_lab",
        "idx_cloud_environments_user_status",
        "idx_user_activities_user_type",
        "idx_payments_user_status",
        "idx_notifications_user_status",
        "idx_course_reviews_course_rating",
        "idx_lab_reviews_lab_rating",
        "idx_analytics_events_user_time",
        "idx_user_files_user_path",
    ] {
        assert!(names.iter().any(|n| n == spec), "missing {spec}");
    }
}

#[tokio::test]
async fn security_definer_functions_pin_their_search_path() {
    let t = test_db().await;
    let unpinned: Vec<String> = sqlx::query_scalar(
        "SELECT p.oid::regprocedure::text FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE p.prosecdef AND n.nspname IN ('public', 'private', 'auth')
           AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')",
    )
    .fetch_all(t.owner())
    .await
    .unwrap();
    assert!(
        unpinned.is_empty(),
        "SECURITY DEFINER without a pinned search_path: {unpinned:?}"
    );
}

#[tokio::test]
async fn no_view_bypasses_rls() {
    let t = test_db().await;
    // A view runs with its owner's rights unless it is security_invoker.
    let definer_views: Vec<String> = sqlx::query_scalar(
        "SELECT c.oid::regclass::text FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('v', 'm') AND n.nspname IN ('public', 'private', 'auth')
           AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)",
    )
    .fetch_all(t.owner())
    .await
    .unwrap();
    assert!(
        definer_views.is_empty(),
        "views that bypass RLS: {definer_views:?}"
    );
}

#[tokio::test]
async fn the_api_login_role_can_only_become_the_api_roles() {
    let t = test_db().await;
    let (superuser, bypass, createrole, createdb, inherit): (bool, bool, bool, bool, bool) =
        sqlx::query_as(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolinherit
             FROM pg_roles WHERE rolname = 'authenticator'",
        )
        .fetch_one(t.owner())
        .await
        .unwrap();
    assert!(!superuser && !bypass && !createrole && !createdb && !inherit);
    let mut memberships: Vec<String> = sqlx::query_scalar(
        "SELECT r.rolname::text FROM pg_auth_members m
         JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
         WHERE u.rolname = 'authenticator'",
    )
    .fetch_all(t.owner())
    .await
    .unwrap();
    memberships.sort();
    assert_eq!(memberships, ["anon", "authenticated", "service_role"]);
    for role in ["anon", "authenticated"] {
        let (login, bypass): (bool, bool) =
            sqlx::query_as("SELECT rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname = $1")
                .bind(role)
                .fetch_one(t.owner())
                .await
                .unwrap();
        assert!(!login && !bypass, "{role}");
    }
    // Logged in as authenticator but without SET ROLE, nothing is readable.
    let err = sqlx::query("SELECT count(*) FROM public.courses")
        .execute(t.api())
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("42501")
    );
    // And it cannot become the owner.
    let owner: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(t.owner())
        .await
        .unwrap();
    let err = sqlx::query(&format!("SET ROLE \"{owner}\""))
        .execute(t.api())
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("42501")
    );
}

#[tokio::test]
async fn email_is_unique_whatever_its_case() {
    let t = test_db().await;
    sqlx::query("INSERT INTO auth.users (email) VALUES ('Ada@Example.com')")
        .execute(t.owner())
        .await
        .unwrap();
    let err = sqlx::query("INSERT INTO auth.users (email) VALUES ('ada@example.COM')")
        .execute(t.owner())
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("23505")
    );
}
