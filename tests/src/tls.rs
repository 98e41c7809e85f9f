//! A TLS front for a test server, as production puts one before it: a certificate authority
//! made for the test (so no client trusts it unless told to), a certificate for `localhost`
//! from it, and a proxy that ends TLS and passes the bytes on to the plain server.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The front; dropping it stops it.
#[derive(Debug)]
pub struct TlsFront {
    /// `https://localhost:<port>`: point clients here.
    pub url: String,
    /// The test's certificate authority, PEM: what a client must be told to trust.
    pub ca_pem: String,
    /// The same authority, DER.
    pub ca_der: CertificateDer<'static>,
    accept: AbortHandle,
}

impl TlsFront {
    /// Starts a TLS front to the plain server at `target` (`http://127.0.0.1:<port>`).
    pub async fn start(target: &str) -> Self {
        Self::start_with(target, false).await
    }

    /// As [`TlsFront::start`], but a connection that opens with plain HTTP instead of a TLS
    /// handshake is passed on as it is: the same port answers `https://` and `http://`, as a
    /// badly configured front might, so a test can see what a client sends in clear after a
    /// redirect from `https://host:port` to `http://host:port`.
    pub async fn start_answering_plain_http_too(target: &str) -> Self {
        Self::start_with(target, true).await
    }

    async fn start_with(target: &str, plain_too: bool) -> Self {
        let target = target.trim_start_matches("http://").to_owned();
        let ca_key = rcgen::KeyPair::generate().expect("a CA key");
        let mut ca_params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Skilltrack test authority");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = ca_params.self_signed(&ca_key).expect("the CA certificate");
        let key = rcgen::KeyPair::generate().expect("a server key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("server parameters")
            .signed_by(&key, &ca, &ca_key)
            .expect("the server certificate");

        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("the server's certificate and key");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the TLS front");
        let port = listener.local_addr().expect("address").port();
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let (acceptor, target) = (acceptor.clone(), target.clone());
                tokio::spawn(async move {
                    // A TLS connection opens with a handshake record (type 22).
                    let mut first = [0_u8; 1];
                    if plain_too
                        && matches!(inbound.peek(&mut first).await, Ok(1) if first[0] != 22)
                    {
                        let mut inbound = inbound;
                        if let Ok(mut outbound) = TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                        return;
                    }
                    // A client that refuses the certificate ends its handshake here.
                    let Ok(mut inbound) = acceptor.accept(inbound).await else {
                        return;
                    };
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        })
        .abort_handle();
        Self {
            url: format!("https://localhost:{port}"),
            ca_pem: ca.pem(),
            ca_der: ca.der().clone(),
            accept,
        }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
