//! The window shows the app and nothing else: a navigation guard refuses every page that is not
//! the app's own, so nothing a lesson's author writes (a link the sanitizer missed, a script
//! that got through) can replace the app with a look-alike sign-in page. Links are opened in
//! the OS browser by the window itself, after the learner confirms (`ui/src/LinkGuard.svelte`,
//! through the opener plugin); the guard is the line behind that.
//!
//! The app's own pages: in a release build (`embedded-ui`) the embedded files, served as
//! `tauri://localhost` on Linux and macOS and `http(s)://tauri.localhost` on Windows; in a dev
//! build (`--no-default-features`) the Vite dev server at `tauri.conf.json`'s `devUrl`.

use tauri::plugin::TauriPlugin;
use tauri::{Emitter as _, Manager as _, Runtime, Url};

/// The event that tells the window a navigation was refused (payload: the address).
pub const NAVIGATION_REFUSED_EVENT: &str = "navigation-refused";

/// The guard, as a plugin: plugins' navigation hooks apply to every webview, including the
/// main window that Tauri makes from the config.
pub fn guard<R: Runtime>() -> TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            let dev_url = if tauri::is_dev() {
                webview.config().build.dev_url.clone()
            } else {
                None
            };
            let allowed = is_app_page(url, dev_url.as_ref());
            if !allowed {
                tracing::warn!(%url, "refused to navigate the window away from the app");
                // Told from a task: this hook runs inside the webview's policy decision.
                let webview = webview.clone();
                let address = url.to_string();
                tauri::async_runtime::spawn(async move {
                    let _ = webview.emit(NAVIGATION_REFUSED_EVENT, address);
                });
            }
            allowed
        })
        .build()
}

/// Whether `url` is one of the app's own pages: the dev server's origin when there is one
/// (`dev_url`), else the embedded files' origins.
pub fn is_app_page(url: &Url, dev_url: Option<&Url>) -> bool {
    match dev_url {
        Some(dev) => {
            url.scheme() == dev.scheme()
                && url.host_str() == dev.host_str()
                && url.port_or_known_default() == dev.port_or_known_default()
        }
        None => matches!(
            (url.scheme(), url.host_str(), url.port()),
            ("tauri", Some("localhost"), None) | ("http" | "https", Some("tauri.localhost"), None)
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().unwrap()
    }

    #[test]
    fn the_embedded_app_is_its_own_origin_only() {
        for ok in [
            "tauri://localhost",
            "tauri://localhost/index.html",
            "tauri://localhost/assets/Lesson.js#x",
            "http://tauri.localhost/",
            "https://tauri.localhost/index.html",
        ] {
            assert!(is_app_page(&url(ok), None), "{ok}");
        }
        for refused in [
            "http://example.com/",
            "https://tauri.localhost.evil.example/",
            "https://evil.example/?tauri://localhost",
            "tauri://localhost.evil.example/",
            "tauri://evil/",
            "http://tauri.localhost:8080/",
            "http://localhost:5173/",
            "http://127.0.0.1:8787/",
            "file:///etc/passwd",
            "data:text/html,<h1>Sign in</h1>",
            "javascript:alert(1)",
            "about:blank",
        ] {
            assert!(!is_app_page(&url(refused), None), "{refused}");
        }
    }

    #[test]
    fn in_development_the_dev_server_is_the_app() {
        let dev = url("http://localhost:5173");
        assert!(is_app_page(&url("http://localhost:5173/"), Some(&dev)));
        assert!(is_app_page(
            &url("http://localhost:5173/src/main.ts?t=1"),
            Some(&dev)
        ));
        for refused in [
            "http://localhost:5174/",
            "https://localhost:5173/",
            "http://127.0.0.1:5173/",
            "tauri://localhost/",
            "http://example.com/",
        ] {
            assert!(!is_app_page(&url(refused), Some(&dev)), "{refused}");
        }
    }
}
