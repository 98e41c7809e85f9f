//! `seed-demo`: a living catalog, loaded twice without duplicating anything.

use skilltrack_tests::process::{data_dir, server_command};
use skilltrack_tests::{ServerProcess, test_db};

const TABLES: [&str; 17] = [
    "auth.users",
    "profiles",
    "services",
    "lab_categories",
    "course_tags",
    "courses",
    "course_tag_relationships",
    "course_prerequisites",
    "course_modules",
    "course_lessons",
    "assessments",
    "assessment_questions",
    "labs",
    "lab_prerequisites",
    "system_settings",
    "enrollments",
    "course_reviews",
];

async fn counts(owner: &sqlx::PgPool) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(owner)
            .await
            .unwrap();
        out.push((table.to_owned(), n));
    }
    out
}

#[tokio::test]
async fn seeding_twice_duplicates_nothing_and_the_catalog_is_alive() {
    let t = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    skilltrack_server::seed::load_demo(&t.db, dir.path())
        .await
        .unwrap();
    let first = counts(t.owner()).await;
    skilltrack_server::seed::load_demo(&t.db, dir.path())
        .await
        .unwrap();
    assert_eq!(counts(t.owner()).await, first);

    let q = |sql: &'static str| {
        let owner = t.owner().clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&owner)
                .await
                .unwrap()
        }
    };
    assert_eq!(q("SELECT count(*) FROM services").await, 4);
    assert_eq!(q("SELECT count(*) FROM lab_categories").await, 5);
    assert!(q("SELECT count(*) FROM courses WHERE is_published").await >= 12);
    assert!(q("SELECT count(*) FROM labs WHERE is_published").await >= 6);
    assert!(q("SELECT count(*) FROM course_lessons WHERE content_type = 'video'").await >= 1);
    assert_eq!(
        q("SELECT count(DISTINCT question_type) FROM assessment_questions").await,
        5,
        "every question type"
    );
    // Counters were kept by the triggers, not written by the seed.
    assert_eq!(
        q("SELECT sum(course_count) FROM services").await,
        q("SELECT count(*) FROM courses WHERE is_published").await
    );
    assert!(q("SELECT count(*) FROM courses WHERE rating > 0").await >= 1);
    assert!(
        dir.path()
            .join("media/demo/intro-to-the-terminal.webm")
            .exists()
    );
    for role in ["student", "instructor", "admin"] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles WHERE role = $1::user_role")
            .bind(role)
            .fetch_one(t.owner())
            .await
            .unwrap();
        assert!(n >= 1, "no demo {role}");
    }
}

#[tokio::test]
async fn seed_demo_then_serve_answers_and_serves_the_demo_video() {
    let dir = data_dir();
    for _ in 0..2 {
        let out = server_command(dir.path(), &["seed-demo"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut server = ServerProcess::start(dir.path());
    let health = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let video = reqwest::get(format!(
        "{}/media/demo/intro-to-the-terminal.webm",
        server.url
    ))
    .await
    .unwrap();
    assert_eq!(video.status(), 200);
    let bytes = video.bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0x1a, 0x45, 0xdf, 0xa3], "a WebM (EBML) file");
    assert!(server.terminate().success());
}
