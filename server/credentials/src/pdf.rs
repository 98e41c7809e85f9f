//! A printable certificate: one A4 landscape page that shows what the credential says, the
//! address where anyone can check it (as text, as a link and as a QR code), and carries the
//! signed credential itself, twice over so that any reader finds it: as an attached file,
//! `credential.jwt` (the catalog's `EmbeddedFiles` name tree and `/AF`), and in the document
//! information dictionary under `/SkilltrackCredential`.
//!
//! The PDF is written by hand (PDF 1.7, uncompressed but for the font programs): a certificate
//! needs a handful of objects, and a PDF library would be the largest dependency of the crate.
//! The same credential always gives the same bytes.
//!
//! Learners' names and course titles come in every script, so the text is set in the fonts
//! `DejaVuSans` and `DejaVuSans-Bold`, built into the crate, rather than in the standard fonts,
//! which only cover Latin-1. Each is embedded as a subset of the glyphs the page uses
//! (`subsetter`), in a CID-keyed `Type0` font with `/Identity-H` codes and a `/ToUnicode` map,
//! so that the text copies and searches as it was given. A typical certificate is about 37 KB,
//! most of it the two subset fonts. See `glyphs` for the characters the fonts do not cover.

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

/// `DejaVuSans` and `DejaVuSans-Bold` (`fonts/LICENSE-DejaVu.txt`), built into the crate so that
/// nothing is read from the system; a certificate embeds the subset of them it uses.
const DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The two fonts the page uses.
#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    const ALL: [Self; 2] = [Self::Regular, Self::Bold];

    fn resource(self) -> &'static str {
        match self {
            Self::Regular => "/F1",
            Self::Bold => "/F2",
        }
    }

    /// The font's PostScript name, which the subset's name is made of.
    fn name(self) -> &'static str {
        match self {
            Self::Regular => "DejaVuSans",
            Self::Bold => "DejaVuSans-Bold",
        }
    }

    fn data(self) -> &'static [u8] {
        match self {
            Self::Regular => DEJAVU_SANS,
            Self::Bold => DEJAVU_SANS_BOLD,
        }
    }

    fn face(self) -> ttf_parser::Face<'static> {
        ttf_parser::Face::parse(self.data(), 0).expect("the built-in font parses")
    }
}

/// Characters that are only there to guide layout (zero-width joiners and spaces, direction
/// marks, variation selectors, a byte-order mark): drawn with the font's glyph if it has one,
/// else left out rather than shown as `?`.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{34f}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

/// The glyphs that draw `text` in `face`, each with the character it stands for, one glyph
/// per character: the page draws any script the fonts cover (Latin, Greek, Cyrillic,
/// Armenian, Georgian, and many symbols such as `→`). There is no shaping and no
/// bidirectional reordering, so text that needs them (Arabic, Hebrew, the Indic scripts)
/// prints as separate letters in logical order.
///
/// A character the font has no glyph for (CJK, for one) is drawn, and copied out of the PDF,
/// as `?`, the way the standard fonts showed it, rather than as the font's empty `.notdef`
/// box that a reader could not tell from a blank; layout-only characters (see
/// [`is_invisible`]) are left out instead, and control characters (line breaks in a name)
/// become spaces.
fn glyphs(face: &ttf_parser::Face<'_>, text: &str) -> Vec<(u16, char)> {
    let glyph = |c: char| face.glyph_index(c).map(|g| g.0).filter(|&g| g != 0);
    text.chars()
        .filter_map(|c| {
            let c = if c.is_control() { ' ' } else { c };
            match glyph(c) {
                Some(g) => Some((g, c)),
                None if is_invisible(c) => None,
                None => glyph('?').map(|g| (g, '?')),
            }
        })
        .collect()
}

/// A glyph's advance width in text space units (thousandths of the font size), rounded as
/// the PDF's `/W` array states it, so that measuring agrees with what readers draw.
fn advance(face: &ttf_parser::Face<'_>, glyph: u16) -> u32 {
    let units_per_em = u32::from(face.units_per_em().max(1));
    let advance = u32::from(
        face.glyph_hor_advance(ttf_parser::GlyphId(glyph))
            .unwrap_or(0),
    );
    (advance * 1000 + units_per_em / 2) / units_per_em
}

/// A font-unit value in text space units.
fn scaled(face: &ttf_parser::Face<'_>, value: i16) -> i32 {
    let units_per_em = i32::from(face.units_per_em().max(1));
    (i32::from(value) * 1000).div_euclid(units_per_em)
}

/// The height of capital letters: the `OS/2` table's if it has it (the built-in fonts' is too
/// old to), else the top of the "H".
fn cap_height(face: &ttf_parser::Face<'_>) -> i16 {
    face.capital_height()
        .filter(|&h| h > 0)
        .or_else(|| {
            face.glyph_index('H')
                .and_then(|g| face.glyph_bounding_box(g))
                .map(|b| b.y_max)
        })
        .unwrap_or_else(|| face.ascender())
}

/// Text space units at `size` points.
fn points(units: u32, size: f32) -> f32 {
    #[allow(clippy::cast_precision_loss)] // far below 2^24
    let units = units as f32;
    units * size / 1000.0
}

/// A glyph the page draws: its id in the whole font, its width, and the text it stands for.
struct Drawn {
    glyph: u16,
    width: u32,
    text: char,
}

/// What the page draws with one font: the subset's glyphs, numbered in order of first use
/// from 1 (`.notdef` is 0). The numbers are both the content stream's character codes and
/// the subset's glyph ids (`/Identity-H`, `/CIDToGIDMap /Identity`).
struct FontUse {
    font: Font,
    face: ttf_parser::Face<'static>,
    remapper: subsetter::GlyphRemapper,
    /// By code, from 1.
    drawn: Vec<Drawn>,
}

impl FontUse {
    fn new(font: Font) -> Self {
        Self {
            font,
            face: font.face(),
            remapper: subsetter::GlyphRemapper::new(),
            drawn: Vec::new(),
        }
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units = glyphs(&self.face, text)
            .into_iter()
            .map(|(glyph, _)| advance(&self.face, glyph))
            .sum();
        points(units, size)
    }

    /// `text` as a hex string of two-byte codes; its width in text space units.
    fn encode(&mut self, text: &str) -> (String, u32) {
        let mut hex = String::from("<");
        let mut width = 0;
        for (glyph, c) in glyphs(&self.face, text) {
            let glyph_width = advance(&self.face, glyph);
            let code = self.remapper.remap(glyph);
            if usize::from(code) > self.drawn.len() {
                self.drawn.push(Drawn {
                    glyph,
                    width: glyph_width,
                    text: c,
                });
            }
            width += glyph_width;
            let _ = write!(hex, "{code:04X}");
        }
        hex.push('>');
        (hex, width)
    }

    /// The subset's name: six capital letters that depend only on the glyphs in it, a `+`,
    /// and the font's name.
    fn subset_name(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.font.name());
        for drawn in &self.drawn {
            hash.update(drawn.glyph.to_be_bytes());
        }
        let tag: String = hash.finalize()[..6]
            .iter()
            .map(|b| char::from(b'A' + b % 26))
            .collect();
        format!("{tag}+{}", self.font.name())
    }

    /// The `/ToUnicode` character map from the codes back to the text they stand for, so that
    /// the page's text can be copied and searched.
    fn to_unicode(&self) -> String {
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        // At most 100 entries in a section.
        for (section, chunk) in self.drawn.chunks(100).enumerate() {
            let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
            for (i, drawn) in chunk.iter().enumerate() {
                let _ = write!(cmap, "<{:04X}> <", section * 100 + i + 1);
                for unit in drawn.text.encode_utf16(&mut [0; 2]).iter() {
                    let _ = write!(cmap, "{unit:04X}");
                }
                cmap.push_str(">\n");
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend");
        cmap
    }

    /// The font as PDF objects: the `Type0` font the page refers to, and the four it refers
    /// to, numbered from `first`: its `CIDFontType2` descendant, the font descriptor, the
    /// subset font program (deflated) and the `/ToUnicode` character map.
    fn objects(&self, first: usize) -> (String, [Vec<u8>; 4]) {
        let [descendant, descriptor, program, to_unicode] =
            [first, first + 1, first + 2, first + 3];
        let name = self.subset_name();
        let face = &self.face;
        let subset = subsetter::subset(self.font.data(), 0, &self.remapper)
            .expect("the built-in font subsets");
        let mut deflated = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut deflated, &subset).expect("deflating into memory");
        let deflated = deflated.finish().expect("deflating into memory");

        let widths = std::iter::once(advance(face, 0))
            .chain(self.drawn.iter().map(|d| d.width))
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let bbox = face.global_bounding_box();
        let ascent = scaled(face, face.ascender());
        let weight = i32::from(face.weight().to_number());
        let cmap = self.to_unicode();

        let mut stream = format!(
            "<< /Length {} /Length1 {} /Filter /FlateDecode >>\nstream\n",
            deflated.len(),
            subset.len()
        )
        .into_bytes();
        stream.extend_from_slice(&deflated);
        stream.extend_from_slice(b"\nendstream");
        let type0 = format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [{descendant} 0 R] /ToUnicode {to_unicode} 0 R >>"
        );
        let objects = [
            format!(
                "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {descriptor} 0 R /DW 1000 /W [0 [{widths}]] /CIDToGIDMap /Identity >>"
            )
            .into_bytes(),
            format!(
                "<< /Type /FontDescriptor /FontName /{name} /Flags 4 /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {ascent} /Descent {} /CapHeight {} /StemV {} /FontWeight {weight} /FontFile2 {program} 0 R >>",
                scaled(face, bbox.x_min),
                scaled(face, bbox.y_min),
                scaled(face, bbox.x_max),
                scaled(face, bbox.y_max),
                scaled(face, face.descender()),
                scaled(face, cap_height(face)),
                // The usual estimate from the weight, as PDF writers make it.
                10 + 244 * (weight - 50) / 1000,
            )
            .into_bytes(),
            stream,
            format!("<< /Length {} >>\nstream\n{cmap}\nendstream", cmap.len()).into_bytes(),
        ];
        (type0, objects)
    }
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

/// The page's content stream, drawn operator by operator, and the glyphs its text uses.
struct Content {
    ops: String,
    fonts: [FontUse; 2],
}

impl Content {
    fn new() -> Self {
        Self {
            ops: String::new(),
            fonts: Font::ALL.map(FontUse::new),
        }
    }

    fn font(&mut self, font: Font) -> &mut FontUse {
        let [regular, bold] = &mut self.fonts;
        match font {
            Font::Regular => regular,
            Font::Bold => bold,
        }
    }

    fn op(&mut self, op: std::fmt::Arguments<'_>) {
        let _ = self.ops.write_fmt(op);
        self.ops.push('\n');
    }

    fn fill(&mut self, (r, g, b): (f32, f32, f32)) {
        self.op(format_args!("{r:.3} {g:.3} {b:.3} rg"));
    }

    /// Text whose left end is at `x`; its width.
    fn text_at(&mut self, font: Font, size: f32, x: f32, y: f32, text: &str) -> f32 {
        let (codes, units) = self.font(font).encode(text);
        self.op(format_args!(
            "BT {} {size:.1} Tf 1 0 0 1 {x:.2} {y:.2} Tm {codes} Tj ET",
            font.resource(),
        ));
        points(units, size)
    }

    /// Text centred on the page, made smaller until it fits in `max_width`.
    fn centred(&mut self, font: Font, size: f32, y: f32, max_width: f32, text: &str) {
        let width = self.font(font).width(text, size);
        let size = if width > max_width {
            (size * max_width / width).max(6.0)
        } else {
            size
        };
        let width = self.font(font).width(text, size);
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

/// The page's content stream (with the glyphs it uses) and its link annotations.
fn draw_page(cert: &CertificatePdf) -> (Content, Vec<String>) {
    let (w, h) = PAGE;
    let mut page = Content::new();
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
    (page, annotations)
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

    // Objects 1..; the fonts' own after the fixed ones, then an annotation per link.
    let [regular, bold] = &page.fonts;
    let fonts_from = 10;
    let (regular, regular_objects) = regular.objects(fonts_from);
    let (bold, bold_objects) = bold.objects(fonts_from + regular_objects.len());
    let font_objects: Vec<Vec<u8>> = regular_objects.into_iter().chain(bold_objects).collect();
    let annotations_from = fonts_from + font_objects.len();
    let annotation_ids: Vec<usize> = (0..annotations.len())
        .map(|i| annotations_from + i)
        .collect();
    let refs = |ids: &[usize]| {
        ids.iter()
            .map(|id| format!("{id} 0 R"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let objects = vec![
        format!(
            "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [{} 6 0 R] >> >> /AF [6 0 R] /PageMode /UseAttachments >>",
            literal(ATTACHMENT_NAME.as_bytes())
        ),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.0} {h:.0}] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 8 0 R /Annots [{}] >>",
            refs(&annotation_ids)
        ),
        regular,
        bold,
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
        format!(
            "<< /Length {} >>\nstream\n{}\nendstream",
            page.ops.len(),
            page.ops
        ),
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
    let info_id = 9;
    let objects = objects
        .into_iter()
        .map(String::into_bytes)
        .chain(font_objects)
        .chain(annotations.into_iter().map(String::into_bytes));

    let mut out: Vec<u8> = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(&object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let size = offsets.len() + 1;
    let mut table = format!("xref\n0 {size}\n0000000000 65535 f \n");
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {size} /Root 1 0 R /Info {info_id} 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n"
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

    /// The certificate of `jwt()` for another learner and course.
    fn certificate_for(learner_name: &str, course_title: &str) -> CertificatePdf {
        CertificatePdf {
            learner_name: learner_name.to_owned(),
            course_title: course_title.to_owned(),
            ..certificate()
        }
    }

    /// The page's text as a reader copies it: through the fonts' `/ToUnicode` maps.
    fn page_text(doc: &Document) -> String {
        doc.extract_text(&[1]).expect("lopdf extracts the text")
    }

    #[test]
    fn the_page_shows_the_fields_the_link_and_a_qr_code() {
        let pdf = certificate_pdf(&certificate());
        let doc = Document::load_mem(&pdf).expect("lopdf opens it");
        let page = *doc.get_pages().get(&1).expect("page 1");
        let text = page_text(&doc);
        for shown in [
            "CERTIFICATE OF COMPLETION",
            // Before the fonts were embedded, "Ćirić" printed as "?iri?".
            "Zoë O'Brien (née Ćirić)",
            "Rust – the hard parts",
            "Issued on 14 March 2026 by Skilltrack (Example) \\ Academy",
            "Certificate number: ST-2026-000042",
            "https://skills.example/api/v1/certificates/ST-2026-000042",
        ] {
            assert!(text.contains(shown), "{shown} is on the page: {text}");
        }
        assert!(!text.contains('?'), "nothing replaced: {text}");
        let content = doc.get_page_content(page).expect("content");
        let content = String::from_utf8_lossy(&content);
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
        let key = format!("/{INFO_KEY}");
        let at = find(&pdf, key.as_bytes(), 0).expect("the key");
        let mut without_info = pdf.clone();
        without_info[at + 1..at + key.len()].copy_from_slice(&b"X".repeat(key.len() - 1));
        assert_eq!(find(&without_info, key.as_bytes(), 0), None);
        assert_eq!(credential_in_pdf(&without_info), Some(jwt()));
        assert_eq!(credential_in_pdf(b"%PDF-1.7\n%%EOF"), None);
        assert_eq!(credential_in_pdf(b"not a pdf"), None);
    }

    #[test]
    fn the_same_credential_gives_the_same_bytes() {
        assert_eq!(
            certificate_pdf(&certificate()),
            certificate_pdf(&certificate())
        );
        let cyrillic = certificate_for("Дмитрий Ковалёв", "Основы Docker");
        assert_eq!(certificate_pdf(&cyrillic), certificate_pdf(&cyrillic));
    }

    #[test]
    fn names_in_any_script_the_font_covers_print_and_copy_as_they_are() {
        for (name, course) in [
            ("Дмитрий Ковалёв", "Основы Docker"),
            ("Γιώργος Παπαδόπουλος", "Git → GitHub"),
            ("Łukasz Żółć", "Ćwiczenia – ŞİĞ ǅ"),
            ("Արամ Խաչատրյան", "ქართული ენა"),
        ] {
            let pdf = certificate_pdf(&certificate_for(name, course));
            let doc = Document::load_mem(&pdf).expect("lopdf opens it");
            let text = page_text(&doc);
            assert!(text.contains(name), "{name} is on the page: {text}");
            assert!(text.contains(course), "{course} is on the page: {text}");
            assert!(!text.contains('?'), "nothing replaced: {text}");
        }
    }

    #[test]
    fn the_fonts_are_embedded_subsets_keyed_by_glyph_id() {
        let pdf = certificate_pdf(&certificate_for("Дмитрий Ковалёв", "Основы Docker"));
        let doc = Document::load_mem(&pdf).expect("lopdf opens it");
        let page = *doc.get_pages().get(&1).expect("page 1");
        let fonts = doc.get_page_fonts(page).expect("the page's fonts");
        assert_eq!(fonts.len(), 2);
        let mut names = Vec::new();
        for font in fonts.values() {
            let name = |dict: &lopdf::Dictionary, key: &[u8]| {
                dict.get(key)
                    .and_then(Object::as_name)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default()
            };
            assert_eq!(name(font, b"Subtype"), b"Type0");
            assert_eq!(name(font, b"Encoding"), b"Identity-H");
            assert!(font.get(b"ToUnicode").is_ok(), "a ToUnicode map");
            let base = String::from_utf8(name(font, b"BaseFont")).expect("a name");
            let (tag, family) = base.split_once('+').expect("a subset tag");
            assert!(
                tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()),
                "{base}"
            );
            names.push(family.to_owned());
            let descendant = font
                .get(b"DescendantFonts")
                .and_then(Object::as_array)
                .and_then(|a| a[0].as_reference())
                .and_then(|r| doc.get_dictionary(r))
                .expect("a descendant font");
            assert_eq!(name(descendant, b"Subtype"), b"CIDFontType2");
            assert_eq!(name(descendant, b"CIDToGIDMap"), b"Identity");
            assert_eq!(name(descendant, b"BaseFont"), base.as_bytes());
            let widths = descendant
                .get(b"W")
                .and_then(Object::as_array)
                .expect("widths");
            let widths = widths[1].as_array().expect("the widths from code 0");
            let descriptor = descendant
                .get_deref(b"FontDescriptor", &doc)
                .and_then(Object::as_dict)
                .expect("a font descriptor");
            assert_eq!(name(descriptor, b"FontName"), base.as_bytes());
            let program = descriptor
                .get_deref(b"FontFile2", &doc)
                .and_then(Object::as_stream)
                .expect("the font program");
            let program = program.decompressed_content().expect("inflates");
            assert!(program.len() < 40_000, "a subset: {} bytes", program.len());
            // Each code's glyph in the subset is the glyph of its character in the whole
            // font, and is as wide as `/W` says.
            let subset = ttf_parser::Face::parse(&program, 0).expect("a TrueType font");
            let full = if family == "DejaVuSans" {
                Font::Regular
            } else {
                Font::Bold
            }
            .face();
            let to_unicode = font
                .get_deref(b"ToUnicode", &doc)
                .and_then(Object::as_stream)
                .expect("a ToUnicode map");
            let cmap = String::from_utf8(to_unicode.content.clone()).expect("text");
            let pairs: Vec<(u16, char)> = cmap
                .lines()
                .filter_map(|line| {
                    let (code, text) = line.strip_prefix('<')?.split_once("> <")?;
                    let text = u32::from_str_radix(text.strip_suffix('>')?, 16).ok()?;
                    Some((u16::from_str_radix(code, 16).ok()?, char::from_u32(text)?))
                })
                .collect();
            assert!(pairs.len() > 20, "{cmap}");
            for (code, c) in pairs {
                let original = full.glyph_index(c).expect("a glyph");
                assert_eq!(
                    subset.glyph_bounding_box(ttf_parser::GlyphId(code)),
                    full.glyph_bounding_box(original),
                    "{c}"
                );
                assert_eq!(
                    widths[usize::from(code)].as_i64().ok(),
                    Some(i64::from(advance(&subset, code))),
                    "{c}"
                );
            }
        }
        names.sort();
        assert_eq!(names, ["DejaVuSans", "DejaVuSans-Bold"]);
    }

    #[test]
    fn characters_the_font_lacks_print_as_a_question_mark() {
        // A layout-only character the font has no glyph for is left out instead.
        let tag = '\u{e0041}';
        assert_eq!(Font::Bold.face().glyph_index(tag), None);
        let pdf = certificate_pdf(&certificate_for(
            &format!("王小明 Łukasz{tag}\nKowalski"),
            "Rust",
        ));
        let text = page_text(&Document::load_mem(&pdf).expect("lopdf opens it"));
        assert!(text.contains("??? Łukasz Kowalski"), "{text}");
    }

    #[test]
    fn text_is_measured_with_the_embedded_font() {
        let regular = FontUse::new(Font::Regular);
        let bold = FontUse::new(Font::Bold);
        // DejaVu Sans: "W" is 2025 and "i" 569 of 2048 units per em.
        assert!((regular.width("W", 1000.0) - 989.0).abs() < 0.5);
        assert!((regular.width("i", 1000.0) - 278.0).abs() < 0.5);
        assert!(bold.width("Щ", 10.0) > regular.width("Щ", 10.0));
        assert!(
            (regular.width("ab", 12.0) - regular.width("a", 12.0) - regular.width("b", 12.0)).abs()
                < 0.001
        );
        // A missing character is as wide as the "?" that stands for it.
        assert!((regular.width("王", 10.0) - regular.width("?", 10.0)).abs() < 0.001);
        assert!(regular.width("\u{200d}", 10.0).abs() < 0.001);
    }

    #[test]
    fn a_certificate_stays_small() {
        for cert in [
            certificate(),
            certificate_for("Дмитрий Ковалёв", "Основы Docker"),
        ] {
            let pdf = certificate_pdf(&cert);
            assert!(pdf.len() < 60_000, "{} bytes", pdf.len());
        }
    }

    /// Writes sample certificates for checking by eye or with other PDF readers:
    /// `SKILLTRACK_PDF_SAMPLES=/some/dir cargo test -p skilltrack-credentials -- --ignored`.
    #[test]
    #[ignore = "writes files; run by hand"]
    fn write_samples() {
        let dir = std::env::var_os("SKILLTRACK_PDF_SAMPLES").expect("SKILLTRACK_PDF_SAMPLES");
        let dir = std::path::Path::new(&dir);
        let latin = certificate();
        let cyrillic = certificate_for("Дмитрий Ковалёв", "Основы Docker");
        // Greek, Polish, an arrow, and CJK the fonts lack (printed as `?`).
        let mixed = certificate_for(
            "Γιώργος Łukasz Żółć 王小明",
            "Git → GitHub: ქართული, Հայերեն, Ελληνικά",
        );
        for (name, cert) in [
            ("latin.pdf", latin),
            ("cyrillic.pdf", cyrillic),
            ("mixed.pdf", mixed),
        ] {
            let pdf = certificate_pdf(&cert);
            println!("{name}: {} bytes", pdf.len());
            std::fs::write(dir.join(name), pdf).expect("written");
        }
    }
}
