//! The triggers that keep profiles, timestamps, ratings and counters right.

use rust_decimal::Decimal;
use skilltrack_server::db::session::{Access, Caller, begin};
use skilltrack_tests::test_db;
use sqlx::PgPool;
use uuid::Uuid;

async fn user(owner: &PgPool, email: &str, role: &str) -> Uuid {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO auth.users (email, raw_user_meta_data)
         VALUES ($1, jsonb_build_object('full_name', 'Name of ' || $1, 'avatar_url', 'https://a/x.png'))
         RETURNING id",
    )
    .bind(email)
    .fetch_one(owner)
    .await
    .unwrap();
    sqlx::query("UPDATE profiles SET role = $2::user_role WHERE id = $1")
        .bind(id)
        .bind(role)
        .execute(owner)
        .await
        .unwrap();
    id
}

struct Catalog {
    service: Uuid,
    course: Uuid,
    category: Uuid,
    lab: Uuid,
}

async fn catalog(owner: &PgPool, instructor: Uuid) -> Catalog {
    let service: Uuid = sqlx::query_scalar(
        "INSERT INTO services (slug, title, description, icon) VALUES ('svc', 'S', 'd', 'i') RETURNING id",
    )
    .fetch_one(owner)
    .await
    .unwrap();
    let course: Uuid = sqlx::query_scalar(
        "INSERT INTO courses (service_id, slug, title, description, duration, level, instructor_id, is_published)
         VALUES ($1, 'c1', 'C', 'd', '1h', 'Beginner', $2, true) RETURNING id",
    )
    .bind(service)
    .bind(instructor)
    .fetch_one(owner)
    .await
    .unwrap();
    let category: Uuid = sqlx::query_scalar(
        "INSERT INTO lab_categories (slug, name, description, icon) VALUES ('cat', 'C', 'd', 'i') RETURNING id",
    )
    .fetch_one(owner)
    .await
    .unwrap();
    let lab: Uuid = sqlx::query_scalar(
        "INSERT INTO labs (category_id, slug, title, description, difficulty, duration, provider, is_published)
         VALUES ($1, 'l1', 'L', 'd', 'Beginner', '1h', 'p', true) RETURNING id",
    )
    .bind(category)
    .fetch_one(owner)
    .await
    .unwrap();
    Catalog {
        service,
        course,
        category,
        lab,
    }
}

async fn int(owner: &PgPool, sql: &str, id: Uuid) -> i32 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_profile_is_created_on_sign_up_and_follows_the_email() {
    let t = test_db().await;
    let id = user(t.owner(), "new@example.com", "student").await;
    let (email, name, avatar, role): (String, Option<String>, Option<String>, String) =
        sqlx::query_as(
            "SELECT email, full_name, avatar_url, role::text FROM profiles WHERE id = $1",
        )
        .bind(id)
        .fetch_one(t.owner())
        .await
        .unwrap();
    assert_eq!(email, "new@example.com");
    assert_eq!(name.as_deref(), Some("Name of new@example.com"));
    assert_eq!(avatar.as_deref(), Some("https://a/x.png"));
    assert_eq!(role, "student");

    // A role smuggled into sign-up metadata is ignored.
    let sneaky: Uuid = sqlx::query_scalar(
        "INSERT INTO auth.users (email, raw_user_meta_data) VALUES ('x@example.com', '{\"role\": \"admin\"}') RETURNING id",
    )
    .fetch_one(t.owner())
    .await
    .unwrap();
    let role: String = sqlx::query_scalar("SELECT role::text FROM profiles WHERE id = $1")
        .bind(sneaky)
        .fetch_one(t.owner())
        .await
        .unwrap();
    assert_eq!(role, "student");

    sqlx::query("UPDATE auth.users SET email = 'renamed@example.com' WHERE id = $1")
        .bind(id)
        .execute(t.owner())
        .await
        .unwrap();
    let email: String = sqlx::query_scalar("SELECT email FROM profiles WHERE id = $1")
        .bind(id)
        .fetch_one(t.owner())
        .await
        .unwrap();
    assert_eq!(email, "renamed@example.com");
}

#[tokio::test]
async fn updated_at_moves_on_every_update() {
    let t = test_db().await;
    let instructor = user(t.owner(), "i@example.com", "instructor").await;
    let c = catalog(t.owner(), instructor).await;
    sqlx::query("UPDATE courses SET updated_at = now() - interval '1 day' WHERE id = $1")
        .bind(c.course)
        .execute(t.owner())
        .await
        .unwrap();
    sqlx::query("UPDATE courses SET title = 'New' WHERE id = $1")
        .bind(c.course)
        .execute(t.owner())
        .await
        .unwrap();
    let fresh: bool = sqlx::query_scalar(
        "SELECT updated_at > now() - interval '1 minute' FROM courses WHERE id = $1",
    )
    .bind(c.course)
    .fetch_one(t.owner())
    .await
    .unwrap();
    assert!(fresh);
    // Every table with updated_at has the trigger.
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT c.table_schema || '.' || c.table_name FROM information_schema.columns c
         JOIN information_schema.tables tb USING (table_schema, table_name)
         WHERE c.column_name = 'updated_at' AND c.table_schema IN ('public', 'auth')
           AND tb.table_type = 'BASE TABLE'
           AND NOT EXISTS (SELECT 1 FROM pg_trigger tg
                           WHERE tg.tgrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
                             AND tg.tgname = 'set_updated_at')",
    )
    .fetch_all(t.owner())
    .await
    .unwrap();
    assert!(missing.is_empty(), "{missing:?}");
}

#[tokio::test]
async fn course_rating_follows_reviews_written_by_learners() {
    let t = test_db().await;
    let instructor = user(t.owner(), "i@example.com", "instructor").await;
    let c = catalog(t.owner(), instructor).await;
    let rating = |owner: PgPool| async move {
        sqlx::query_scalar::<_, Decimal>("SELECT rating FROM courses WHERE id = $1")
            .bind(c.course)
            .fetch_one(&owner)
            .await
            .unwrap()
    };
    let mut learners = Vec::new();
    for (n, stars) in [5, 4, 4].into_iter().enumerate() {
        let learner = user(t.owner(), &format!("l{n}@example.com"), "student").await;
        sqlx::query("INSERT INTO enrollments (user_id, course_id) VALUES ($1, $2)")
            .bind(learner)
            .bind(c.course)
            .execute(t.owner())
            .await
            .unwrap();
        // The learner writes through RLS and may not update the course: the trigger does.
        let mut tx = begin(t.api(), Caller::User(learner), Access::ReadWrite)
            .await
            .unwrap();
        sqlx::query("INSERT INTO course_reviews (user_id, course_id, rating) VALUES ($1, $2, $3)")
            .bind(learner)
            .bind(c.course)
            .bind(stars)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        learners.push(learner);
    }
    assert_eq!(rating(t.owner().clone()).await, Decimal::new(433, 2));
    let mut tx = begin(t.api(), Caller::User(learners[0]), Access::ReadWrite)
        .await
        .unwrap();
    sqlx::query("UPDATE course_reviews SET rating = 1 WHERE user_id = $1")
        .bind(learners[0])
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rating(t.owner().clone()).await, Decimal::new(300, 2));
    sqlx::query("DELETE FROM course_reviews")
        .execute(t.owner())
        .await
        .unwrap();
    assert_eq!(rating(t.owner().clone()).await, Decimal::ZERO);
}

#[tokio::test]
async fn lab_rating_follows_reviews() {
    let t = test_db().await;
    let instructor = user(t.owner(), "i@example.com", "instructor").await;
    let c = catalog(t.owner(), instructor).await;
    for (n, stars) in [2, 5].into_iter().enumerate() {
        let learner = user(t.owner(), &format!("l{n}@example.com"), "student").await;
        sqlx::query("INSERT INTO lab_reviews (user_id, lab_id, rating) VALUES ($1, $2, $3)")
            .bind(learner)
            .bind(c.lab)
            .bind(stars)
            .execute(t.owner())
            .await
            .unwrap();
    }
    let rating: Decimal = sqlx::query_scalar("SELECT rating FROM labs WHERE id = $1")
        .bind(c.lab)
        .fetch_one(t.owner())
        .await
        .unwrap();
    assert_eq!(rating, Decimal::new(350, 2));
}

#[tokio::test]
async fn student_counts_follow_enrollments_and_cancellations() {
    let t = test_db().await;
    let instructor = user(t.owner(), "i@example.com", "instructor").await;
    let c = catalog(t.owner(), instructor).await;
    let course_count = "SELECT student_count FROM courses WHERE id = $1";
    let service_students = "SELECT student_count FROM services WHERE id = $1";
    let mut learners = Vec::new();
    for n in 0..3 {
        let learner = user(t.owner(), &format!("l{n}@example.com"), "student").await;
        // Through RLS, as the learner would enroll.
        let mut tx = begin(t.api(), Caller::User(learner), Access::ReadWrite)
            .await
            .unwrap();
        sqlx::query("INSERT INTO enrollments (user_id, course_id) VALUES ($1, $2)")
            .bind(learner)
            .bind(c.course)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        learners.push(learner);
    }
    assert_eq!(int(t.owner(), course_count, c.course).await, 3);
    assert_eq!(int(t.owner(), service_students, c.service).await, 3);

    // A learner cancels: one fewer.
    let mut tx = begin(t.api(), Caller::User(learners[0]), Access::ReadWrite)
        .await
        .unwrap();
    let done = sqlx::query("UPDATE enrollments SET status = 'cancelled' WHERE user_id = $1")
        .bind(learners[0])
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    tx.commit().await.unwrap();
    assert_eq!(int(t.owner(), course_count, c.course).await, 2);

    // Deleting a cancelled enrollment changes nothing; deleting an active one counts.
    sqlx::query("DELETE FROM enrollments WHERE user_id = $1")
        .bind(learners[0])
        .execute(t.owner())
        .await
        .unwrap();
    assert_eq!(int(t.owner(), course_count, c.course).await, 2);
    sqlx::query("DELETE FROM enrollments WHERE user_id = $1")
        .bind(learners[1])
        .execute(t.owner())
        .await
        .unwrap();
    assert_eq!(int(t.owner(), course_count, c.course).await, 1);
    assert_eq!(int(t.owner(), service_students, c.service).await, 1);

    // Reactivating (by an admin or the server) counts again.
    sqlx::query("UPDATE enrollments SET status = 'cancelled' WHERE user_id = $1")
        .bind(learners[2])
        .execute(t.owner())
        .await
        .unwrap();
    sqlx::query("UPDATE enrollments SET status = 'active' WHERE user_id = $1")
        .bind(learners[2])
        .execute(t.owner())
        .await
        .unwrap();
    assert_eq!(int(t.owner(), course_count, c.course).await, 1);
}

#[tokio::test]
async fn concurrent_enrollments_are_all_counted() {
    let t = test_db().await;
    let instructor = user(t.owner(), "i@example.com", "instructor").await;
    let c = catalog(t.owner(), instructor).await;
    let mut learners = Vec::new();
    for n in 0..20 {
        learners.push(user(t.owner(), &format!("l{n}@example.com"), "student").await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for learner in learners {
        let api = t.api().clone();
        let course = c.course;
        tasks.spawn(async move {
            let mut tx = begin(&api, Caller::User(learner), Access::ReadWrite)
                .await
                .unwrap();
            sqlx::query("INSERT INTO enrollments (user_id, course_id) VALUES ($1, $2)")
                .bind(learner)
                .bind(course)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert_eq!(
        int(
            t.owner(),
            "SELECT student_count FROM courses WHERE id = $1",
            c.course
        )
        .await,
        20
    );
}

#[tokio::test]
async fn catalog_counts_follow_publishing() {
    let t = test_db().await;
    let instructor = user(t.owner(), "i@example.com", "instructor").await;
    let c = catalog(t.owner(), instructor).await;
    let courses = "SELECT course_count FROM services WHERE id = $1";
    let labs = "SELECT lab_count FROM lab_categories WHERE id = $1";
    assert_eq!(int(t.owner(), courses, c.service).await, 1);
    assert_eq!(int(t.owner(), labs, c.category).await, 1);

    // An instructor unpublishes their course through RLS; the service count follows.
    let mut tx = begin(t.api(), Caller::User(instructor), Access::ReadWrite)
        .await
        .unwrap();
    sqlx::query("UPDATE courses SET is_published = false WHERE id = $1")
        .bind(c.course)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(int(t.owner(), courses, c.service).await, 0);

    sqlx::query("UPDATE labs SET is_published = false WHERE id = $1")
        .bind(c.lab)
        .execute(t.owner())
        .await
        .unwrap();
    assert_eq!(int(t.owner(), labs, c.category).await, 0);
    sqlx::query("UPDATE labs SET is_published = true WHERE id = $1")
        .bind(c.lab)
        .execute(t.owner())
        .await
        .unwrap();
    sqlx::query("DELETE FROM labs WHERE id = $1")
        .bind(c.lab)
        .execute(t.owner())
        .await
        .unwrap();
    assert_eq!(int(t.owner(), labs, c.category).await, 0);
}

#[tokio::test]
async fn lab_student_count_counts_distinct_learners() {
    let t = test_db().await;
    let instructor = user(t.owner(), "i@example.com", "instructor").await;
    let c = catalog(t.owner(), instructor).await;
    let a = user(t.owner(), "a@example.com", "student").await;
    let b = user(t.owner(), "b@example.com", "student").await;
    for (n, learner) in [a, a, b].into_iter().enumerate() {
        sqlx::query("INSERT INTO lab_sessions (user_id, lab_id, session_id) VALUES ($1, $2, $3)")
            .bind(learner)
            .bind(c.lab)
            .bind(format!("s{n}"))
            .execute(t.owner())
            .await
            .unwrap();
    }
    let count = "SELECT student_count FROM labs WHERE id = $1";
    assert_eq!(int(t.owner(), count, c.lab).await, 2);
    sqlx::query("DELETE FROM lab_sessions WHERE session_id = 's0'")
        .execute(t.owner())
        .await
        .unwrap();
    assert_eq!(int(t.owner(), count, c.lab).await, 2);
    sqlx::query("DELETE FROM lab_sessions WHERE session_id = 's1'")
        .execute(t.owner())
        .await
        .unwrap();
    assert_eq!(int(t.owner(), count, c.lab).await, 1);
}

#[tokio::test]
async fn nobody_writes_derived_columns_through_the_api() {
    let t = test_db().await;
    let instructor = user(t.owner(), "i@example.com", "instructor").await;
    let c = catalog(t.owner(), instructor).await;
    let mut tx = begin(t.api(), Caller::User(instructor), Access::ReadWrite)
        .await
        .unwrap();
    let err = sqlx::query("UPDATE courses SET rating = 5, student_count = 1000 WHERE id = $1")
        .bind(c.course)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("42501")
    );
}

#[tokio::test]
async fn a_courses_tags_follow_its_tag_links_whoever_writes_them() {
    let t = test_db().await;
    let owner = t.owner();
    let instructor = user(owner, "tagger@example.com", "instructor").await;
    let c = catalog(owner, instructor).await;
    let tags = || async {
        sqlx::query_scalar::<_, Vec<String>>("SELECT tags FROM courses WHERE id = $1")
            .bind(c.course)
            .fetch_one(owner)
            .await
            .unwrap()
    };
    let tag = |name: &'static str| async move {
        sqlx::query_scalar::<_, Uuid>("INSERT INTO course_tags (name) VALUES ($1) RETURNING id")
            .bind(name)
            .fetch_one(owner)
            .await
            .unwrap()
    };
    let (zeta, alpha) = (tag("zeta").await, tag("alpha").await);
    for t in [zeta, alpha] {
        sqlx::query("INSERT INTO course_tag_relationships (course_id, tag_id) VALUES ($1, $2)")
            .bind(c.course)
            .bind(t)
            .execute(owner)
            .await
            .unwrap();
    }
    assert_eq!(tags().await, ["alpha", "zeta"]);
    sqlx::query("UPDATE course_tags SET name = 'omega' WHERE id = $1")
        .bind(zeta)
        .execute(owner)
        .await
        .unwrap();
    assert_eq!(tags().await, ["alpha", "omega"]);
    sqlx::query("DELETE FROM course_tags WHERE id = $1")
        .bind(alpha)
        .execute(owner)
        .await
        .unwrap();
    assert_eq!(tags().await, ["omega"]);
    // The instructor cannot set the derived column directly.
    let mut tx = begin(t.api(), Caller::User(instructor), Access::ReadWrite)
        .await
        .unwrap();
    let err = sqlx::query("UPDATE courses SET tags = '{made-up}' WHERE id = $1")
        .bind(c.course)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("42501"),
        "{err}"
    );
}

#[tokio::test]
async fn a_lessons_assessment_is_one_of_its_own_course() {
    let db = test_db().await;
    let owner = db.owner();
    let teacher = user(owner, "two-courses@example.com", "instructor").await;
    let c = catalog(owner, teacher).await;
    let other: Uuid = sqlx::query_scalar(
        "INSERT INTO courses (service_id, slug, title, description, duration, level, instructor_id)
         VALUES ($1, 'c2', 'C2', 'd', '1h', 'Beginner', $2) RETURNING id",
    )
    .bind(c.service)
    .bind(teacher)
    .fetch_one(owner)
    .await
    .unwrap();
    let assessment_of = |course: Uuid| async move {
        sqlx::query_scalar::<_, Uuid>(
            "INSERT INTO assessments (course_id, title, type) VALUES ($1, 'Quiz', 'quiz') RETURNING id",
        )
        .bind(course)
        .fetch_one(owner)
        .await
        .unwrap()
    };
    let own = assessment_of(c.course).await;
    let foreign = assessment_of(other).await;
    let module: Uuid = sqlx::query_scalar(
        "INSERT INTO course_modules (course_id, title) VALUES ($1, 'M') RETURNING id",
    )
    .bind(c.course)
    .fetch_one(owner)
    .await
    .unwrap();
    // The instructor manages both courses, so RLS alone would let the link through.
    let mut tx = begin(db.api(), Caller::User(teacher), Access::ReadWrite)
        .await
        .unwrap();
    let link = |assessment: Uuid| {
        sqlx::query(
            "INSERT INTO course_lessons (module_id, title, content_type, assessment_id)
             VALUES ($1, 'Quiz', 'quiz', $2)",
        )
        .bind(module)
        .bind(assessment)
    };
    link(own).execute(&mut *tx).await.unwrap();
    let refused = link(foreign).execute(&mut *tx).await.unwrap_err();
    assert_eq!(
        refused
            .as_database_error()
            .and_then(|e| e.constraint())
            .unwrap(),
        "course_lessons_assessment_in_course"
    );
}
