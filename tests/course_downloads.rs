//! Whole courses offline (issue 17): the engine tells a course's size before fetching
//! anything, downloads every file its lessons need (video, poster, captions, the pictures in
//! lesson text), and a download killed part way — by dropping it at a chosen moment, as a
//! crash or a closed app would — resumes after a restart without fetching again what it had.

use std::path::Path;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;
use skilltrack_client::cache::DownloadState;
use skilltrack_client::course_downloads::CourseDownloadProgress;
use skilltrack_client::sync::{SyncEngine, lock};
use skilltrack_client::tokens::StoreKind;
use skilltrack_protocol::auth::Session;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::Api;
use skilltrack_tests::spawn_demo_server;

const COURSE: &str = "intro-to-the-command-line";
const VIDEO: &[u8] = include_bytes!("../server/seed/media/intro-to-the-terminal.webm");
const POSTER: &[u8] = include_bytes!("../server/seed/media/intro-to-the-terminal.png");
const CAPTIONS_EN: &[u8] = include_bytes!("../server/seed/media/intro-to-the-terminal.en.vtt");
const CAPTIONS_FR: &[u8] = include_bytes!("../server/seed/media/intro-to-the-terminal.fr.vtt");
const CHEAT_SHEET: &[u8] = include_bytes!("../server/seed/media/command-line-cheat-sheet.pdf");

async fn device(url: &str, dir: &Path, session: &Session) -> Arc<SyncEngine> {
    let engine =
        skilltrack_client::device::open(url, dir, &StoreKind::File).expect("opening the device");
    engine.adopt(session.clone()).await.unwrap();
    Arc::new(engine)
}

/// Enrolls `me` in `course` through the API.
async fn enroll(api: &Api, me: &Session, course: &str) {
    let enrolled = api
        .post(
            &format!("/api/v1/courses/{course}/enrollment"),
            Some(&me.access_token),
            json!({}),
        )
        .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{enrolled:?}");
}

/// What a run reported, and where it was stopped (`None`: it finished).
struct Run {
    reports: Vec<CourseDownloadProgress>,
    stopped_at: Option<CourseDownloadProgress>,
}

/// Downloads the course until `stop` says so at a progress report, then drops the download
/// there (the process dying at that point, as far as the files and the cache can tell).
async fn run_until(
    engine: &SyncEngine,
    course: &str,
    dir: &Path,
    stop: impl Fn(&CourseDownloadProgress) -> bool + Send + Sync,
) -> Run {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let reports = Mutex::new(Vec::new());
    let download = engine.download_course(course, None, dir, |p| {
        reports.lock().unwrap().push(p.clone());
        if stop(p) {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(p.clone());
            }
        }
    });
    let stopped_at = tokio::select! {
        biased;
        at = rx => Some(at.unwrap()),
        done = download => {
            done.unwrap();
            None
        }
    };
    Run {
        reports: reports.into_inner().unwrap(),
        stopped_at,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue17_a_course_download_killed_halfway_resumes_without_refetching() {
    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = api
        .sign_up(
            "offline-traveller@example.com",
            "correct horse battery",
            "Tess Traveller",
        )
        .await;
    let course = demo_id(&format!("course/{COURSE}")).to_string();
    enroll(&api, &me, &course).await;
    let data = tempfile::tempdir().unwrap();
    let media = data.path().join("media");

    let engine = device(&server.url, data.path(), &me).await;
    engine.sync_once().await.unwrap();

    // The size first: every file the lessons name, each once, sizes told by the server.
    let plan = engine.course_download_plan(&course, None).await.unwrap();
    let expected = [VIDEO, POSTER, CAPTIONS_EN, CAPTIONS_FR, CHEAT_SHEET];
    assert_eq!(
        plan.files, 5,
        "video, poster (also a picture in the text), two captions, a PDF a lesson links to: \
         {plan:?}"
    );
    assert_eq!(
        (plan.files_done, plan.bytes_done, plan.sizes_unknown),
        (0, 0, 0)
    );
    assert_eq!(
        plan.bytes_total,
        expected.iter().map(|f| f.len() as u64).sum::<u64>(),
        "{plan:?}"
    );

    // Run 1 is killed part way through the first file (the video).
    let run = run_until(&engine, &course, &media, |p| p.bytes_done > 0).await;
    let killed = run.stopped_at.expect("run 1 is stopped");
    assert_eq!(run.reports[0].files_done, 0);
    drop(engine);

    // Run 2, after a restart: it starts from what is on disk (an HTTP Range request), and is
    // killed once the video is whole. Its first report is the course before any file; the
    // second is where the video's download starts: 0 for a fresh start, the bytes on disk
    // for a resumed one.
    let engine = device(&server.url, data.path(), &me).await;
    let run = run_until(&engine, &course, &media, |p| p.files_done >= 1).await;
    assert_eq!(run.reports[0].bytes_done, 0, "{:?}", run.reports[0]);
    assert!(
        run.reports[1].files_done == 0 && run.reports[1].bytes_done > 0,
        "run 2 resumes the video from what run 1 had (about {} bytes), not from 0: {:?}",
        killed.bytes_done,
        run.reports[1]
    );
    assert!(run.stopped_at.is_some(), "run 2 is stopped after the video");
    let video = lock(engine.cache())
        .download("/media/demo/intro-to-the-terminal.webm")
        .unwrap()
        .expect("the video's record");
    assert_eq!(video.state, DownloadState::Complete);
    let video_written = std::fs::metadata(&video.path).unwrap().modified().unwrap();
    drop(engine);

    // Run 3 has the video already: it is not fetched again, and the rest arrives.
    let engine = device(&server.url, data.path(), &me).await;
    let run = run_until(&engine, &course, &media, |_| false).await;
    assert!(run.stopped_at.is_none(), "run 3 finishes");
    assert_eq!(
        run.reports[0].files_done, 1,
        "the whole video counts from the start: {:?}",
        run.reports[0]
    );
    assert_eq!(
        std::fs::metadata(&video.path).unwrap().modified().unwrap(),
        video_written,
        "the video file was not written again"
    );
    assert_eq!(
        std::fs::read(&video.path).unwrap(),
        VIDEO,
        "the video arrived whole and right"
    );
    let plan = engine.course_download_plan(&course, None).await.unwrap();
    assert_eq!(
        (plan.files_done, plan.bytes_done),
        (5, plan.bytes_total),
        "{plan:?}"
    );
    let (files, bytes) = lock(engine.cache()).course_storage(&course).unwrap();
    assert_eq!((files, bytes), (5, plan.bytes_total));

    // A crash after the video's last byte was written but before its record said so: the
    // next run finishes it from disk (asking for the bytes after the last would be a 416).
    let mut unfinished = video.clone();
    unfinished.state = DownloadState::Partial;
    unfinished.bytes_done = 1024;
    lock(engine.cache()).save_download(&unfinished).unwrap();
    let again = engine
        .download(&video.url, video.lesson_id.as_deref(), &media, |_| {})
        .await
        .expect("a whole file on disk finishes without a request");
    assert_eq!(again.state, DownloadState::Complete);
    assert_eq!(
        std::fs::metadata(&video.path).unwrap().modified().unwrap(),
        video_written,
        "finished from disk, not fetched again"
    );
    // Bytes on disk the server cannot continue (longer than its file): fetched again whole.
    let mut longer = std::fs::read(&video.path).unwrap();
    longer.extend_from_slice(b"not part of the video");
    std::fs::write(&video.path, &longer).unwrap();
    let mut unknown = video.clone();
    unknown.state = DownloadState::Partial;
    unknown.bytes_total = None;
    lock(engine.cache()).save_download(&unknown).unwrap();
    let again = engine
        .download(&video.url, video.lesson_id.as_deref(), &media, |_| {})
        .await
        .expect("a 416 starts the file again");
    assert_eq!(again.state, DownloadState::Complete);
    assert_eq!(std::fs::read(&video.path).unwrap(), VIDEO);

    // Deleting the course's downloads frees every byte of it.
    lock(engine.cache()).keep_offline(&course, None).unwrap();
    let freed = engine.delete_course_files(&course).await.unwrap();
    assert_eq!(freed, plan.bytes_total);
    assert!(!Path::new(&video.path).exists());
    assert!(lock(engine.cache()).offline_requests().unwrap().is_empty());
}

/// Issue 17's "keep the next lessons of enrolled courses downloaded": the engine keeps the next
/// three lessons not completed of each enrolled course on disk, lets go of what it fetched for
/// a lesson once it is done (never what the learner downloaded), and fetches only what fits
/// under the learner's storage limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue17_the_next_lessons_of_enrolled_courses_stay_downloaded() {
    use skilltrack_client::course_downloads::LESSONS_AHEAD;
    use skilltrack_client::writes::ProgressInput;
    use skilltrack_protocol::sync::SyncTable;

    let server = spawn_demo_server().await;
    let api = Api::new(&server.url);
    let me = api
        .sign_up("ahead@example.com", "correct horse battery", "Ada Ahead")
        .await;
    let course = demo_id(&format!("course/{COURSE}")).to_string();
    let data = tempfile::tempdir().unwrap();
    let media = data.path().join("media");
    let engine = device(&server.url, data.path(), &me).await;
    engine.sync_once().await.unwrap();

    // Not enrolled: nothing to keep.
    let none = engine
        .keep_next_lessons(&media, LESSONS_AHEAD, None, |_| {})
        .await
        .unwrap();
    assert_eq!((none.courses, none.files), (0, 0), "{none:?}");

    enroll(&api, &me, &course).await;
    engine.sync_once().await.unwrap();

    // A limit that leaves the video out: the rest of the first three lessons fits.
    let small = [POSTER, CAPTIONS_EN, CAPTIONS_FR, CHEAT_SHEET]
        .iter()
        .map(|f| f.len() as u64)
        .sum::<u64>();
    let limited = engine
        .keep_next_lessons(&media, LESSONS_AHEAD, Some(small), |_| {})
        .await
        .unwrap();
    assert_eq!(
        (limited.courses, limited.lessons, limited.files),
        (1, 3, 5),
        "the first three lessons need the video, its poster (also a picture of its text), \
         two captions and the cheat sheet: {limited:?}"
    );
    assert_eq!(
        (
            limited.files_done,
            limited.files_over_limit,
            limited.bytes_done
        ),
        (4, 1, small),
        "{limited:?}"
    );
    let video = "/media/demo/intro-to-the-terminal.webm";
    assert!(lock(engine.cache()).download(video).unwrap().is_none());

    // No limit: the video comes too, and everything is whole.
    let all = engine
        .keep_next_lessons(&media, LESSONS_AHEAD, None, |_| {})
        .await
        .unwrap();
    assert_eq!((all.files_done, all.files_over_limit), (5, 0), "{all:?}");
    let on_disk = |url: &str| {
        lock(engine.cache())
            .download(url)
            .unwrap()
            .is_some_and(|d| d.state == DownloadState::Complete && Path::new(&d.path).exists())
    };
    assert!(on_disk(video));

    // Completing the first lesson (the video, its poster also a picture of its text) moves
    // the window: its four files go, the second lesson's cheat sheet stays.
    let lesson_one: uuid::Uuid = lock(engine.cache())
        .all_rows(SyncTable::CourseLessons)
        .unwrap()
        .iter()
        .find(|l| l["content_url"] == video)
        .and_then(|l| l["id"].as_str())
        .unwrap()
        .parse()
        .unwrap();
    engine
        .record_progress(
            lesson_one,
            ProgressInput {
                completed: true,
                ..ProgressInput::default()
            },
        )
        .await
        .unwrap();
    engine.sync_once().await.unwrap();
    let moved = engine
        .keep_next_lessons(&media, LESSONS_AHEAD, None, |_| {})
        .await
        .unwrap();
    assert_eq!(
        (
            moved.lessons,
            moved.files,
            moved.files_done,
            moved.files_released
        ),
        (3, 1, 1, 4),
        "lessons 2-4 need the cheat sheet only; the video, its poster and captions go: \
         {moved:?}"
    );
    assert!(!on_disk(video), "the video of a lesson done is deleted");
    assert!(!on_disk("/media/demo/intro-to-the-terminal.en.vtt"));
    assert!(!on_disk("/media/demo/intro-to-the-terminal.png"));
    assert!(on_disk("/media/demo/command-line-cheat-sheet.pdf"));

    // A file the learner downloaded is never let go by the queue.
    engine
        .download(video, Some(&lesson_one.to_string()), &media, |_| {})
        .await
        .unwrap();
    let again = engine
        .keep_next_lessons(&media, LESSONS_AHEAD, None, |_| {})
        .await
        .unwrap();
    assert_eq!(again.files_released, 0, "{again:?}");
    assert!(on_disk(video), "the learner's own download stays");
}
