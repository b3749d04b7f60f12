//! Which local project a session belongs to, decided once and apart from the time split: the longest
//! mapped key covering the session's working directory, else the directory itself (unmapped); and which
//! auto-tag rule (seed 003 §1) a session matches: first match wins, fields AND together, `*` is a glob
//! over any characters, `~` is the home directory, case matters, and the session's own values are
//! matched literally. `allocate`, the sync planners and `report` take the result.
//!
//! Paths meet in NFC (a rule's `cwd`, a mapping's key and, from the store, a session's folder), and a
//! folder with a symlink in it is matched by its literal path and by where it leads (`FolderTargets`, as
//! the ingest found it): a glob always sees the literal path, and sees the target too.
//!
//! Pure: no I/O (the home directory and the folders' targets are passed in).

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

use crate::folders::{FolderTargets, nfc};
use crate::sessions::Session;

/// One auto-tag rule as the config writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleSpec {
    /// The rule's `name`, else "rule N".
    pub(crate) name: String,
    /// The config line of its `[[rules.auto_tag]]` header, for messages.
    pub(crate) line: usize,
    /// Patterns of the `match` block; an absent field matches anything.
    pub(crate) cwd: Option<String>,
    pub(crate) git_branch: Option<String>,
    pub(crate) model: Option<String>,
    /// The name of the machine the session is attributed to (`[share] machine`, else the host name).
    pub(crate) machine: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) billable: Option<bool>,
    /// A project key the destinations' mappings may name (`"acme" = 123`).
    pub(crate) project: Option<String>,
    /// What of the matched sessions' active time is billed, over the destination's `count`.
    pub(crate) count: Option<crate::attention::Count>,
    /// Whether matched sessions with no person (a bot you bill) are posted, over the destination's.
    pub(crate) count_automated: Option<bool>,
}

/// Bracketed words in a rule's patterns that glob reads as a character class, though they look like a
/// placeholder (`/Users/[USER]/*` matches one letter of U, S, E, R, so never a home folder): each as
/// (field, the bracketed text). Ranges (`[0-9]`), short classes (`[ab]`) and escapes (`[[]`) pass.
pub(crate) fn placeholder_classes(spec: &RuleSpec) -> Vec<(&'static str, String)> {
    let fields = [
        ("cwd", &spec.cwd),
        ("git_branch", &spec.git_branch),
        ("model", &spec.model),
        ("machine", &spec.machine),
    ];
    let mut found = Vec::new();
    for (field, pattern) in fields {
        let Some(pattern) = pattern else { continue };
        let mut rest = pattern.as_str();
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            let Some(close) = after.find(']') else { break };
            let inside = &after[..close];
            let word = inside.len() >= 3 && inside.chars().all(|c| c.is_alphabetic() || c == '_');
            if word {
                found.push((field, format!("[{inside}]")));
            }
            rest = &after[close + 1..];
        }
    }
    found
}

/// Where a session's tag came from; a user's tag is never touched by rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TagSource {
    User,
    Rule,
}

impl TagSource {
    /// The name shown and stored.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TagSource::User => "user",
            TagSource::Rule => "rule",
        }
    }
}

/// One tag of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) source: TagSource,
}

/// The rules, compiled, in the config's order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    rules: Vec<(RuleSpec, Matchers)>,
    /// Every rule's `cwd` pattern in one automaton (index `i` is the `i`-th rule with a `cwd`), so a
    /// session's folder is matched once against all of them.
    cwd_set: GlobSet,
    /// For each entry of `cwd_set`, its rule's index.
    cwd_rules: Vec<usize>,
    /// Rules without a `cwd` pattern: candidates for every session.
    any_cwd: Vec<usize>,
    /// What the rule tags depend on (patterns as expanded, tags, order): a change means every session's
    /// rule tags are recomputed.
    fingerprint: String,
}

#[derive(Debug, Clone)]
struct Matchers {
    git_branch: Option<GlobMatcher>,
    model: Option<GlobMatcher>,
    machine: Option<GlobMatcher>,
}

/// Compiles one pattern: `*` matches any characters, `/` included; case-sensitive.
fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    glob_of(pattern).map(|glob| glob.compile_matcher())
}

/// Checks a pattern's syntax without compiling it (the config's check on every load: cheap).
pub(crate) fn check_glob(pattern: &str) -> Result<(), String> {
    glob_of(pattern).map(|_| ())
}

fn glob_of(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .case_insensitive(false)
        .build()
        .map_err(|error| error.kind().to_string())
}

/// A rule's `cwd` pattern as matched: `~` expanded, then in NFC like the folders it meets.
fn cwd_pattern(pattern: &str, home: Option<&str>) -> String {
    nfc(&expand_home(pattern, home)).into_owned()
}

/// `~` or `~/...` at the start of a path pattern is the home directory.
fn expand_home(pattern: &str, home: Option<&str>) -> String {
    match (pattern.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", home.trim_end_matches('/'))
        }
        _ => pattern.to_string(),
    }
}

impl Rules {
    /// Compiles the rules; `home` expands a leading `~` in `cwd` patterns. The config has checked every
    /// pattern, so an error here names the rule and the reason.
    pub(crate) fn compile(specs: Vec<RuleSpec>, home: Option<&str>) -> Result<Rules, String> {
        let matcher = |spec: &RuleSpec, pattern: Option<&String>| -> Result<Option<GlobMatcher>, String> {
            pattern
                .map(|p| {
                    glob(p).map_err(|reason| format!("rule \"{}\": invalid glob `{p}`: {reason}", spec.name))
                })
                .transpose()
        };
        let rules = specs
            .into_iter()
            .map(|spec| {
                let matchers = Matchers {
                    git_branch: matcher(&spec, spec.git_branch.as_ref())?,
                    model: matcher(&spec, spec.model.as_ref())?,
                    machine: matcher(&spec, spec.machine.as_ref())?,
                };
                Ok((spec, matchers))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for (spec, _) in &rules {
            let cwd = spec.cwd.as_ref().map(|p| cwd_pattern(p, home));
            let fields =
                [cwd.as_deref(), spec.git_branch.as_deref(), spec.model.as_deref(), spec.machine.as_deref()];
            for field in fields {
                let text = field.unwrap_or("\u{0}");
                hasher.update(&(text.len() as u64).to_le_bytes());
                hasher.update(text.as_bytes());
            }
            for tag in &spec.tags {
                hasher.update(&(tag.len() as u64).to_le_bytes());
                hasher.update(tag.as_bytes());
            }
            hasher.update(b"\n");
        }
        let mut builder = GlobSetBuilder::new();
        let mut cwd_rules = Vec::new();
        let mut any_cwd = Vec::new();
        for (index, (spec, _)) in rules.iter().enumerate() {
            match &spec.cwd {
                Some(pattern) => {
                    let expanded = cwd_pattern(pattern, home);
                    builder.add(glob_of(&expanded).map_err(|reason| {
                        format!("rule \"{}\": invalid glob `{pattern}`: {reason}", spec.name)
                    })?);
                    cwd_rules.push(index);
                }
                None => any_cwd.push(index),
            }
        }
        let cwd_set = builder.build().map_err(|error| error.kind().to_string())?;
        Ok(Rules { rules, cwd_set, cwd_rules, any_cwd, fingerprint: format!("{:016x}", hasher.digest()) })
    }

    /// The fingerprint of what rule tags depend on.
    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The rule tags of a session: those of the first rule that matches it.
    pub(crate) fn tags_for(&self, session: &Session, folders: &FolderTargets) -> Vec<String> {
        self.first_match(session, folders).map(|rule| rule.tags.clone()).unwrap_or_default()
    }

    /// How many rules there are.
    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }

    /// The rules in order.
    pub(crate) fn specs(&self) -> impl Iterator<Item = &RuleSpec> {
        self.rules.iter().map(|(spec, _)| spec)
    }

    /// The first rule whose every field matches the session, if any; a `cwd` pattern matches the
    /// session's literal folder or, when `folders` knows one, where it leads.
    pub(crate) fn first_match(&self, session: &Session, folders: &FolderTargets) -> Option<&RuleSpec> {
        if self.rules.is_empty() {
            return None;
        }
        // The rules whose folder fits (one pass over all patterns per path), plus those without a folder,
        // in order; the first whose other fields fit wins.
        let mut candidates: Vec<usize> =
            self.cwd_set.matches(&session.project).into_iter().map(|i| self.cwd_rules[i]).collect();
        let resolved = folders.resolved(&session.project);
        if let Some(resolved) = resolved {
            candidates.extend(self.cwd_set.matches(resolved).into_iter().map(|i| self.cwd_rules[i]));
        }
        if !self.any_cwd.is_empty() || resolved.is_some() {
            candidates.extend(&self.any_cwd);
            candidates.sort_unstable();
            candidates.dedup();
        }
        candidates
            .into_iter()
            .map(|index| &self.rules[index])
            .find(|(_, matchers)| matchers.matches_beyond_cwd(session))
            .map(|(spec, _)| spec)
    }
}

impl Matchers {
    /// The branch, model and machine fields (the folder was matched by the set). A session of this
    /// machine, when the database has not named it (`""`: see `Session::machine`), matches only `*`.
    fn matches_beyond_cwd(&self, session: &Session) -> bool {
        let branch = self
            .git_branch
            .as_ref()
            .is_none_or(|glob| session.git_branch.as_deref().is_some_and(|branch| glob.is_match(branch)));
        let model = self.model.as_ref().is_none_or(|glob| session.models.iter().any(|m| glob.is_match(m)));
        let machine = self.machine.as_ref().is_none_or(|glob| glob.is_match(&session.machine));
        branch && model && machine
    }
}

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

/// A session with its local project and its tags (sorted names, whatever their source).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Classified<'a> {
    pub(crate) session: &'a Session,
    pub(crate) project: &'a ProjectKey,
    pub(crate) tags: &'a [String],
    /// The matched rule's `billable`, if it sets one.
    pub(crate) billable: Option<bool>,
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

    /// The local project of one session, by path: the longest mapped key covering its literal folder,
    /// else the longest covering where the folder leads (a symlink in it), else unmapped (the literal).
    pub(crate) fn classify(&self, session: &Session, folders: &FolderTargets) -> ProjectKey {
        let literal = self.keys.iter().find(|key| covers(key, &session.project));
        let through_target = || {
            let resolved = folders.resolved(&session.project)?;
            self.keys.iter().find(|key| covers(key, resolved))
        };
        match literal.or_else(through_target) {
            Some(key) => ProjectKey::Mapped(key.clone()),
            None => ProjectKey::Unmapped(session.project.clone()),
        }
    }

    /// The local project of one session when rules apply: the `project` key of the rule it matches, when
    /// the mapping names that key (the user's explicit intent beats the folder it ran in); else by path.
    pub(crate) fn classify_with(
        &self,
        rules: &Rules,
        session: &Session,
        folders: &FolderTargets,
    ) -> ProjectKey {
        self.classify_by_rule(rules.first_match(session, folders), session, folders)
    }

    /// As [`Classifier::classify_with`], given the rule the session matched.
    fn classify_by_rule(
        &self,
        rule: Option<&RuleSpec>,
        session: &Session,
        folders: &FolderTargets,
    ) -> ProjectKey {
        let rule_key = rule.and_then(|rule| rule.project.as_deref()).map(normalize);
        match rule_key.filter(|key| self.keys.contains(key)) {
            Some(key) => ProjectKey::Mapped(key),
            None => self.classify(session, folders),
        }
    }

    /// The local project of each session, in order, by literal folder: for the local groupings (report,
    /// dashboard), whose classifier maps nothing, so no target could matter.
    pub(crate) fn classify_all(&self, sessions: &[Session]) -> Vec<ProjectKey> {
        sessions.iter().map(|s| self.classify(s, FolderTargets::none())).collect()
    }

    /// The local project of each session under the rules, and the matched rule's `billable`, in order;
    /// each session is matched against the rules once.
    pub(crate) fn classify_all_with(
        &self,
        rules: &Rules,
        sessions: &[Session],
        folders: &FolderTargets,
    ) -> (Vec<ProjectKey>, Vec<Option<bool>>) {
        sessions
            .iter()
            .map(|session| {
                let rule = rules.first_match(session, folders);
                (self.classify_by_rule(rule, session, folders), rule.and_then(|rule| rule.billable))
            })
            .unzip()
    }
}

/// A mapped key as compared: in NFC like the folders it covers, without trailing separators (but `/`
/// stays `/`).
pub(crate) fn normalize(key: &str) -> String {
    let trimmed = key.trim_end_matches(['/', '\\']);
    nfc(if trimmed.is_empty() { key } else { trimmed }).into_owned()
}

/// Pairs sessions with their projects (no tags).
#[cfg(test)]
pub(crate) fn pair<'a>(sessions: &'a [Session], projects: &'a [ProjectKey]) -> Vec<Classified<'a>> {
    sessions
        .iter()
        .zip(projects)
        .map(|(session, project)| Classified { session, project, tags: &[], billable: None })
        .collect()
}

/// Pairs sessions with their projects and their tags (by session id; a session without any has none).
pub(crate) fn pair_tagged<'a>(
    sessions: &'a [Session],
    projects: &'a [ProjectKey],
    tags: &'a std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<Classified<'a>> {
    sessions
        .iter()
        .zip(projects)
        .map(|(session, project)| Classified {
            session,
            project,
            tags: tags.get(&session.session_id).map_or(&[][..], Vec::as_slice),
            billable: None,
        })
        .collect()
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
            ..Default::default()
        }
    }

    fn rule(name: &str, cwd: Option<&str>, branch: Option<&str>, model: Option<&str>) -> RuleSpec {
        RuleSpec {
            name: name.into(),
            line: 1,
            cwd: cwd.map(str::to_string),
            git_branch: branch.map(str::to_string),
            model: model.map(str::to_string),
            machine: None,
            tags: vec![name.to_lowercase()],
            billable: None,
            project: None,
            count: None,
            count_automated: None,
        }
    }

    fn with(cwd: &str, branch: Option<&str>, models: &[&str]) -> Session {
        Session {
            git_branch: branch.map(str::to_string),
            models: models.iter().map(|m| m.to_string()).collect(),
            ..session(cwd)
        }
    }

    fn matched(rules: &Rules, session: &Session) -> Option<String> {
        rules.first_match(session, FolderTargets::none()).map(|r| r.name.clone())
    }

    #[test]
    fn a_bracketed_word_is_a_placeholder_look_alike_a_class_or_escape_is_not() {
        let mut spec = rule("home", Some("/Users/[USER]/*"), Some("feature/[a-z]*"), Some("claude-[[]opus]"));
        assert_eq!(placeholder_classes(&spec), vec![("cwd", "[USER]".to_string())]);
        spec.git_branch = Some("[TICKET_ID]-*".into());
        spec.cwd = Some("/w/[ab]/*".into());
        assert_eq!(placeholder_classes(&spec), vec![("git_branch", "[TICKET_ID]".to_string())]);
        spec.machine = Some("[HOST]".into());
        assert_eq!(
            placeholder_classes(&spec),
            vec![("git_branch", "[TICKET_ID]".to_string()), ("machine", "[HOST]".to_string())]
        );
    }

    #[test]
    fn the_first_matching_rule_wins_and_fields_and_together() {
        let rules = Rules::compile(
            vec![
                rule("Secret", Some("~/work/acme/secret/*"), None, None),
                rule("Hotfix", Some("~/work/acme/*"), Some("hotfix/*"), None),
                rule("Acme", Some("~/work/acme/*"), None, None),
                rule("Opus", None, None, Some("claude-opus-*")),
            ],
            Some("/home/dev"),
        )
        .unwrap();
        let cases = [
            (with("/home/dev/work/acme/secret/x", Some("hotfix/1"), &[]), Some("Secret")),
            (with("/home/dev/work/acme/shop", Some("hotfix/42"), &[]), Some("Hotfix")),
            (with("/home/dev/work/acme/shop/deep/er", Some("main"), &[]), Some("Acme")),
            (with("/home/dev/work/acme/shop", None, &[]), Some("Acme")),
            (with("/home/dev/oss/x", None, &["claude-sonnet-4-5", "claude-opus-4-1"]), Some("Opus")),
            (with("/home/dev/oss/x", None, &["claude-sonnet-4-5"]), None),
            (with("/home/dev/work/ACME/shop", None, &[]), None),
        ];
        for (session, expected) in cases {
            assert_eq!(matched(&rules, &session).as_deref(), expected, "{session:?}");
        }
    }

    /// `machine` is a glob like the other fields, against the name the database has for the session's
    /// machine; this machine before the database names it (`""`) is seen only by `*`.
    #[test]
    fn a_machine_pattern_matches_the_sessions_machine_by_name() {
        let on = |machine: Option<&str>| RuleSpec {
            machine: machine.map(str::to_string),
            ..rule("Work", None, None, None)
        };
        let rules = Rules::compile(vec![on(Some("work-*")), on(Some("*"))], None).unwrap();
        let names: Vec<Option<&str>> = rules.specs().map(|spec| spec.machine.as_deref()).collect();
        assert_eq!(names, vec![Some("work-*"), Some("*")]);
        let session_on = |machine: &str| Session { machine: machine.into(), ..session("/w/x") };
        let first = |machine: &str| {
            rules.first_match(&session_on(machine), FolderTargets::none()).and_then(|r| r.machine.clone())
        };
        assert_eq!(first("work-laptop").as_deref(), Some("work-*"));
        assert_eq!(first("desk").as_deref(), Some("*"));
        assert_eq!(first("Work-laptop").as_deref(), Some("*"), "case matters");
        assert_eq!(first("").as_deref(), Some("*"), "an unnamed machine: only `*`");
        let only = Rules::compile(vec![on(Some("desk"))], None).unwrap();
        assert_eq!(only.tags_for(&session_on("desk"), FolderTargets::none()), vec!["work".to_string()]);
        assert!(only.tags_for(&session_on(""), FolderTargets::none()).is_empty());
        assert!(only.tags_for(&session_on("(unknown)"), FolderTargets::none()).is_empty());
    }

    /// Rule tags are recomputed when the fingerprint changes: a `machine` pattern is part of it, as
    /// every other field is.
    #[test]
    fn the_fingerprint_covers_the_machine_pattern() {
        let with = |machine: Option<&str>| {
            let spec =
                RuleSpec { machine: machine.map(str::to_string), ..rule("Work", Some("/w/*"), None, None) };
            Rules::compile(vec![spec], None).unwrap().fingerprint().to_string()
        };
        assert_ne!(with(None), with(Some("laptop")));
        assert_ne!(with(Some("laptop")), with(Some("desk")));
        assert_eq!(with(Some("desk")), with(Some("desk")));
        let as_branch = Rules::compile(vec![rule("Work", Some("/w/*"), Some("laptop"), None)], None).unwrap();
        assert_ne!(as_branch.fingerprint(), with(Some("laptop")), "the same pattern in another field");
    }

    #[test]
    fn session_values_are_literal_and_tilde_is_home_only_at_the_start() {
        let rules = Rules::compile(vec![rule("Bracket", Some("/w/[[]draft]/*"), None, None)], None).unwrap();
        assert_eq!(matched(&rules, &with("/w/[draft]/x", None, &[])).as_deref(), Some("Bracket"));
        assert_eq!(matched(&rules, &with("/w/d/x", None, &[])), None, "the path's `[` is not a class");
        let star = Rules::compile(vec![rule("Star", Some("/w/a*b"), None, None)], None).unwrap();
        assert_eq!(matched(&star, &with("/w/a*b", None, &[])).as_deref(), Some("Star"));
        assert_eq!(matched(&star, &with("/w/a/x/b", None, &[])).as_deref(), Some("Star"), "`*` spans `/`");
        assert_eq!(expand_home("~/w", Some("/home/dev/")), "/home/dev/w");
        assert_eq!(expand_home("~", Some("/home/dev")), "/home/dev");
        assert_eq!(expand_home("~bob/w", Some("/home/dev")), "~bob/w");
        assert_eq!(expand_home("/w/~/x", Some("/home/dev")), "/w/~/x");
    }

    #[test]
    fn an_invalid_glob_names_the_rule_and_the_reason() {
        let error =
            Rules::compile(vec![rule("Broken", Some("~/work/[invalid"), None, None)], None).unwrap_err();
        assert_eq!(
            error,
            "rule \"Broken\": invalid glob `~/work/[invalid`: unclosed character class; missing ']'"
        );
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
            assert_eq!(classifier.classify(&session(cwd), FolderTargets::none()), expected, "{cwd}");
        }
    }

    #[test]
    fn a_rules_project_key_wins_over_the_path_when_the_mapping_names_it() {
        let mut acme = rule("Acme", Some("/w/acme/*"), None, None);
        acme.project = Some("acme".into());
        let rules = Rules::compile(vec![acme], None).unwrap();
        let with_key = Classifier::new(["acme", "/w/acme/shop"]);
        assert_eq!(
            with_key.classify_with(&rules, &session("/w/acme/shop"), FolderTargets::none()),
            ProjectKey::Mapped("acme".into())
        );
        let paths_only = Classifier::new(["/w/acme/shop"]);
        assert_eq!(
            paths_only.classify_with(&rules, &session("/w/acme/shop"), FolderTargets::none()),
            ProjectKey::Mapped("/w/acme/shop".into()),
            "a destination that does not name the key maps by path"
        );
        assert_eq!(
            with_key.classify_with(&rules, &session("/w/other"), FolderTargets::none()),
            ProjectKey::Unmapped("/w/other".into())
        );
    }

    #[test]
    fn a_symlinked_folder_is_matched_by_its_literal_path_and_by_where_it_leads() {
        let rules = Rules::compile(
            vec![rule("Link", Some("/links/*"), None, None), rule("Acme", Some("/real/acme/*"), None, None)],
            None,
        )
        .unwrap();
        let targets = FolderTargets::new([("/links/shop".to_string(), "/real/acme/shop".to_string())]);
        let linked = session("/links/shop");
        assert_eq!(
            rules.first_match(&linked, &targets).map(|r| r.name.as_str()),
            Some("Link"),
            "the glob still sees the literal path, and the first rule still wins"
        );
        let only_target = Rules::compile(vec![rule("Acme", Some("/real/acme/*"), None, None)], None).unwrap();
        assert_eq!(only_target.first_match(&linked, &targets).map(|r| r.name.as_str()), Some("Acme"));
        assert_eq!(
            only_target.first_match(&linked, FolderTargets::none()),
            None,
            "no target known: literal only"
        );
        assert_eq!(only_target.tags_for(&linked, &targets), vec!["acme".to_string()]);

        // Mappings: the literal path first, the target when the literal is not covered.
        let classifier = Classifier::new(["/real/acme", "/links/other"]);
        assert_eq!(classifier.classify(&linked, &targets), ProjectKey::Mapped("/real/acme".into()));
        assert_eq!(
            classifier.classify(&linked, FolderTargets::none()),
            ProjectKey::Unmapped("/links/shop".into())
        );
        let literal_first = Classifier::new(["/real/acme", "/links"]);
        assert_eq!(literal_first.classify(&linked, &targets), ProjectKey::Mapped("/links".into()));
        let (projects, _) =
            classifier.classify_all_with(&only_target, std::slice::from_ref(&linked), &targets);
        assert_eq!(projects, vec![ProjectKey::Mapped("/real/acme".into())]);
    }

    #[test]
    fn rule_patterns_and_mapping_keys_meet_folders_in_nfc() {
        let nfc_folder = session("/w/Caf\u{e9}/x");
        let rules = Rules::compile(vec![rule("Cafe", Some("/w/Cafe\u{301}/*"), None, None)], None).unwrap();
        assert_eq!(matched(&rules, &nfc_folder).as_deref(), Some("Cafe"), "a pattern typed in NFD");
        let nfc_rules = Rules::compile(vec![rule("Cafe", Some("/w/Caf\u{e9}/*"), None, None)], None).unwrap();
        assert_eq!(rules.fingerprint(), nfc_rules.fingerprint(), "both forms are one rule");
        let classifier = Classifier::new(["/w/Cafe\u{301}/"]);
        assert_eq!(
            classifier.classify(&nfc_folder, FolderTargets::none()),
            ProjectKey::Mapped("/w/Caf\u{e9}".into())
        );
    }

    #[test]
    fn the_root_covers_every_absolute_path_and_no_keys_leave_all_unmapped() {
        assert_eq!(
            Classifier::new(["/"]).classify(&session("/a/b"), FolderTargets::none()),
            ProjectKey::Mapped("/".into())
        );
        assert_eq!(
            Classifier::default().classify(&session("/a/b"), FolderTargets::none()),
            ProjectKey::Unmapped("/a/b".into())
        );
    }
}
