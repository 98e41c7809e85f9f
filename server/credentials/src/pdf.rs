//! A printable certificate: one A4 landscape page that shows what the credential says, the
//! address where anyone can check it (as text, as a link and as a QR code), and carries the
//! signed credential itself, twice over so that any reader finds it: as an attached file,
//! `credential.jwt` (the catalog's `EmbeddedFiles` name tree and `/AF`), and in the document
//! information dictionary under `/SkilltrackCredential`.
//!
//! The PDF is written by hand (PDF 1.7, uncompressed, the standard Helvetica fonts, so no font
//! is embedded): a certificate needs a handful of objects, and a PDF library would be the
//! largest dependency of the crate. The same credential always gives the same bytes.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::credential::unverified_claims;

/// The name of the attached credential.
pub const ATTACHMENT_NAME: &str = "credential.jwt";

/// The information dictionary's key for the credential.
pub const INFO_KEY: &str = "SkilltrackCredential";

/// A4 landscape, in points.
const PAGE: (f32, f32) = (842.0, 595.0);

/// The brand colour (the app's `--brand`), as PDF fill values.
const BRAND: (f32, f32, f32) = (0.051, 0.451, 0.467);

/// What the certificate shows, and the credential it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePdf {
    /// The compact VC-JWT, attached.
    pub credential: String,
    /// The learner's name.
    pub learner_name: String,
    /// The course's title.
    pub course_title: String,
    /// When the certificate was issued.
    pub issued_at: DateTime<Utc>,
    /// Who issued it (the instance's name).
    pub issuer_name: String,
    /// The certificate's number.
    pub certificate_number: String,
    /// Where anyone can check it.
    pub verification_url: String,
}

impl CertificatePdf {
    /// The certificate of a credential, every visible field read from the credential's own
    /// claims, so the page shows exactly what is signed. The number is the last segment of the
    /// credential's id (its public check, `…/certificates/<number>`), which is also the
    /// verification address. `None` if it is not a readable `OpenBadgeCredential`; it is not
    /// verified here.
    pub fn from_credential(jwt: &str) -> Option<Self> {
        let claims = unverified_claims(jwt)?;
        let vc = claims.get("vc")?;
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
        let subject = vc.get("credentialSubject")?;
        let id = text(vc.get("id"))?;
        let issued_at = text(vc.get("validFrom"))
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())?
            .with_timezone(&Utc);
        Some(Self {
            credential: jwt.trim().to_owned(),
            learner_name: text(subject.get("name")).unwrap_or_default(),
            course_title: text(subject.get("achievement").and_then(|a| a.get("name")))?,
            issued_at,
            issuer_name: text(vc.get("issuer").and_then(|i| i.get("name")))
                .or_else(|| text(claims.get("iss")))?,
            certificate_number: id.rsplit('/').next().unwrap_or_default().to_owned(),
            verification_url: id,
        })
    }
}

/// Helvetica's advance widths (per 1000 em) of the printable ASCII characters, from its AFM;
/// for centring text without embedding the font.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// Helvetica-Bold's, likewise.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// The two fonts the page uses.
#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Self::Regular => "/F1",
            Self::Bold => "/F2",
        }
    }

    /// The width of WinAnsi-encoded text at `size` points.
    fn width(self, text: &[u8], size: f32) -> f32 {
        let table = match self {
            Self::Regular => &HELVETICA,
            Self::Bold => &HELVETICA_BOLD,
        };
        let units: u32 = text
            .iter()
            .map(|&b| {
                // Accented letters are about as wide as the average lower-case letter.
                u32::from(
                    table
                        .get(usize::from(b.wrapping_sub(32)))
                        .copied()
                        .unwrap_or(556),
                )
            })
            .sum();
        #[allow(clippy::cast_precision_loss)] // far below 2^24
        let units = units as f32;
        units * size / 1000.0
    }
}

/// Text in the standard fonts' `WinAnsiEncoding`: Latin-1 and the usual typographic marks
/// pass; anything else becomes `?` (Helvetica has no glyph for it), and control characters
/// (line breaks in a name) a space.
fn winansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            c if c.is_control() => b' ',
            _ => b'?',
        })
        .collect()
}

/// A PDF literal string of bytes: the delimiters and the backslash escaped, and everything
/// outside printable ASCII written in octal, so the file stays 7-bit.
fn literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            b' '..=b'~' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// A PDF text string (for the information dictionary and the file name): a literal when it
/// is printable ASCII, else UTF-16BE with a byte-order mark, as the format asks.
fn text_string(text: &str) -> String {
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return literal(text.as_bytes());
    }
    let mut out = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// The page's content stream, drawn operator by operator.
#[derive(Default)]
struct Content(String);

impl Content {
    fn op(&mut self, op: std::fmt::Arguments<'_>) {
        let _ = self.0.write_fmt(op);
        self.0.push('\n');
    }

    fn fill(&mut self, (r, g, b): (f32, f32, f32)) {
        self.op(format_args!("{r:.3} {g:.3} {b:.3} rg"));
    }

    /// Text whose left end is at `x`; its width.
    fn text_at(&mut self, font: Font, size: f32, x: f32, y: f32, text: &str) -> f32 {
        let bytes = winansi(text);
        self.op(format_args!(
            "BT {} {size:.1} Tf 1 0 0 1 {x:.2} {y:.2} Tm {} Tj ET",
            font.resource(),
            literal(&bytes)
        ));
        font.width(&bytes, size)
    }

    /// Text centred on the page, made smaller until it fits in `max_width`.
    fn centred(&mut self, font: Font, size: f32, y: f32, max_width: f32, text: &str) {
        let width = font.width(&winansi(text), size);
        let size = if width > max_width {
            (size * max_width / width).max(6.0)
        } else {
            size
        };
        let width = font.width(&winansi(text), size);
        self.text_at(font, size, (PAGE.0 - width) / 2.0, y, text);
    }

    /// A QR code with its quiet zone, `side` points square, its lower-left corner at `(x, y)`;
    /// dark modules are drawn as rectangles, a row's adjacent ones as one.
    fn qr(&mut self, code: &qrcode::QrCode, x: f32, y: f32, side: f32) {
        let width = code.width();
        #[allow(clippy::cast_precision_loss)] // a QR code is at most 177 modules wide
        let module = side / (width + 8) as f32;
        self.fill((1.0, 1.0, 1.0));
        self.op(format_args!("{x:.2} {y:.2} {side:.2} {side:.2} re f"));
        self.fill((0.0, 0.0, 0.0));
        let colors = code.to_colors();
        for (row, line) in colors.chunks(width).enumerate() {
            let mut column = 0;
            while column < line.len() {
                if line[column] != qrcode::Color::Dark {
                    column += 1;
                    continue;
                }
                let start = column;
                while column < line.len() && line[column] == qrcode::Color::Dark {
                    column += 1;
                }
                #[allow(clippy::cast_precision_loss)] // small
                let (left, top, run) = (
                    x + (start + 4) as f32 * module,
                    y + side - (row + 5) as f32 * module,
                    (column - start) as f32 * module,
                );
                self.op(format_args!("{left:.3} {top:.3} {run:.3} {module:.3} re"));
            }
        }
        self.op(format_args!("f"));
    }
}

/// A clickable area that opens `url`.
fn link(rect: [f32; 4], url: &str) -> String {
    format!(
        "<< /Type /Annot /Subtype /Link /Rect [{:.2} {:.2} {:.2} {:.2}] /Border [0 0 0] /A << /S /URI /URI {} >> >>",
        rect[0],
        rect[1],
        rect[2],
        rect[3],
        literal(url.as_bytes())
    )
}

/// The page's content stream and its link annotations.
fn draw_page(cert: &CertificatePdf) -> (String, Vec<String>) {
    let (w, h) = PAGE;
    let mut page = Content::default();
    // A double frame in the brand colour.
    page.op(format_args!(
        "{:.3} {:.3} {:.3} RG",
        BRAND.0, BRAND.1, BRAND.2
    ));
    page.op(format_args!(
        "4 w 24 24 {:.0} {:.0} re S",
        w - 48.0,
        h - 48.0
    ));
    page.op(format_args!(
        "1 w 34 34 {:.0} {:.0} re S",
        w - 68.0,
        h - 68.0
    ));

    let text_width = w - 160.0;
    page.fill(BRAND);
    page.centred(
        Font::Bold,
        30.0,
        480.0,
        text_width,
        "CERTIFICATE OF COMPLETION",
    );
    page.fill((0.2, 0.2, 0.2));
    page.centred(
        Font::Regular,
        14.0,
        435.0,
        text_width,
        "This certifies that",
    );
    page.fill((0.0, 0.0, 0.0));
    page.centred(Font::Bold, 32.0, 390.0, text_width, &cert.learner_name);
    page.fill((0.2, 0.2, 0.2));
    page.centred(
        Font::Regular,
        14.0,
        350.0,
        text_width,
        "has completed the course",
    );
    page.fill((0.0, 0.0, 0.0));
    page.centred(Font::Bold, 22.0, 312.0, text_width, &cert.course_title);
    page.fill((0.2, 0.2, 0.2));
    let issued = format!(
        "Issued on {} by {}",
        cert.issued_at.format("%-d %B %Y"),
        cert.issuer_name
    );
    page.centred(Font::Regular, 13.0, 270.0, text_width, &issued);

    // The number and the check, bottom left; the QR code of the check, bottom right.
    let left = 60.0;
    page.fill((0.0, 0.0, 0.0));
    page.text_at(
        Font::Regular,
        11.0,
        left,
        128.0,
        &format!("Certificate number: {}", cert.certificate_number),
    );
    page.text_at(Font::Regular, 10.0, left, 108.0, "Verify it at:");
    page.fill(BRAND);
    let url_size = 9.0;
    let url_width = page.text_at(Font::Regular, url_size, left, 94.0, &cert.verification_url);
    page.fill((0.3, 0.3, 0.3));
    page.text_at(
        Font::Regular,
        8.0,
        left,
        70.0,
        "The signed credential (Open Badges 3.0, VC-JWT) is attached to this file as credential.jwt.",
    );
    let mut annotations = vec![link(
        [left, 91.0, left + url_width, 94.0 + url_size],
        &cert.verification_url,
    )];
    let qr_side = 130.0;
    let (qr_x, qr_y) = (w - 60.0 - qr_side, 50.0);
    if let Ok(code) = qrcode::QrCode::with_error_correction_level(
        cert.verification_url.as_bytes(),
        qrcode::EcLevel::M,
    ) {
        page.qr(&code, qr_x, qr_y, qr_side);
        annotations.push(link(
            [qr_x, qr_y, qr_x + qr_side, qr_y + qr_side],
            &cert.verification_url,
        ));
    }
    (page.0, annotations)
}

/// The certificate as a one-page PDF.
pub fn certificate_pdf(cert: &CertificatePdf) -> Vec<u8> {
    let (w, h) = PAGE;
    let (page, annotations) = draw_page(cert);
    let jwt = cert.credential.trim();
    let title = format!(
        "Certificate of completion: {} - {}",
        cert.course_title, cert.learner_name
    );
    let date = cert.issued_at.format("D:%Y%m%d%H%M%SZ").to_string();
    let id = Sha256::digest(jwt.as_bytes())[..16]
        .iter()
        .fold(String::new(), |mut id, b| {
            let _ = write!(id, "{b:02X}");
            id
        });

    // Objects 1..; an annotation per link after the fixed ones.
    let annotation_ids: Vec<usize> = (0..annotations.len()).map(|i| 10 + i).collect();
    let refs = |ids: &[usize]| {
        ids.iter()
            .map(|id| format!("{id} 0 R"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut objects = vec![
        format!(
            "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [{} 6 0 R] >> >> /AF [6 0 R] /PageMode /UseAttachments >>",
            literal(ATTACHMENT_NAME.as_bytes())
        ),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.0} {h:.0}] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 8 0 R /Annots [{}] >>",
            refs(&annotation_ids)
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        format!(
            "<< /Type /Filespec /F {name} /UF {name} /AFRelationship /Data /Desc {desc} /EF << /F 7 0 R /UF 7 0 R >> >>",
            name = literal(ATTACHMENT_NAME.as_bytes()),
            desc = literal(
                b"The signed credential: an Open Badges 3.0 OpenBadgeCredential as a VC-JWT"
            )
        ),
        format!(
            "<< /Type /EmbeddedFile /Subtype /application#2Fvc+jwt /Params << /Size {len} /CreationDate ({date}) /ModDate ({date}) >> /Length {len} >>\nstream\n{jwt}\nendstream",
            len = jwt.len()
        ),
        format!("<< /Length {} >>\nstream\n{}\nendstream", page.len(), page),
        format!(
            "<< /Title {} /Author {} /Subject {} /Creator (Skilltrack) /Producer (Skilltrack) /CreationDate ({date}) /ModDate ({date}) /{INFO_KEY} {} >>",
            text_string(&title),
            text_string(&cert.issuer_name),
            text_string(&format!(
                "Certificate {}; verify at {}",
                cert.certificate_number, cert.verification_url
            )),
            literal(jwt.as_bytes())
        ),
    ];
    objects.extend(annotations);
    let info_id = 9;

    let mut out: Vec<u8> = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info {info_id} 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

/// Whether `text` is a compact JWS whose payload is a JSON object.
fn is_jwt(text: &str) -> bool {
    unverified_claims(text).is_some()
}

/// Reads a PDF literal string starting just after its `(`: escapes undone, nested
/// parentheses kept.
fn read_literal(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'\\' => {
                let &next = bytes.get(i)?;
                i += 1;
                match next {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'0'..=b'7' => {
                        let mut value = u32::from(next - b'0');
                        for _ in 0..2 {
                            match bytes.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    value = value * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(u8::try_from(value & 0xff).unwrap_or(b'?'));
                    }
                    b'\n' => {}
                    b'\r' => {
                        if bytes.get(i) == Some(&b'\n') {
                            i += 1;
                        }
                    }
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' if depth == 0 => return Some(out),
            b')' => {
                depth -= 1;
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    None
}

/// Reads a PDF hex string starting just after its `<`.
fn read_hex(bytes: &[u8]) -> Option<Vec<u8>> {
    let end = bytes.iter().position(|&b| b == b'>')?;
    let digits: Vec<u8> = bytes[..end]
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .copied()
        .collect();
    digits
        .chunks(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = pair
                .get(1)
                .map_or(Some(0), |&d| char::from(d).to_digit(16))?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The credential in the information dictionary's `/SkilltrackCredential`.
fn from_info(pdf: &[u8]) -> Option<String> {
    let key = format!("/{INFO_KEY}");
    let mut from = 0;
    while let Some(at) = find(pdf, key.as_bytes(), from) {
        from = at + key.len();
        let rest = &pdf[from..];
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        let value = match rest[start] {
            b'(' => read_literal(&rest[start + 1..]),
            b'<' => read_hex(&rest[start + 1..]),
            _ => None,
        };
        if let Some(text) = value.and_then(|v| String::from_utf8(v).ok()) {
            let text = text.trim();
            if is_jwt(text) {
                return Some(text.to_owned());
            }
        }
    }
    None
}

/// The credential in an embedded file stream (ours is stored as it is; one a PDF tool
/// re-saved may be deflated).
fn from_attachment(pdf: &[u8]) -> Option<String> {
    let marker = b"/EmbeddedFile";
    let mut from = 0;
    while let Some(at) = find(pdf, marker, from) {
        from = at + marker.len();
        // `/EmbeddedFiles` is the name tree, not a file.
        if pdf.get(from).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        let Some(stream) = find(pdf, b"stream", from) else {
            break;
        };
        let mut start = stream + b"stream".len();
        if pdf.get(start) == Some(&b'\r') {
            start += 1;
        }
        if pdf.get(start) == Some(&b'\n') {
            start += 1;
        }
        let Some(end) = find(pdf, b"endstream", start) else {
            break;
        };
        let data = &pdf[start..end];
        let mut candidates = vec![data.to_vec()];
        let mut inflated = Vec::new();
        if std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(data), &mut inflated)
            .is_ok()
        {
            candidates.push(inflated);
        }
        for candidate in candidates {
            if let Ok(text) = String::from_utf8(candidate) {
                let text = text.trim();
                if is_jwt(text) {
                    return Some(text.to_owned());
                }
            }
        }
    }
    None
}

/// The credential a certificate PDF carries: from its information dictionary, else from its
/// attached `credential.jwt`. `None` if it carries none (or is not a PDF).
pub fn credential_in_pdf(pdf: &[u8]) -> Option<String> {
    // The header may follow some junk, within the first kilobyte.
    find(pdf.get(..1024.min(pdf.len()))?, b"%PDF-", 0)?;
    from_info(pdf).or_else(|| from_attachment(pdf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Document, Object};

    fn jwt() -> String {
        use base64::Engine as _;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let claims = serde_json::json!({
            "iss": "https://skills.example/api/v1/certificates/issuer",
            "vc": {
                "id": "https://skills.example/api/v1/certificates/ST-2026-000042",
                "validFrom": "2026-03-14T09:26:53Z",
                "issuer": {"name": "Skilltrack (Example) \\ Academy"},
                "credentialSubject": {
                    "name": "Zoë O'Brien (née Ćirić)",
                    "achievement": {"name": "Rust – the hard parts"},
                },
            },
        });
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(&serde_json::json!({"alg": "EdDSA", "typ": "JWT"})),
            b64(&claims)
        )
    }

    fn certificate() -> CertificatePdf {
        CertificatePdf::from_credential(&jwt()).expect("a credential")
    }

    #[test]
    fn the_visible_fields_come_from_the_credential_itself() {
        let c = certificate();
        assert_eq!(c.learner_name, "Zoë O'Brien (née Ćirić)");
        assert_eq!(c.course_title, "Rust – the hard parts");
        assert_eq!(c.issuer_name, "Skilltrack (Example) \\ Academy");
        assert_eq!(c.certificate_number, "ST-2026-000042");
        assert_eq!(
            c.verification_url,
            "https://skills.example/api/v1/certificates/ST-2026-000042"
        );
        assert_eq!(c.issued_at.to_rfc3339(), "2026-03-14T09:26:53+00:00");
        assert_eq!(CertificatePdf::from_credential("not.a.jwt"), None);
    }

    #[test]
    fn a_strict_parser_opens_it_and_finds_the_attached_credential() {
        let pdf = certificate_pdf(&certificate());
        let doc = Document::load_mem(&pdf).expect("lopdf opens it");
        assert_eq!(doc.get_pages().len(), 1);
        let catalog = doc.catalog().expect("a catalog");
        let names = catalog
            .get(b"Names")
            .and_then(Object::as_dict)
            .and_then(|n| n.get(b"EmbeddedFiles"))
            .and_then(Object::as_dict)
            .and_then(|e| e.get(b"Names"))
            .and_then(Object::as_array)
            .expect("an EmbeddedFiles name tree");
        assert_eq!(
            names[0].as_str().expect("a name"),
            ATTACHMENT_NAME.as_bytes()
        );
        let spec = doc
            .get_dictionary(names[1].as_reference().expect("a reference"))
            .expect("a file specification");
        let file = spec
            .get(b"EF")
            .and_then(Object::as_dict)
            .and_then(|ef| ef.get(b"F"))
            .and_then(Object::as_reference)
            .expect("an embedded file");
        let stream = doc
            .get_object(file)
            .and_then(Object::as_stream)
            .expect("a stream");
        assert_eq!(String::from_utf8_lossy(&stream.content).trim(), jwt());
        let af = catalog.get(b"AF").and_then(Object::as_array).expect("/AF");
        assert_eq!(af[0].as_reference().ok(), names[1].as_reference().ok());
    }

    #[test]
    fn the_information_dictionary_carries_it_too() {
        let pdf = certificate_pdf(&certificate());
        let doc = Document::load_mem(&pdf).expect("lopdf opens it");
        let info = doc
            .trailer
            .get(b"Info")
            .and_then(Object::as_reference)
            .and_then(|r| doc.get_dictionary(r))
            .expect("an information dictionary");
        let carried = info
            .get(INFO_KEY.as_bytes())
            .and_then(Object::as_str)
            .expect("the key");
        assert_eq!(carried, jwt().as_bytes());
    }

    #[test]
    fn the_page_shows_the_fields_the_link_and_a_qr_code() {
        let pdf = certificate_pdf(&certificate());
        let doc = Document::load_mem(&pdf).expect("lopdf opens it");
        let page = *doc.get_pages().get(&1).expect("page 1");
        let content = doc.get_page_content(page).expect("content");
        let text = |s: &str| literal(&winansi(s));
        let content = String::from_utf8_lossy(&content);
        for shown in [
            text("Zoë O'Brien (née ?iri?)"),
            text("Rust – the hard parts"),
            text("Issued on 14 March 2026 by Skilltrack (Example) \\ Academy"),
            text("Certificate number: ST-2026-000042"),
            text("https://skills.example/api/v1/certificates/ST-2026-000042"),
        ] {
            assert!(content.contains(&shown), "{shown} is on the page");
        }
        assert!(content.contains("\\(Example\\) \\\\ Academy"), "escaped");
        assert!(
            content.matches(" re\n").count() > 50,
            "the QR code's modules"
        );
        let annots = doc
            .get_dictionary(page)
            .expect("the page")
            .get(b"Annots")
            .and_then(Object::as_array)
            .expect("annotations");
        let uri = doc
            .get_dictionary(annots[0].as_reference().expect("a reference"))
            .and_then(|a| a.get(b"A"))
            .and_then(Object::as_dict)
            .and_then(|a| a.get(b"URI"))
            .and_then(Object::as_str)
            .expect("a URI action");
        assert_eq!(
            uri,
            b"https://skills.example/api/v1/certificates/ST-2026-000042"
        );
    }

    #[test]
    fn the_credential_reads_back_from_either_place() {
        let pdf = certificate_pdf(&certificate());
        assert_eq!(credential_in_pdf(&pdf), Some(jwt()));
        assert_eq!(from_attachment(&pdf), Some(jwt()));
        // Without the information dictionary's copy, the attachment still gives it.
        let without_info =
            String::from_utf8_lossy(&pdf).replace(&format!("/{INFO_KEY}"), "/SomethingElse");
        assert_eq!(credential_in_pdf(without_info.as_bytes()), Some(jwt()));
        assert_eq!(credential_in_pdf(b"%PDF-1.7\n%%EOF"), None);
        assert_eq!(credential_in_pdf(b"not a pdf"), None);
    }

    #[test]
    fn the_same_credential_gives_the_same_bytes() {
        assert_eq!(
            certificate_pdf(&certificate()),
            certificate_pdf(&certificate())
        );
    }
}
