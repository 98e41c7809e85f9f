//! A PNG badge with the credential baked in, per Open Badges 3.0 baking: an `iTXt` chunk whose
//! keyword is `openbadgecredential`, uncompressed, holding the compact VC-JWT, placed before
//! `IEND`. Any badge viewer shows the image; any Open Badges tool reads the credential out.

use flate2::Crc;

/// The `iTXt` keyword Open Badges 3.0 bakes a credential under.
pub const BAKED_KEYWORD: &str = "openbadgecredential";

/// The PNG file signature.
const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// The badge's side, in pixels.
const SIDE: u32 = 400;

/// The brand colour (the app's `--brand`).
const BRAND: [u8; 3] = [0x0d, 0x73, 0x77];

/// Why a PNG could not be baked or read.
#[derive(Debug, thiserror::Error)]
pub enum BakeError {
    /// The bytes are not a PNG (or its chunks run past its end).
    #[error("not a PNG image")]
    NotPng,
    /// The image did not decode.
    #[error("the PNG image does not decode: {0}")]
    Image(String),
    /// More than one credential is baked in: the specification allows one, so neither is
    /// trusted over the other.
    #[error("the PNG carries more than one baked credential")]
    SeveralCredentials,
    /// The baked text is not what a credential can be.
    #[error("the baked credential is unreadable")]
    Unreadable,
}

impl BakeError {
    /// A stable code for scripts and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPng => "not_png",
            Self::Image(_) => "png_undecodable",
            Self::SeveralCredentials => "several_baked_credentials",
            Self::Unreadable => "baked_credential_unreadable",
        }
    }
}

/// One chunk of a PNG, borrowed from its bytes.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// The whole chunk as stored: length, type, data and CRC.
    raw: &'a [u8],
}

/// The chunks of a PNG, checked only for fitting in the bytes.
fn chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>, BakeError> {
    let mut rest = png.strip_prefix(&SIGNATURE[..]).ok_or(BakeError::NotPng)?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let header = rest.get(..8).ok_or(BakeError::NotPng)?;
        let len = usize::try_from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]))
        .map_err(|_| BakeError::NotPng)?;
        let total = len.checked_add(12).ok_or(BakeError::NotPng)?;
        let raw = rest.get(..total).ok_or(BakeError::NotPng)?;
        let kind = [header[4], header[5], header[6], header[7]];
        out.push(Chunk {
            kind,
            data: &raw[8..8 + len],
            raw,
        });
        rest = &rest[total..];
        if &kind == b"IEND" {
            break;
        }
    }
    if out.last().map(|c| &c.kind) != Some(b"IEND") {
        return Err(BakeError::NotPng);
    }
    Ok(out)
}

/// Whether an `iTXt` chunk's data is under our keyword.
fn is_baked_credential(chunk: &Chunk<'_>) -> bool {
    &chunk.kind == b"iTXt"
        && chunk
            .data
            .split(|b| *b == 0)
            .next()
            .is_some_and(|keyword| keyword == BAKED_KEYWORD.as_bytes())
}

/// A chunk with its length and CRC.
fn write_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    let mut crc = Crc::new();
    crc.update(&kind);
    crc.update(data);
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// Bakes `jwt` into an existing PNG: its `iTXt` chunk goes just before `IEND`. A credential
/// already baked in is replaced, so the result carries exactly one (as the specification asks).
pub fn bake(png: &[u8], jwt: &str) -> Result<Vec<u8>, BakeError> {
    let chunks = chunks(png)?;
    // keyword, NUL, compression flag 0 and method 0 (uncompressed), empty language tag and
    // translated keyword (each NUL-terminated), then the text.
    let mut data = Vec::with_capacity(BAKED_KEYWORD.len() + 5 + jwt.len());
    data.extend_from_slice(BAKED_KEYWORD.as_bytes());
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(jwt.trim().as_bytes());

    let mut out = Vec::with_capacity(png.len() + data.len() + 12);
    out.extend_from_slice(&SIGNATURE);
    for chunk in &chunks {
        if is_baked_credential(chunk) {
            continue;
        }
        if &chunk.kind == b"IEND" {
            write_chunk(&mut out, *b"iTXt", &data);
        }
        out.extend_from_slice(chunk.raw);
    }
    Ok(out)
}

/// Skilltrack's badge (a ring and a tick on a disc in the brand colour) with `jwt` baked in.
pub fn bake_png(jwt: &str) -> Vec<u8> {
    // The image is ours and valid, so baking it cannot fail; an empty result would be a bug
    // the tests catch.
    bake(&badge_image(), jwt).unwrap_or_default()
}

/// The credential baked into a PNG, if any: the image is decoded in full (so a corrupt image
/// is refused, not half read), and its `openbadgecredential` text returned.
pub fn credential_in_png(png: &[u8]) -> Result<Option<String>, BakeError> {
    if !png.starts_with(&SIGNATURE) {
        return Err(BakeError::NotPng);
    }
    let image = |e: png::DecodingError| BakeError::Image(e.to_string());
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .map_err(image)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| BakeError::Image("the image is too large".to_owned()))?;
    let mut pixels = vec![0; size];
    reader.next_frame(&mut pixels).map_err(image)?;
    reader.finish().map_err(image)?;
    let mut found = reader
        .info()
        .utf8_text
        .iter()
        .filter(|chunk| chunk.keyword == BAKED_KEYWORD);
    let Some(chunk) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(BakeError::SeveralCredentials);
    }
    let text = chunk.get_text().map_err(|_| BakeError::Unreadable)?;
    Ok(Some(text.trim().to_owned()))
}

/// How much of a pixel a shape covers, from the signed distance to its edge (negative
/// inside), smoothed over one pixel so the edges are not jagged.
fn coverage(distance: f32) -> f32 {
    (0.5 - distance).clamp(0.0, 1.0)
}

/// The distance from `p` to the segment `a`–`b`.
fn to_segment(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// The badge, drawn: RGBA, transparent outside the disc.
fn badge_image() -> Vec<u8> {
    #[allow(clippy::cast_precision_loss)] // 400 is exact in an f32.
    let centre = SIDE as f32 / 2.0;
    let tick = [(140.0, 205.0), (185.0, 250.0), (265.0, 160.0)];
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 4) as usize);
    for y in 0..SIDE {
        for x in 0..SIDE {
            #[allow(clippy::cast_precision_loss)] // below 400: exact.
            let p = (x as f32 + 0.5, y as f32 + 0.5);
            let r = ((p.0 - centre).powi(2) + (p.1 - centre).powi(2)).sqrt();
            let disc = coverage(r - 196.0);
            let ring = coverage((r - 158.0).abs() - 5.0);
            let stroke = to_segment(p, tick[0], tick[1]).min(to_segment(p, tick[1], tick[2]));
            let white = ring.max(coverage(stroke - 13.0));
            for channel in BRAND {
                let c = f32::from(channel) * (1.0 - white) + 255.0 * white;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 0..=255.
                pixels.push(c.round() as u8);
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 0..=255.
            pixels.push((disc * 255.0).round() as u8);
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, SIDE, SIDE);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&pixels));
    debug_assert!(written.is_ok(), "the badge encodes: {written:?}");
    png
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

    fn decoded(png: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut pixels).expect("an image");
        (info, pixels)
    }

    #[test]
    fn the_badge_is_a_valid_400_pixel_image_with_the_brand_colour_in_the_middle_of_the_ring() {
        let png = bake_png(JWT);
        let (info, pixels) = decoded(&png);
        assert_eq!((info.width, info.height), (SIDE, SIDE));
        assert_eq!(info.color_type, png::ColorType::Rgba);
        let at = |x: u32, y: u32| {
            let i = ((y * SIDE + x) * 4) as usize;
            [pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]]
        };
        assert_eq!(at(0, 0)[3], 0, "transparent outside the disc");
        assert_eq!(
            at(200, 20),
            [0x0d, 0x73, 0x77, 255],
            "the disc is the brand colour"
        );
        assert_eq!(at(200, 42), [255, 255, 255, 255], "the ring is white");
    }

    #[test]
    fn the_credential_reads_back_from_an_uncompressed_itxt_chunk_just_before_iend() {
        let png = bake_png(JWT);
        assert_eq!(
            credential_in_png(&png).expect("readable"),
            Some(JWT.to_owned())
        );
        let chunks = chunks(&png).expect("chunks");
        let n = chunks.len();
        assert_eq!(&chunks[n - 1].kind, b"IEND");
        assert!(
            is_baked_credential(&chunks[n - 2]),
            "iTXt right before IEND"
        );
        let expected = [BAKED_KEYWORD.as_bytes(), &[0, 0, 0, 0, 0], JWT.as_bytes()].concat();
        assert_eq!(chunks[n - 2].data, &expected[..], "flag 0: uncompressed");
    }

    #[test]
    fn baking_again_replaces_the_credential_so_there_is_only_ever_one() {
        let png = bake(&bake_png(JWT), "a.b.c").expect("baked");
        let baked = chunks(&png)
            .expect("chunks")
            .iter()
            .filter(|c| is_baked_credential(c))
            .count();
        assert_eq!(baked, 1);
        assert_eq!(
            credential_in_png(&png).expect("read"),
            Some("a.b.c".to_owned())
        );
    }

    #[test]
    fn two_baked_credentials_are_refused_not_guessed_between() {
        let png = bake_png(JWT);
        let iend = png.len() - 12;
        let itxt = chunks(&png).expect("chunks")[chunks(&png).expect("chunks").len() - 2]
            .raw
            .to_vec();
        let doubled = [&png[..iend], &itxt, &png[iend..]].concat();
        assert!(matches!(
            credential_in_png(&doubled),
            Err(BakeError::SeveralCredentials)
        ));
    }

    #[test]
    fn an_unbaked_png_has_no_credential_and_other_bytes_are_not_png() {
        assert_eq!(credential_in_png(&badge_image()).expect("a PNG"), None);
        assert!(matches!(
            credential_in_png(b"%PDF-1.7"),
            Err(BakeError::NotPng)
        ));
        assert!(matches!(bake(b"nope", JWT), Err(BakeError::NotPng)));
        let mut truncated = bake_png(JWT);
        truncated.truncate(truncated.len() / 2);
        assert!(credential_in_png(&truncated).is_err());
        assert!(matches!(bake(&truncated, JWT), Err(BakeError::NotPng)));
    }
}
