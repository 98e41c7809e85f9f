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

/// A request abandoned while its `BEGIN` is on the wire (its client hung up: the handler's
/// future is dropped) must not leave the pooled connection inside that transaction. sqlx 0.8.6
/// rolls back a dropped top-level `BEGIN` only once it has counted it, so the connection went
/// back to the pool inside an open `READ ONLY` transaction and the next request on it, a write,
/// failed with "cannot execute UPDATE in a read-only transaction" (a 500 seen in the client
/// crash test, whose killed client abandons its in-flight pull). A proxy between the pool and
/// PostgreSQL holds the server's answers back, so the request is dropped exactly there.
#[tokio::test]
async fn a_begin_abandoned_on_the_wire_leaves_no_transaction_on_the_pooled_connection() {
    let t = test_db().await;
    let upstream = (*t.owner().connect_options()).clone();
    let proxy = HoldingProxy::start(&upstream);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        // Handed out without a ping, whose answer would be held too.
        .test_before_acquire(false)
        .connect_with(upstream.socket(proxy.dir.path()).port(PROXY_PORT))
        .await
        .unwrap();
    // A first request opens the one connection.
    begin(&pool, Caller::Anonymous, Access::ReadWrite)
        .await
        .unwrap()
        .commit()
        .await
        .unwrap();
    // Its release (a ping, answered) is over before answers are held.
    while pool.num_idle() == 0 {
        tokio::task::yield_now().await;
    }
    proxy.hold.send_replace(true);
    let request = tokio::spawn({
        let pool = pool.clone();
        async move {
            begin(&pool, Caller::Anonymous, Access::ReadOnly)
                .await
                .map(drop)
        }
    });
    // BEGIN READ ONLY has reached PostgreSQL; its answer is held: the client hangs up.
    proxy.sent(b"BEGIN READ ONLY").await;
    request.abort();
    let _ = request.await;
    proxy.hold.send_replace(false);
    let mut next = begin(&pool, Caller::Anonymous, Access::ReadWrite)
        .await
        .unwrap();
    let read_only: String = sqlx::query_scalar("SELECT current_setting('transaction_read_only')")
        .fetch_one(&mut *next)
        .await
        .unwrap();
    next.commit().await.unwrap();
    assert_eq!(
        read_only, "off",
        "the next request ran inside the abandoned READ ONLY transaction"
    );
}

/// The port naming the proxy's socket file (`.s.PGSQL.<port>` in its directory).
const PROXY_PORT: u16 = 5432;

/// A unix-socket proxy to PostgreSQL that passes what clients send at once and, while `hold`
/// is set, keeps PostgreSQL's answers back.
struct HoldingProxy {
    dir: tempfile::TempDir,
    hold: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    sent: tokio::sync::watch::Receiver<Vec<u8>>,
}

impl HoldingProxy {
    fn start(upstream: &sqlx::postgres::PgConnectOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener =
            tokio::net::UnixListener::bind(dir.path().join(format!(".s.PGSQL.{PROXY_PORT}")))
                .unwrap();
        let hold = std::sync::Arc::new(tokio::sync::watch::channel(false).0);
        let (sent_tx, sent) = tokio::sync::watch::channel(Vec::new());
        let sent_tx = std::sync::Arc::new(sent_tx);
        let upstream = upstream.clone();
        let holding = hold.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server: Box<dyn Stream> = match upstream.get_socket() {
                    Some(socket) => Box::new(
                        tokio::net::UnixStream::connect(
                            socket.join(format!(".s.PGSQL.{}", upstream.get_port())),
                        )
                        .await
                        .unwrap(),
                    ),
                    None => Box::new(
                        tokio::net::TcpStream::connect((upstream.get_host(), upstream.get_port()))
                            .await
                            .unwrap(),
                    ),
                };
                let (mut client_rx, mut client_tx) = client.into_split();
                let (mut server_rx, mut server_tx) = tokio::io::split(server);
                let sent_tx = sent_tx.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = client_rx.read(&mut buf).await {
                        sent_tx.send_modify(|s| s.extend_from_slice(&buf[..n]));
                        if server_tx.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                let mut hold = holding.subscribe();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = server_rx.read(&mut buf).await {
                        let _ = hold.wait_for(|h| !*h).await;
                        if client_tx.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self { dir, hold, sent }
    }

    /// Waits until clients have sent `bytes`.
    async fn sent(&self, bytes: &[u8]) {
        let mut sent = self.sent.clone();
        let _ = sent
            .wait_for(|s| s.windows(bytes.len()).any(|w| w == bytes))
            .await;
    }
}

/// Either kind of connection to PostgreSQL.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Stream for T {}
