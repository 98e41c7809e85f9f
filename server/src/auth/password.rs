//! Argon2id password hashing, off the async runtime (it is slow on purpose), on threads of its
//! own that reuse their memory ([`Hashers`]).

use argon2::password_hash::{
    Output, ParamsString, PasswordHash, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version, password_hash::rand_core::OsRng};

/// The shortest password accepted.
pub const MIN_LEN: usize = 8;
/// The longest password accepted (long enough for passphrases and password managers, short
/// enough that hashing it is not a denial of service).
pub const MAX_LEN: usize = 128;

/// Argon2 runs on a few threads of its own, one per core, each reusing one block of memory.
///
/// Argon2id takes 19 MiB per hash. Run on the blocking pool, every hash allocated its 19 MiB
/// afresh on whichever thread ran it, and the allocator kept what each thread's arena had held:
/// the server's resident memory grew by 490 MiB while 200 learners signed up eight at a time,
/// and to 1.5 GiB for a thousand (`live-fanout`); one at a time it did not grow at all. Here the
/// memory is taken once per thread and never given back, so a burst of sign-ins costs what a few
/// hashes cost, and queues (at most one hash per core at once) rather than taking every core.
struct Hashers {
    jobs: std::sync::mpsc::Sender<Job>,
}

/// Work for a hashing thread, with where to send its answer.
enum Job {
    Hash {
        password: String,
        answer: tokio::sync::oneshot::Sender<Result<String, argon2::password_hash::Error>>,
    },
    Verify {
        password: String,
        stored: Option<String>,
        answer: tokio::sync::oneshot::Sender<bool>,
    },
}

fn hashers() -> &'static Hashers {
    static HASHERS: std::sync::OnceLock<Hashers> = std::sync::OnceLock::new();
    HASHERS.get_or_init(|| {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..std::thread::available_parallelism().map_or(2, usize::from) {
            let queue = std::sync::Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || hashing_thread(&queue));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "a password hashing thread did not start");
            }
        }
        Hashers { jobs }
    })
}

/// One hashing thread: its memory, taken once, serves every hash it runs.
fn hashing_thread(queue: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>) {
    let mut memory = vec![argon2::Block::default(); Params::default().block_count()];
    loop {
        let job = {
            let queue = queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queue.recv()
        };
        let Ok(job) = job else { return };
        match job {
            Job::Hash { password, answer } => {
                let _ = answer.send(hash_with(&password, &mut memory));
            }
            Job::Verify {
                password,
                stored,
                answer,
            } => {
                let _ = answer.send(verify_with(&password, stored.as_deref(), &mut memory));
            }
        }
    }
}

/// Hands `job` to a hashing thread.
fn submit(job: Job) {
    // The threads never stop while the process runs.
    let _ = hashers().jobs.send(job);
}

/// Hashes a password into a PHC string (Argon2id, the crate's default parameters) in `memory`.
fn hash_with(
    password: &str,
    memory: &mut [argon2::Block],
) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let output = argon2id(password, salt.as_salt(), Params::DEFAULT_OUTPUT_LEN, memory)?;
    Ok(PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(&Params::default())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Argon2id with our (the crate's default) parameters, in `memory`: what the crate's own
/// `hash_password` computes, without allocating.
fn argon2id(
    password: &str,
    salt: argon2::password_hash::Salt<'_>,
    len: usize,
    memory: &mut [argon2::Block],
) -> Result<Output, argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    Output::init_with(len, |out| {
        Argon2::default()
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *memory)
            .map_err(argon2::password_hash::Error::from)
    })
}

/// Whether `password` is the one `stored` was made from. A hash made with other parameters than
/// ours (none is, today) is checked by the crate itself, in memory of its own.
fn verify_with(password: &str, stored: Option<&str>, memory: &mut [argon2::Block]) -> bool {
    let phc = stored.map_or_else(
        || {
            DUMMY_HASH
                .get_or_init(|| hash_with("dummy password", memory).unwrap_or_default())
                .clone()
        },
        str::to_owned,
    );
    let Ok(parsed) = PasswordHash::new(&phc) else {
        return false;
    };
    let ours = parsed.algorithm == Algorithm::default().ident()
        && parsed.version == Some(Version::default().into())
        && Params::try_from(&parsed).is_ok_and(|p| {
            p.m_cost() == Params::DEFAULT_M_COST
                && p.t_cost() == Params::DEFAULT_T_COST
                && p.p_cost() == Params::DEFAULT_P_COST
        });
    let matches = match (ours, parsed.salt, parsed.hash) {
        (true, Some(salt), Some(expected)) if expected.len() == Params::DEFAULT_OUTPUT_LEN => {
            // `Output`'s equality takes the same time wherever the bytes differ.
            argon2id(password, salt, expected.len(), memory).is_ok_and(|hash| hash == expected)
        }
        _ => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
    };
    matches && stored.is_some()
}

/// Hashes a password on a hashing thread.
pub async fn hash(password: String) -> Result<String, String> {
    let (answer, hashed) = tokio::sync::oneshot::channel();
    submit(Job::Hash { password, answer });
    hashed
        .await
        .map_err(|_| "the password hashing thread stopped".to_owned())?
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored PHC string on a hashing thread. With no stored hash
/// (unknown account) it still spends the same time on a dummy hash, so response times do not
/// tell which e-mail addresses have accounts.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let (answer, checked) = tokio::sync::oneshot::channel();
    submit(Job::Verify {
        password,
        stored,
        answer,
    });
    checked.await.unwrap_or(false)
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let phc = hash("correct horse".to_owned()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse".to_owned(), Some(phc.clone())).await);
        assert!(!verify("correct horsE".to_owned(), Some(phc)).await);
        assert!(!verify("correct horse".to_owned(), None).await);
        assert!(!verify("x".to_owned(), Some("not a hash".to_owned())).await);
    }

    /// Hashes made before (by the crate's own `hash_password`) still verify, and ours verify
    /// with the crate: the same function, only the memory is reused.
    #[tokio::test]
    async fn hashes_agree_with_the_crates_own() {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse".to_owned(), Some(theirs.clone())).await);
        assert!(!verify("correct horsE".to_owned(), Some(theirs)).await);
        let ours = hash("battery staple".to_owned()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"battery staple", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"battery stapler", &parsed)
                .is_err()
        );
        // Other parameters go to the crate's own check.
        let cheap = Argon2::from(Params::new(1024, 1, 1, None).unwrap())
            .hash_password(b"cheap", &salt)
            .unwrap()
            .to_string();
        assert!(verify("cheap".to_owned(), Some(cheap.clone())).await);
        assert!(!verify("cheaper".to_owned(), Some(cheap)).await);
    }
}
