//! What a diner tells the restaurant with a booking (free-text special requests and tags from a
//! fixed list), and the notes staff keep about a guest. Free text is bounded and holds no
//! control characters but line breaks, so it prints as it was typed on every page.

use serde::{Deserialize, Serialize};

use crate::request::Invalid;

/// The longest special request or guest note, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// What a booking may be tagged with, so a host sees it at a glance.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    Allergy,
    Birthday,
    Anniversary,
    HighChair,
    AccessibleTable,
}

impl Tag {
    pub const ALL: [Tag; 5] = [
        Tag::Allergy,
        Tag::Birthday,
        Tag::Anniversary,
        Tag::HighChair,
        Tag::AccessibleTable,
    ];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Allergy => "allergy",
            Tag::Birthday => "birthday",
            Tag::Anniversary => "anniversary",
            Tag::HighChair => "high_chair",
            Tag::AccessibleTable => "accessible_table",
        }
    }

    pub fn parse(name: &str) -> Option<Tag> {
        Tag::ALL.into_iter().find(|tag| tag.as_str() == name)
    }

    /// In plain words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            Tag::Allergy => "Allergy",
            Tag::Birthday => "Birthday",
            Tag::Anniversary => "Anniversary",
            Tag::HighChair => "High chair",
            Tag::AccessibleTable => "Accessible table",
        }
    }
}

/// Each tag once, in a stable order, so a retry that lists them differently is the same.
pub fn normalize_tags(tags: &[Tag]) -> Vec<Tag> {
    let mut tags = tags.to_vec();
    tags.sort();
    tags.dedup();
    tags
}

/// Free text as kept: trimmed, `\r\n` as `\n`, `None` when empty.
///
/// # Errors
/// Longer than [`MAX_TEXT_CHARS`], or a control character other than a line break, naming
/// `field`.
pub fn free_text(field: &'static str, text: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(text) = text.map(|t| t.trim().replace("\r\n", "\n")) else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Invalid::new(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Invalid::new(
            field,
            "must not contain control characters (line breaks are fine)",
        ));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_kept_once_in_order_and_read_back_by_name() {
        assert_eq!(
            normalize_tags(&[Tag::HighChair, Tag::Allergy, Tag::HighChair]),
            [Tag::Allergy, Tag::HighChair]
        );
        for tag in Tag::ALL {
            assert_eq!(Tag::parse(tag.as_str()), Some(tag));
            let json = serde_json::to_string(&tag).unwrap();
            assert_eq!(json, format!("\"{}\"", tag.as_str()));
        }
        assert_eq!(Tag::parse("vip"), None);
    }

    #[test]
    fn free_text_is_trimmed_bounded_and_printable() {
        assert_eq!(free_text("f", None).unwrap(), None);
        assert_eq!(free_text("f", Some("   ")).unwrap(), None);
        assert_eq!(
            free_text("f", Some(" Nut allergy\r\nWindow please "))
                .unwrap()
                .as_deref(),
            Some("Nut allergy\nWindow please")
        );
        assert_eq!(
            free_text("f", Some(&"é".repeat(500)))
                .unwrap()
                .unwrap()
                .chars()
                .count(),
            500
        );
        assert_eq!(
            free_text("f", Some(&"x".repeat(501))).unwrap_err().field,
            "f"
        );
        assert!(free_text("f", Some("a\u{0}b")).is_err());
        assert!(free_text("f", Some("a\u{1b}[31mb")).is_err());
    }
}
