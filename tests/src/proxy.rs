//! A TCP proxy in front of a test server that can "lose the network": offline, it cuts every
//! open connection and refuses new ones, as a dropped Wi-Fi does to the desktop app.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// The proxy; dropping it stops it.
#[derive(Debug)]
pub struct Proxy {
    /// `http://127.0.0.1:<port>`: point clients here.
    pub url: String,
    online: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Proxy {
    /// Starts a proxy to the server at `target` (`http://127.0.0.1:<port>`), online.
    pub async fn start(target: &str) -> Self {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the proxy");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let online = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (on, conns) = (Arc::clone(&online), Arc::clone(&connections));
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !on.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(task.abort_handle());
            }
        })
        .abort_handle();
        Self {
            url,
            online,
            connections,
            accept,
        }
    }

    /// Brings the network back, or loses it (cutting every open connection).
    pub fn set_online(&self, online: bool) {
        self.online.store(online, Ordering::SeqCst);
        if !online {
            for c in self
                .connections
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .drain(..)
            {
                c.abort();
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.set_online(false);
        self.accept.abort();
    }
}
