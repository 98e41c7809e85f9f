//! How the window paints: with the GPU only where there is one.
//!
//! `WebKitGTK` composites pages with OpenGL by default. On a machine with no GPU (a VM, a remote
//! desktop, Xvfb) that OpenGL is Mesa's software rasteriser, in the web process: every layer
//! becomes a texture in ordinary memory and every frame is rasterised twice on the CPU. On this
//! project's dev VM that costs the web process about 70 MiB for an empty page and 110 MiB for
//! the catalog (docs/benchmarks.md, decision 141), and buys nothing. So without a GPU the window
//! paints on the CPU directly (`WebKit`'s `HardwareAccelerationPolicy::Never`); with one, `WebKit`
//! keeps its default.
//!
//! `SKILLTRACK_GPU` overrides the choice: `on` (`WebKit`'s default, whatever the machine), `off`
//! (never the GPU), `auto` (the default).

use std::path::Path;

/// Whether the window composites with the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gpu {
    /// `WebKit`'s default: composite with OpenGL.
    On,
    /// Paint on the CPU, no OpenGL.
    Off,
}

impl Gpu {
    /// The choice for this machine: `SKILLTRACK_GPU` if set to `on` or `off`, else `On` when
    /// the kernel offers a GPU render node (`/dev/dri/renderD*`), else `Off`.
    pub fn choose() -> Self {
        let setting = std::env::var("SKILLTRACK_GPU").unwrap_or_default();
        Self::from_setting(&setting).unwrap_or_else(|| Self::detect(Path::new("/dev/dri")))
    }

    /// `on` or `off`; `None` for `auto`, empty, or anything else.
    fn from_setting(setting: &str) -> Option<Self> {
        match setting.trim().to_ascii_lowercase().as_str() {
            "on" | "1" | "true" => Some(Self::On),
            "off" | "0" | "false" => Some(Self::Off),
            _ => None,
        }
    }

    /// `On` when `dri` holds a render node: a GPU (or a virtual one) that OpenGL can use.
    fn detect(dri: &Path) -> Self {
        let has_render_node = std::fs::read_dir(dri).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        });
        if has_render_node { Self::On } else { Self::Off }
    }
}

/// Applies `gpu` to the window's webview. Call it as soon as the window exists: `WebKit` reads
/// the policy when the page's web process starts drawing, and a later change keeps the memory
/// the OpenGL compositor already took.
pub fn apply<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>, gpu: Gpu) -> tauri::Result<()> {
    tracing::info!(gpu = ?gpu, "window rendering");
    if gpu == Gpu::On {
        return Ok(());
    }
    window.with_webview(|webview| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt as _, WebViewExt as _};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = webview;
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

    use super::*;

    #[test]
    fn the_setting_wins_and_auto_leaves_it_to_the_machine() {
        assert_eq!(Gpu::from_setting("on"), Some(Gpu::On));
        assert_eq!(Gpu::from_setting(" OFF "), Some(Gpu::Off));
        assert_eq!(Gpu::from_setting("auto"), None);
        assert_eq!(Gpu::from_setting(""), None);
        assert_eq!(Gpu::from_setting("maybe"), None);
    }

    #[test]
    fn a_render_node_means_a_gpu() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Gpu::detect(&dir.path().join("missing")), Gpu::Off);
        std::fs::write(dir.path().join("card0"), "").unwrap();
        assert_eq!(Gpu::detect(dir.path()), Gpu::Off);
        std::fs::write(dir.path().join("renderD128"), "").unwrap();
        assert_eq!(Gpu::detect(dir.path()), Gpu::On);
    }
}
