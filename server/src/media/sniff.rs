//! What a file is, from its first bytes: the declared `Content-Type` of an upload must agree.

/// The media types the platform accepts, with the extension stored files get.
pub const ACCEPTED: &[(&str, &str)] = &[
    ("video/webm", "webm"),
    ("video/mp4", "mp4"),
    ("audio/mpeg", "mp3"),
    ("audio/ogg", "ogg"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
    ("application/pdf", "pdf"),
    ("application/zip", "zip"),
    ("text/markdown", "md"),
    ("text/vtt", "vtt"),
    ("text/plain", "txt"),
];

/// How many leading bytes [`sniff`] looks at.
pub const HEAD_LEN: usize = 512;

/// The media type the bytes show, among [`ACCEPTED`]; `None` if unrecognised. Text is any
/// NUL-free UTF-8 (a cut-off multi-byte character at the end of the head is fine).
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("video/webm");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some("video/mp4");
    }
    if starts(b"ID3") || starts(&[0xFF, 0xFB]) || starts(&[0xFF, 0xF3]) || starts(&[0xFF, 0xF2]) {
        return Some("audio/mpeg");
    }
    if starts(b"OggS") {
        return Some("audio/ogg");
    }
    if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some("image/png");
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("image/gif");
    }
    if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return Some("application/zip");
    }
    if !head.is_empty() && !head.contains(&0) && is_utf8_prefix(head) {
        return Some(if is_webvtt(head) {
            "text/vtt"
        } else {
            "text/plain"
        });
    }
    None
}

fn is_utf8_prefix(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        // Valid up to a character cut off by the head's end.
        Err(e) => e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    }
}

/// Whether text opens as a WebVTT file must: an optional byte-order mark, `WEBVTT`, then a
/// space, a tab or the end of the line.
fn is_webvtt(head: &[u8]) -> bool {
    let head = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(head);
    head.strip_prefix(b"WEBVTT")
        .is_some_and(|rest| matches!(rest.first(), None | Some(b' ' | b'\t' | b'\n' | b'\r')))
}

/// Whether a declared type agrees with the sniffed one (markdown is text, and so is a WebVTT
/// file sent as plain text). A file declared `text/vtt` must open as WebVTT does.
pub fn agrees(declared: &str, sniffed: &str) -> bool {
    declared == sniffed
        || (matches!(declared, "text/markdown" | "text/plain")
            && matches!(sniffed, "text/plain" | "text/vtt"))
}

/// The stored extension of an accepted type.
pub fn extension(mime: &str) -> Option<&'static str> {
    ACCEPTED.iter().find(|(m, _)| *m == mime).map(|(_, e)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_recognised_by_their_bytes() {
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1, 2]), Some("video/webm"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some("video/mp4"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff("# Título\n".as_bytes()), Some("text/plain"));
        assert_eq!(
            sniff(&"é".as_bytes()[..1]),
            Some("text/plain"),
            "a cut-off character"
        );
        assert_eq!(
            sniff(b"MZ\x90\0\x03"),
            None,
            "an executable is not accepted"
        );
        assert_eq!(
            sniff(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi"),
            Some("text/vtt")
        );
        assert_eq!(
            sniff("\u{feff}WEBVTT - a title\n".as_bytes()),
            Some("text/vtt")
        );
        assert_eq!(sniff(b"WEBVTTX\n"), Some("text/plain"));
        assert!(agrees("text/vtt", "text/vtt"));
        assert!(
            !agrees("text/vtt", "text/plain"),
            "captions that are not WebVTT are refused"
        );
        assert!(agrees("text/plain", "text/vtt"));
        assert!(agrees("text/markdown", "text/plain"));
        assert!(!agrees("video/mp4", "text/plain"));
        assert_eq!(extension("video/webm"), Some("webm"));
    }
}
