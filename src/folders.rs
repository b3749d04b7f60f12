//! Folder paths as they are stored and compared (seed 003, implementation notes): Unicode NFC, so a
//! `cwd` that macOS wrote in NFD meets a rule or a mapping typed in NFC; and, beside each literal
//! folder, where it leads when a symlink is in it, so a rule or a mapping naming the target matches too.
//! `notes/09-paths.md` says which path is kept where.
//!
//! Pure: no I/O. The ingest resolves folders on disk and the store keeps what it found.

use std::borrow::Cow;
use std::collections::BTreeMap;

use unicode_normalization::{UnicodeNormalization, is_nfc};

use crate::sessions::Millis;

/// `path` in Unicode NFC: the one form stored and matched, whatever form the file system or the user
/// wrote. ASCII and text already in NFC (nearly every path) are borrowed, not copied.
pub(crate) fn nfc(path: &str) -> Cow<'_, str> {
    if path.is_ascii() || is_nfc(path) { Cow::Borrowed(path) } else { Cow::Owned(path.nfc().collect()) }
}

/// A folder missing when last looked at (another machine's transcripts, a deleted folder, an unmounted
/// volume) is looked at again after this long: a day is soon enough for a volume mounted again, and
/// costs one failed look per missing folder per day.
pub(crate) const RECHECK_MISSING_MS: Millis = 24 * 60 * 60 * 1000;

/// What the store knows of one folder's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FolderCheck {
    /// The literal folder, as stored in sessions (NFC).
    pub(crate) path: String,
    /// Where it led when it was looked at (itself when no symlink is in it); `None` when it did not exist.
    pub(crate) resolved: Option<String>,
    pub(crate) checked_ms: Millis,
}

/// Whether a folder is to be looked at on disk now: never seen, or missing at the last look a day ago or
/// more. A folder found once is final: its target is where the work ran when it was recorded (ingest
/// follows the work within minutes), and a symlink moved later must not move old sessions.
pub(crate) fn is_due(known: Option<&FolderCheck>, now_ms: Millis) -> bool {
    known.is_none_or(|check| check.resolved.is_none() && now_ms - check.checked_ms >= RECHECK_MISSING_MS)
}

/// Only an absolute path names a folder on this machine: a relative or another system's path (`C:\...`
/// on Linux) would be resolved against claude-tracker's own working directory, so it is never looked at.
pub(crate) fn is_resolvable(path: &str) -> bool {
    std::path::Path::new(path).is_absolute()
}

/// What a look on disk found, as the store keeps it: the canonical path in NFC when the folder exists
/// (itself when it holds no symlink), `None` when it does not or its canonical path is not UTF-8.
pub(crate) fn outcome(canonical: Option<&str>) -> Option<String> {
    canonical.map(|path| nfc(path).into_owned())
}

/// One ingest's look at folders, decided from what is known of each candidate.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FolderPass {
    /// Stored folders not in NFC, with their NFC form: written before NFC (the schema upgrade leaves every
    /// stored folder to be looked at, so each meets this once).
    pub(crate) renames: Vec<(String, String)>,
    /// The folders to look at on disk now (NFC, sorted, distinct).
    pub(crate) due: Vec<String>,
}

/// The pass over `known`: each candidate folder (this ingest's, and those missing at their last look)
/// with what the store knows of it.
pub(crate) fn plan_pass(known: &BTreeMap<String, Option<FolderCheck>>, now_ms: Millis) -> FolderPass {
    let mut pass = FolderPass::default();
    let mut due = std::collections::BTreeSet::new();
    for (path, check) in known {
        let normal = nfc(path);
        if normal != path.as_str() {
            pass.renames.push((path.clone(), normal.to_string()));
            due.insert(normal.into_owned());
        } else if is_due(check.as_ref(), now_ms) {
            due.insert(path.clone());
        }
    }
    pass.due = due.into_iter().collect();
    pass
}

/// Each literal folder whose resolved path differs from it (a symlink in it): what rules and mappings
/// match besides the literal path. Folders without a symlink, or missing, are not in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FolderTargets {
    by_literal: BTreeMap<String, String>,
}

/// No folder resolves anywhere else: for plans and tests that read no store.
static NONE: FolderTargets = FolderTargets { by_literal: BTreeMap::new() };

impl FolderTargets {
    /// The targets of these checks (those that lead somewhere else than themselves).
    pub(crate) fn new(checks: impl IntoIterator<Item = (String, String)>) -> FolderTargets {
        FolderTargets { by_literal: checks.into_iter().filter(|(path, resolved)| path != resolved).collect() }
    }

    /// An empty table, borrowed for as long as needed.
    pub(crate) fn none() -> &'static FolderTargets {
        &NONE
    }

    /// Where `literal` leads, when a symlink is in it.
    pub(crate) fn resolved(&self, literal: &str) -> Option<&str> {
        self.by_literal.get(literal).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_becomes_nfc_and_ascii_or_nfc_text_is_borrowed() {
        let nfd = "/Users/dev/Cafe\u{301}";
        assert_eq!(nfc(nfd), "/Users/dev/Caf\u{e9}");
        assert!(matches!(nfc(nfd), Cow::Owned(_)));
        assert!(matches!(nfc("/home/dev/shop"), Cow::Borrowed("/home/dev/shop")));
        assert!(matches!(nfc("/Users/dev/Caf\u{e9}"), Cow::Borrowed("/Users/dev/Caf\u{e9}")));
        assert!(matches!(nfc(""), Cow::Borrowed("")));
    }

    #[test]
    fn found_folders_are_final_and_missing_ones_are_looked_at_again_after_a_day() {
        let check = |resolved: Option<&str>, checked_ms| FolderCheck {
            path: "/w".into(),
            resolved: resolved.map(str::to_string),
            checked_ms,
        };
        let day = RECHECK_MISSING_MS;
        assert!(is_due(None, 0));
        assert!(!is_due(Some(&check(Some("/w"), 0)), 10 * day), "no symlink: final");
        assert!(!is_due(Some(&check(Some("/real/w"), 0)), 10 * day), "a target: final");
        assert!(!is_due(Some(&check(None, 5 * day)), 6 * day - 1), "missing, looked at less than a day ago");
        assert!(is_due(Some(&check(None, 5 * day)), 6 * day));
    }

    #[test]
    fn only_absolute_paths_are_looked_at_and_outcomes_are_nfc() {
        assert!(is_resolvable("/home/dev/w"));
        assert!(!is_resolvable(r"C:\Users\dev\w"));
        assert!(!is_resolvable("relative/w"));
        assert_eq!(outcome(Some("/private/tmp/Cafe\u{301}")).as_deref(), Some("/private/tmp/Caf\u{e9}"));
        assert_eq!(outcome(None), None);
    }

    #[test]
    fn a_pass_renames_folders_written_before_nfc_and_looks_only_at_those_due() {
        let day = RECHECK_MISSING_MS;
        let known: BTreeMap<String, Option<FolderCheck>> = [
            ("/new".to_string(), None),
            (
                "/old/Cafe\u{301}".to_string(),
                Some(FolderCheck { path: "/old/Cafe\u{301}".into(), resolved: None, checked_ms: 0 }),
            ),
            (
                "/gone".to_string(),
                Some(FolderCheck { path: "/gone".into(), resolved: None, checked_ms: day }),
            ),
            (
                "/found".to_string(),
                Some(FolderCheck { path: "/found".into(), resolved: Some("/found".into()), checked_ms: 0 }),
            ),
        ]
        .into_iter()
        .collect();
        let pass = plan_pass(&known, day + 1);
        assert_eq!(pass.renames, vec![("/old/Cafe\u{301}".to_string(), "/old/Caf\u{e9}".to_string())]);
        assert_eq!(pass.due, vec!["/new".to_string(), "/old/Caf\u{e9}".to_string()]);
        assert_eq!(
            plan_pass(&known, 2 * day).due,
            vec!["/gone".to_string(), "/new".to_string(), "/old/Caf\u{e9}".to_string()]
        );
    }

    #[test]
    fn targets_keep_only_folders_that_lead_elsewhere() {
        let targets = FolderTargets::new([
            ("/link/w".to_string(), "/real/w".to_string()),
            ("/plain".to_string(), "/plain".to_string()),
        ]);
        assert_eq!(targets.resolved("/link/w"), Some("/real/w"));
        assert_eq!(targets.resolved("/plain"), None);
        assert_eq!(targets.resolved("/unknown"), None);
        assert_eq!(FolderTargets::none().resolved("/link/w"), None);
    }
}
