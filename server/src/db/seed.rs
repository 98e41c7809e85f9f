//! The demo data's SQL: upserts keyed by stable ids, in one transaction, as the schema owner
//! (seeding is setup, not a request: it runs before anyone can sign in).

use skilltrack_protocol::PgEnum as _;
use sqlx::postgres::PgPool;
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use skilltrack_protocol::course_packages::{TreeAssessment, TreeModule};

use crate::seed::{Catalog, Course, Lab, demo_id};

/// What was loaded.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Courses.
    pub courses: usize,
    /// Lessons.
    pub lessons: usize,
    /// Questions.
    pub questions: usize,
    /// Labs.
    pub labs: usize,
}

/// A demo account's id.
pub fn account_id(email: &str) -> Uuid {
    demo_id(&format!("account/{email}"))
}

/// Enrolls a demo account in a course (once).
pub async fn enroll(
    conn: &mut sqlx::PgConnection,
    email: &str,
    slug: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO enrollments (id, user_id, course_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(demo_id(&format!("enrollment/{email}/{slug}")))
    .bind(account_id(email))
    .bind(demo_id(&format!("course/{slug}")))
    .execute(conn)
    .await
    .map(drop)
}

/// Loads the whole catalog; `password_hashes[i]` belongs to `catalog.accounts[i]`.
pub async fn load(
    owner: &PgPool,
    catalog: &Catalog,
    password_hashes: &[String],
) -> Result<Counts, sqlx::Error> {
    let mut tx = owner.begin().await?;
    load_accounts(&mut tx, catalog, password_hashes).await?;
    load_taxonomy(&mut tx, catalog).await?;
    let mut counts = Counts::default();
    for course in &catalog.courses {
        load_course(&mut tx, course, &mut counts).await?;
    }
    for lab in &catalog.labs {
        load_lab(&mut tx, lab, catalog.lab_files.get(&lab.slug)).await?;
        counts.labs += 1;
    }
    load_prerequisites(&mut tx, catalog).await?;
    load_settings(&mut tx, catalog).await?;
    load_demo_learning(&mut tx, catalog).await?;
    tx.commit().await?;
    Ok(counts)
}

async fn load_accounts(
    tx: &mut Transaction<'static, Postgres>,
    catalog: &Catalog,
    password_hashes: &[String],
) -> Result<(), sqlx::Error> {
    for (account, hash) in catalog.accounts.iter().zip(password_hashes) {
        let id = account_id(&account.email);
        // An account that exists keeps its password: re-seeding must not undo a user's change.
        sqlx::query(
            "INSERT INTO auth.users (id, email, encrypted_password, raw_user_meta_data, email_confirmed_at)
             VALUES ($1, $2, $3, jsonb_build_object('full_name', $4::text), now())
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(&account.email)
        .bind(hash)
        .bind(&account.full_name)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE public.profiles SET role = $2::user_role, bio = $3, full_name = $4, is_verified = true
             WHERE id = $1",
        )
        .bind(id)
        .bind(account.role.as_str())
        .bind(&account.bio)
        .bind(&account.full_name)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Services, lab categories and course tags.
async fn load_taxonomy(
    tx: &mut Transaction<'static, Postgres>,
    catalog: &Catalog,
) -> Result<(), sqlx::Error> {
    for s in &catalog.services {
        sqlx::query(
            "INSERT INTO services (id, slug, title, description, icon, color, sort_order, featured)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, title = EXCLUDED.title,
               description = EXCLUDED.description, icon = EXCLUDED.icon, color = EXCLUDED.color,
               sort_order = EXCLUDED.sort_order, featured = EXCLUDED.featured",
        )
        .bind(demo_id(&format!("service/{}", s.slug)))
        .bind(&s.slug)
        .bind(&s.title)
        .bind(&s.description)
        .bind(&s.icon)
        .bind(&s.color)
        .bind(s.sort_order)
        .bind(s.featured)
        .execute(&mut **tx)
        .await?;
    }
    for c in &catalog.lab_categories {
        sqlx::query(
            "INSERT INTO lab_categories (id, slug, name, description, icon) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name,
               description = EXCLUDED.description, icon = EXCLUDED.icon",
        )
        .bind(demo_id(&format!("lab-category/{}", c.slug)))
        .bind(&c.slug)
        .bind(&c.name)
        .bind(&c.description)
        .bind(&c.icon)
        .execute(&mut **tx)
        .await?;
    }
    for t in &catalog.course_tags {
        sqlx::query(
            "INSERT INTO course_tags (id, name, description, color) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
               description = EXCLUDED.description, color = EXCLUDED.color",
        )
        .bind(demo_id(&format!("tag/{}", t.name)))
        .bind(&t.name)
        .bind(&t.description)
        .bind(&t.color)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// After every course and lab exists.
async fn load_prerequisites(
    tx: &mut Transaction<'static, Postgres>,
    catalog: &Catalog,
) -> Result<(), sqlx::Error> {
    for course in &catalog.courses {
        for required in &course.tree.prerequisites {
            sqlx::query(
                "INSERT INTO course_prerequisites (id, course_id, prerequisite_course_id)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(demo_id(&format!(
                "course/{}/requires/{required}",
                course.slug()
            )))
            .bind(demo_id(&format!("course/{}", course.slug())))
            .bind(demo_id(&format!("course/{required}")))
            .execute(&mut **tx)
            .await?;
        }
    }
    for lab in &catalog.labs {
        for required in &lab.requires {
            sqlx::query(
                "INSERT INTO lab_prerequisites (id, lab_id, prerequisite_lab_id)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(demo_id(&format!("lab/{}/requires/{required}", lab.slug)))
            .bind(demo_id(&format!("lab/{}", lab.slug)))
            .bind(demo_id(&format!("lab/{required}")))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

async fn load_settings(
    tx: &mut Transaction<'static, Postgres>,
    catalog: &Catalog,
) -> Result<(), sqlx::Error> {
    for s in &catalog.system_settings {
        sqlx::query(
            "INSERT INTO system_settings (id, setting_key, setting_value, description, is_public)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (setting_key) DO NOTHING",
        )
        .bind(demo_id(&format!("setting/{}", s.key)))
        .bind(&s.key)
        .bind(Json(&s.value))
        .bind(&s.description)
        .bind(s.is_public)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A course from its package's tree. Ids come from positions (`course/<slug>/module/<m>/
/// lesson/<l>`, `…/assessment/<a>/question/<q>`) and rows keep their package slugs, so a
/// `course pull` names them as the package does.
async fn load_course(
    tx: &mut Transaction<'static, Postgres>,
    course: &Course,
    counts: &mut Counts,
) -> Result<(), sqlx::Error> {
    let tree = &course.tree;
    let draft = &tree.course;
    let course_key = format!("course/{}", draft.slug);
    let course_id = demo_id(&course_key);
    sqlx::query(
        "INSERT INTO courses (id, service_id, slug, title, description, duration, level, price,
           instructor_id, features, objectives, prerequisites, tags, language, is_published,
           image_url, preview_video_url, subtitles, max_students, start_date, end_date,
           enrollment_deadline)
         VALUES ($1, $2, $3, $4, $5, $6, $7::difficulty_level, $8, $9, $10, $11, $12, $13,
           coalesce($14, 'en'), $15, $16, $17, $18, $19, $20, $21, $22)
         ON CONFLICT (id) DO UPDATE SET service_id = EXCLUDED.service_id, slug = EXCLUDED.slug,
           title = EXCLUDED.title, description = EXCLUDED.description,
           duration = EXCLUDED.duration, level = EXCLUDED.level, price = EXCLUDED.price,
           instructor_id = EXCLUDED.instructor_id, features = EXCLUDED.features,
           objectives = EXCLUDED.objectives, prerequisites = EXCLUDED.prerequisites,
           tags = EXCLUDED.tags, language = EXCLUDED.language,
           is_published = EXCLUDED.is_published, image_url = EXCLUDED.image_url,
           preview_video_url = EXCLUDED.preview_video_url, subtitles = EXCLUDED.subtitles,
           max_students = EXCLUDED.max_students, start_date = EXCLUDED.start_date,
           end_date = EXCLUDED.end_date, enrollment_deadline = EXCLUDED.enrollment_deadline",
    )
    .bind(course_id)
    .bind(demo_id(&format!("service/{}", tree.service)))
    .bind(&draft.slug)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(&draft.duration)
    .bind(draft.level.as_str())
    .bind(draft.price)
    .bind(account_id(&course.instructor))
    .bind(&draft.features)
    .bind(&draft.objectives)
    .bind(&draft.prerequisite_notes)
    .bind(&tree.tags)
    .bind(&draft.language)
    .bind(course.is_published)
    .bind(&draft.image_url)
    .bind(&draft.preview_video_url)
    .bind(&draft.subtitles)
    .bind(draft.max_students)
    .bind(draft.start_date)
    .bind(draft.end_date)
    .bind(draft.enrollment_deadline)
    .execute(&mut **tx)
    .await?;
    counts.courses += 1;
    for tag in &tree.tags {
        sqlx::query(
            "INSERT INTO course_tag_relationships (id, course_id, tag_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(demo_id(&format!("{course_key}/tag/{tag}")))
        .bind(course_id)
        .bind(demo_id(&format!("tag/{tag}")))
        .execute(&mut **tx)
        .await?;
    }
    // Assessments first: a quiz lesson points at its assessment.
    for (a, assessment) in tree.assessments.iter().enumerate() {
        let key = format!("{course_key}/assessment/{a}");
        load_assessment(tx, assessment, &key, course_id, counts).await?;
    }
    let assessment_id = |slug: &str| {
        tree.assessments
            .iter()
            .position(|a| a.slug == slug)
            .map(|a| demo_id(&format!("{course_key}/assessment/{a}")))
    };
    for (m, module) in tree.modules.iter().enumerate() {
        let key = format!("{course_key}/module/{m}");
        load_module(tx, module, &key, course_id, &assessment_id, counts).await?;
    }
    Ok(())
}

async fn load_module(
    tx: &mut Transaction<'static, Postgres>,
    module: &TreeModule,
    module_key: &str,
    course_id: Uuid,
    assessment_id: &dyn Fn(&str) -> Option<Uuid>,
    counts: &mut Counts,
) -> Result<(), sqlx::Error> {
    let module_id = demo_id(module_key);
    let draft = &module.module;
    sqlx::query(
        "INSERT INTO course_modules (id, course_id, title, description, duration_minutes,
           sort_order, is_published, package_slug)
         VALUES ($1, $2, $3, $4, $5, $6, true, $7)
         ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title,
           description = EXCLUDED.description, duration_minutes = EXCLUDED.duration_minutes,
           sort_order = EXCLUDED.sort_order, package_slug = EXCLUDED.package_slug",
    )
    .bind(module_id)
    .bind(course_id)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(draft.duration_minutes)
    .bind(draft.sort_order)
    .bind(&module.slug)
    .execute(&mut **tx)
    .await?;
    for (l, lesson) in module.lessons.iter().enumerate() {
        let draft = &lesson.lesson;
        sqlx::query(
            "INSERT INTO course_lessons (id, module_id, title, description, content_type,
               content_url, content_body, duration_minutes, sort_order, is_published,
               package_slug, assessment_id, poster_url, captions)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title,
               description = EXCLUDED.description, content_type = EXCLUDED.content_type,
               content_url = EXCLUDED.content_url, content_body = EXCLUDED.content_body,
               poster_url = EXCLUDED.poster_url, captions = EXCLUDED.captions,
               duration_minutes = EXCLUDED.duration_minutes, sort_order = EXCLUDED.sort_order,
               package_slug = EXCLUDED.package_slug, assessment_id = EXCLUDED.assessment_id",
        )
        .bind(demo_id(&format!("{module_key}/lesson/{l}")))
        .bind(module_id)
        .bind(&draft.title)
        .bind(&draft.description)
        .bind(draft.content_type.as_str())
        .bind(&draft.content_url)
        .bind(&draft.content_body)
        .bind(draft.duration_minutes)
        .bind(draft.sort_order)
        .bind(draft.is_published)
        .bind(&lesson.slug)
        .bind(lesson.assessment.as_deref().and_then(assessment_id))
        .bind(&draft.poster_url)
        .bind(sqlx::types::Json(&draft.captions))
        .execute(&mut **tx)
        .await?;
        counts.lessons += 1;
    }
    Ok(())
}

async fn load_assessment(
    tx: &mut Transaction<'static, Postgres>,
    assessment: &TreeAssessment,
    assessment_key: &str,
    course_id: Uuid,
    counts: &mut Counts,
) -> Result<(), sqlx::Error> {
    let assessment_id = demo_id(assessment_key);
    let draft = &assessment.assessment;
    sqlx::query(
        "INSERT INTO assessments (id, course_id, title, description, type, time_limit_minutes,
           max_attempts, passing_score, review_policy, is_published, package_slug)
         VALUES ($1, $2, $3, $4, $5::assessment_type, $6, $7, $8, $9::review_policy, true, $10)
         ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title,
           description = EXCLUDED.description, type = EXCLUDED.type,
           time_limit_minutes = EXCLUDED.time_limit_minutes,
           max_attempts = EXCLUDED.max_attempts, passing_score = EXCLUDED.passing_score,
           review_policy = EXCLUDED.review_policy, package_slug = EXCLUDED.package_slug",
    )
    .bind(assessment_id)
    .bind(course_id)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(draft.kind.as_str())
    .bind(draft.time_limit_minutes)
    .bind(draft.max_attempts)
    .bind(draft.passing_score)
    .bind(draft.review_policy.map(skilltrack_protocol::PgEnum::as_str))
    .bind(&assessment.slug)
    .execute(&mut **tx)
    .await?;
    for (q, question) in assessment.questions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO assessment_questions (id, assessment_id, question_text, question_type,
               options, correct_answer, points, explanation, sort_order)
             VALUES ($1, $2, $3, $4::question_type, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO UPDATE SET question_text = EXCLUDED.question_text,
               question_type = EXCLUDED.question_type, options = EXCLUDED.options,
               correct_answer = EXCLUDED.correct_answer, points = EXCLUDED.points,
               explanation = EXCLUDED.explanation, sort_order = EXCLUDED.sort_order",
        )
        .bind(demo_id(&format!("{assessment_key}/question/{q}")))
        .bind(assessment_id)
        .bind(&question.question_text)
        .bind(question.question_type.as_str())
        .bind(Json(&question.options))
        .bind(
            question
                .answer_key
                .as_ref()
                .map(skilltrack_package::grading::key_to_stored),
        )
        .bind(question.points)
        .bind(&question.explanation)
        .bind(i32::try_from(q).unwrap_or(i32::MAX))
        .execute(&mut **tx)
        .await?;
        counts.questions += 1;
    }
    Ok(())
}

async fn load_lab(
    tx: &mut Transaction<'static, Postgres>,
    lab: &Lab,
    files: Option<&skilltrack_package::lab::LabFiles>,
) -> Result<(), sqlx::Error> {
    let related: Vec<Uuid> = lab
        .related_courses
        .iter()
        .map(|slug| demo_id(&format!("course/{slug}")))
        .collect();
    sqlx::query(
        "INSERT INTO labs (id, category_id, instructor_id, slug, title, description, difficulty,
           duration, technology, provider, features, objectives, prerequisites, instructions,
           environment_template, resource_requirements, max_concurrent_users, estimated_cost,
           setup_instructions, cleanup_instructions, related_courses, is_popular, is_free,
           is_published)
         VALUES ($1, $2, $3, $4, $5, $6, $7::difficulty_level, $8, $9, $10, $11, $12, $13, $14,
           $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
         ON CONFLICT (id) DO UPDATE SET category_id = EXCLUDED.category_id,
           instructor_id = EXCLUDED.instructor_id, slug = EXCLUDED.slug, title = EXCLUDED.title,
           description = EXCLUDED.description, difficulty = EXCLUDED.difficulty,
           duration = EXCLUDED.duration, technology = EXCLUDED.technology,
           provider = EXCLUDED.provider, features = EXCLUDED.features,
           objectives = EXCLUDED.objectives, prerequisites = EXCLUDED.prerequisites,
           instructions = EXCLUDED.instructions,
           environment_template = EXCLUDED.environment_template,
           resource_requirements = EXCLUDED.resource_requirements,
           max_concurrent_users = EXCLUDED.max_concurrent_users,
           estimated_cost = EXCLUDED.estimated_cost,
           setup_instructions = EXCLUDED.setup_instructions,
           cleanup_instructions = EXCLUDED.cleanup_instructions,
           related_courses = EXCLUDED.related_courses, is_popular = EXCLUDED.is_popular,
           is_free = EXCLUDED.is_free, is_published = EXCLUDED.is_published",
    )
    .bind(demo_id(&format!("lab/{}", lab.slug)))
    .bind(demo_id(&format!("lab-category/{}", lab.category)))
    .bind(lab.instructor.as_deref().map(account_id))
    .bind(&lab.slug)
    .bind(&lab.title)
    .bind(&lab.description)
    .bind(lab.difficulty.as_str())
    .bind(&lab.duration)
    .bind(&lab.technology)
    .bind(&lab.provider)
    .bind(&lab.features)
    .bind(&lab.objectives)
    .bind(&lab.prerequisites)
    .bind(&lab.instructions)
    .bind(&lab.environment_template)
    .bind(Json(&lab.resource_requirements))
    .bind(lab.max_concurrent_users)
    .bind(lab.estimated_cost)
    .bind(&lab.setup_instructions)
    .bind(&lab.cleanup_instructions)
    .bind(&related)
    .bind(lab.is_popular)
    .bind(lab.is_free)
    .bind(lab.is_published)
    .execute(&mut **tx)
    .await?;
    // A lab in steps: its intro, steps and finish page come from its files.
    if let Some(files) = files {
        let id = demo_id(&format!("lab/{}", lab.slug));
        if let Some(intro) = &files.intro {
            sqlx::query("UPDATE labs SET instructions = $2 WHERE id = $1")
                .bind(id)
                .bind(intro)
                .execute(&mut **tx)
                .await?;
        }
        super::lab_steps::replace_steps(tx, id, &files.steps).await?;
    }
    Ok(())
}

/// The demo learner is enrolled in the first two free published courses, has finished the first
/// lesson of the first, and has reviewed it, so "my learning" and ratings are not empty.
async fn load_demo_learning(
    tx: &mut Transaction<'static, Postgres>,
    catalog: &Catalog,
) -> Result<(), sqlx::Error> {
    let Some(learner) = catalog
        .accounts
        .iter()
        .find(|a| a.role == skilltrack_protocol::UserRole::Student)
    else {
        return Ok(());
    };
    let learner_id = account_id(&learner.email);
    let published: Vec<&str> = catalog
        .courses
        .iter()
        .filter(|c| c.is_published && c.tree.course.price.is_zero())
        .map(Course::slug)
        .take(2)
        .collect();
    for slug in &published {
        enroll(tx, &learner.email, slug).await?;
    }
    if let Some(first) = published.first() {
        let lesson_id = demo_id(&format!("course/{first}/module/0/lesson/0"));
        sqlx::query(
            "INSERT INTO user_progress (id, user_id, course_id, lesson_id, progress_percentage,
               time_spent_minutes, completed_at)
             VALUES ($1, $2, $3, $4, 100, 12, now()) ON CONFLICT DO NOTHING",
        )
        .bind(demo_id(&format!("progress/{}/{lesson_id}", learner.email)))
        .bind(learner_id)
        .bind(demo_id(&format!("course/{first}")))
        .bind(lesson_id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO course_reviews (id, user_id, course_id, rating, review_text, is_verified_purchase)
             VALUES ($1, $2, $3, 5, $4, true) ON CONFLICT DO NOTHING",
        )
        .bind(demo_id(&format!("review/{}/{first}", learner.email)))
        .bind(learner_id)
        .bind(demo_id(&format!("course/{first}")))
        .bind("Clear explanations and the hands-on exercises made it stick. Recommended!")
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
