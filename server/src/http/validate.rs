//! Checks on request fields, collected so a client learns every problem at once.

use skilltrack_protocol::FieldError;

use super::error::ApiError;

/// Collects field errors.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    /// Records a problem with the field at `pointer` unless `ok`.
    pub fn check(
        &mut self,
        ok: bool,
        pointer: &str,
        code: &str,
        detail: impl Into<String>,
    ) -> &mut Self {
        if !ok {
            self.0.push(FieldError {
                pointer: pointer.to_owned(),
                code: code.to_owned(),
                detail: detail.into(),
            });
        }
        self
    }

    /// A length rule, in characters.
    pub fn length(&mut self, value: &str, pointer: &str, min: usize, max: usize) -> &mut Self {
        let n = value.chars().count();
        if n < min {
            self.check(
                false,
                pointer,
                "too_short",
                format!("At least {min} characters."),
            );
        } else if n > max {
            self.check(
                false,
                pointer,
                "too_long",
                format!("At most {max} characters."),
            );
        }
        self
    }

    /// `Ok` with no problems, else a 422 listing them all.
    pub fn finish(&mut self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let errors = std::mem::take(&mut self.0);
        let detail = if errors.len() == 1 {
            format!(
                "{}: {}",
                errors[0].pointer.trim_start_matches('/'),
                errors[0].detail
            )
        } else {
            format!("{} fields break a rule.", errors.len())
        };
        Err(ApiError::Validation { detail, errors })
    }
}

/// A plausible e-mail address: one `@`, something on each side, a dot in the domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.len() <= 320
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.de", "a@b@c.de",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn every_problem_is_reported() {
        let mut c = Checks::default();
        c.length("", "/a", 1, 5)
            .length("toolong", "/b", 1, 5)
            .check(false, "/c", "bad", "no");
        let Err(ApiError::Validation { errors, .. }) = c.finish() else {
            panic!()
        };
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["too_short", "too_long", "bad"]);
    }
}
