//! The rules of descriptive fields shared by the catalog and the models: text, licence,
//! languages, tags, hardware and the recorded Hub state.

use super::keys::{HARDWARE_KEYS, HUB_STATE_KEYS};
use super::pointer::Pointer;
use super::{Checker, show};
use crate::model::{Hardware, HubState};

impl Checker<'_> {
    pub(super) fn positive(&mut self, path: Pointer<'_>, value: Option<u64>) {
        if value == Some(0) {
            self.report(path, "must be positive; leave it out when unknown");
        }
    }

    pub(super) fn non_empty(&mut self, path: Pointer<'_>, text: Option<&str>) {
        if text.is_some_and(|text| text.trim().is_empty()) {
            self.report(path, "is empty; fill it or leave the key out");
        }
    }

    pub(super) fn license(&mut self, path: Pointer<'_>, license: Option<&str>) {
        if let Some(license) = license
            && (license.is_empty()
                || !license.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.')
                }))
        {
            self.report(
                path,
                format!(
                    "license {} is not a Hub licence id such as `apache-2.0` (lowercase letters, \
                     digits, `-`, `.`)",
                    show(license)
                ),
            );
        } else if let Some(license) = license
            && !ruvltra_vocab::is_hub_license(license)
        {
            // The card's front matter reads the catalog's `license_name` and `license_link`;
            // a model's own ones name its licence in the card's licence section.
            let owner = if self.model_id.is_some() {
                "the model"
            } else {
                "the catalog"
            };
            self.report(
                path,
                format!(
                    "license {} is not one of the Hub's licence ids (such as `apache-2.0`, `mit`, \
                     `llama3.1`) and the Hub would refuse the card; set `license` to `other` and \
                     give {owner} `license_name` (a lowercase slug) and `license_link` (the \
                     licence's URL), which the card writes",
                    show(license)
                ),
            );
        }
    }

    pub(super) fn languages(&mut self, path: Pointer<'_>, languages: &[String]) {
        for (n, language) in languages.iter().enumerate() {
            if !(2..=3).contains(&language.len())
                || !language.bytes().all(|b| b.is_ascii_lowercase())
            {
                self.report(
                    path.index(n),
                    format!(
                        "language {} is not an ISO 639 code such as `en` (two or three \
                         lowercase letters)",
                        show(language)
                    ),
                );
            }
        }
    }

    pub(super) fn tags(&mut self, path: Pointer<'_>, tags: &[String]) {
        for (n, tag) in tags.iter().enumerate() {
            if tag.trim().is_empty() || tag.chars().any(char::is_control) {
                self.report(
                    path.index(n),
                    format!(
                        "tag {} must be non-empty text without control characters",
                        show(tag)
                    ),
                );
            }
        }
    }

    pub(super) fn hardware(&mut self, path: Pointer<'_>, hardware: &Hardware) {
        self.unknown_keys(path, &hardware.extra, HARDWARE_KEYS);
        self.positive(path.key("min_ram_mib"), hardware.min_ram_mib);
        self.positive(
            path.key("recommended_ram_mib"),
            hardware.recommended_ram_mib,
        );
        self.positive(path.key("min_vram_mib"), hardware.min_vram_mib);
        if let (Some(min), Some(recommended)) = (hardware.min_ram_mib, hardware.recommended_ram_mib)
            && min > recommended
        {
            self.report(
                path.key("min_ram_mib"),
                format!(
                    "min_ram_mib {min} exceeds recommended_ram_mib {recommended}; swap or fix them"
                ),
            );
        }
        for (n, accelerator) in hardware.accelerators.iter().enumerate() {
            if accelerator.is_empty()
                || !accelerator.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_')
                })
            {
                self.report(
                    path.key("accelerators").index(n),
                    format!(
                        "accelerator {} must be a lowercase name such as `cpu`, `metal`, `ane` \
                         or `cuda`",
                        show(accelerator)
                    ),
                );
            }
        }
    }

    pub(super) fn hub(&mut self, path: Pointer<'_>, hub: &HubState) {
        self.unknown_keys(path, &hub.extra, HUB_STATE_KEYS);
        let is_commit = hub.commit.len() == 40
            && hub
                .commit
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !is_commit {
            self.report(
                path.key("commit"),
                format!(
                    "commit {} is not a 40-hex lowercase git commit id; run `cargo xtask sync` \
                     to refresh it",
                    show(&hub.commit)
                ),
            );
        }
        if !is_rfc3339(&hub.synced_at) {
            self.report(
                path.key("synced_at"),
                format!(
                    "synced_at {} is not an RFC 3339 time such as `2026-01-20T12:00:00Z`",
                    show(&hub.synced_at)
                ),
            );
        }
        self.tags(path.key("tags"), &hub.tags);
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with the fields in range.
fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 20 || !text.is_ascii() {
        return false;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &text[range];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let date_time_ok = b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && num(0..4).is_some()
        && num(5..7).is_some_and(|m| (1..=12).contains(&m))
        && num(8..10).is_some_and(|d| (1..=31).contains(&d))
        && num(11..13).is_some_and(|h| h < 24)
        && num(14..16).is_some_and(|m| m < 60)
        && num(17..19).is_some_and(|s| s <= 60);
    if !date_time_ok {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    if rest == "Z" {
        return true;
    }
    let o = rest.as_bytes();
    o.len() == 6
        && matches!(o[0], b'+' | b'-')
        && o[3] == b':'
        && rest[1..3].parse::<u32>().is_ok_and(|h| h < 24)
        && rest[4..6].parse::<u32>().is_ok_and(|m| m < 60)
        && rest[1..3]
            .bytes()
            .chain(rest[4..6].bytes())
            .all(|c| c.is_ascii_digit())
}
