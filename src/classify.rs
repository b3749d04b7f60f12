//! Which local project a session belongs to, decided once and apart from the time split: the longest
//! mapped key covering the session's working directory, else the directory itself (unmapped). Glob
//! rules and tags plug in here next; `allocate`, the sync planners and `report` all take the result.
//!
//! Pure: no I/O.

use crate::sessions::Session;

/// A session's local project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ProjectKey {
    /// A key of the destination's mapping (a path covering the session's folder).
    Mapped(String),
    /// No mapping covers the folder: the folder itself (its time goes to Other).
    Unmapped(String),
}

impl ProjectKey {
    /// The key as shown: the mapped path, or the session's own folder.
    pub(crate) fn name(&self) -> &str {
        match self {
            ProjectKey::Mapped(key) | ProjectKey::Unmapped(key) => key,
        }
    }
}

/// A session with its local project.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Classified<'a> {
    pub(crate) session: &'a Session,
    pub(crate) project: &'a ProjectKey,
}

/// Decides sessions' projects from a set of mapped keys (paths; a path covers every folder below it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Classifier {
    /// Keys without trailing separators, longest first.
    keys: Vec<String>,
}

impl Classifier {
    /// A classifier for these mapped keys.
    pub(crate) fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Classifier {
        let mut keys: Vec<String> = keys.into_iter().map(normalize).collect();
        keys.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        keys.dedup();
        Classifier { keys }
    }

    /// The local project of one session.
    pub(crate) fn classify(&self, session: &Session) -> ProjectKey {
        match self.keys.iter().find(|key| covers(key, &session.project)) {
            Some(key) => ProjectKey::Mapped(key.clone()),
            None => ProjectKey::Unmapped(session.project.clone()),
        }
    }

    /// The local project of each session, in order.
    pub(crate) fn classify_all(&self, sessions: &[Session]) -> Vec<ProjectKey> {
        sessions.iter().map(|s| self.classify(s)).collect()
    }
}

/// A mapped key as compared: without trailing separators (but `/` stays `/`).
pub(crate) fn normalize(key: &str) -> String {
    let trimmed = key.trim_end_matches(['/', '\\']);
    if trimmed.is_empty() { key.to_string() } else { trimmed.to_string() }
}

/// Pairs sessions with their projects.
pub(crate) fn pair<'a>(sessions: &'a [Session], projects: &'a [ProjectKey]) -> Vec<Classified<'a>> {
    sessions.iter().zip(projects).map(|(session, project)| Classified { session, project }).collect()
}

/// True when `project` is `path` or a folder below it (by whole path segments).
fn covers(path: &str, project: &str) -> bool {
    if path == "/" {
        return project.starts_with('/');
    }
    project.strip_prefix(path).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '\\']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(cwd: &str) -> Session {
        Session {
            session_id: "s".into(),
            project: cwd.into(),
            git_branch: None,
            spans: Vec::new(),
            messages: Vec::new(),
            models: Vec::new(),
        }
    }

    #[test]
    fn the_longest_covering_key_wins_by_whole_segments() {
        let classifier = Classifier::new(["/w", "/w/shop/", "/w/shop-admin"]);
        let cases = [
            ("/w/shop", ProjectKey::Mapped("/w/shop".into())),
            ("/w/shop/src", ProjectKey::Mapped("/w/shop".into())),
            ("/w/shopping", ProjectKey::Mapped("/w".into())),
            ("/w/shop-admin/x", ProjectKey::Mapped("/w/shop-admin".into())),
            ("/elsewhere", ProjectKey::Unmapped("/elsewhere".into())),
            ("/wx", ProjectKey::Unmapped("/wx".into())),
        ];
        for (cwd, expected) in cases {
            assert_eq!(classifier.classify(&session(cwd)), expected, "{cwd}");
        }
    }

    #[test]
    fn the_root_covers_every_absolute_path_and_no_keys_leave_all_unmapped() {
        assert_eq!(Classifier::new(["/"]).classify(&session("/a/b")), ProjectKey::Mapped("/".into()));
        assert_eq!(Classifier::default().classify(&session("/a/b")), ProjectKey::Unmapped("/a/b".into()));
    }
}
