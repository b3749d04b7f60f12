//! What an entry's description says (issue 19, item 4): a template filled in with the project, the
//! session, the subjects of the git commits made during the entry (`{commits}`) and the session's title
//! (`{title}`, only with `[capture] keep_titles`), then cut to the service's limit on a word boundary.
//! Never message text: commits come from `git`, titles from Claude Code's own title lines.
//!
//! Pure: the commits and titles come in as data (read at ingest, kept in the store); no I/O, no clock.

use std::collections::BTreeMap;

use unicode_segmentation::UnicodeSegmentation;

use crate::sessions::Millis;

/// The placeholders a description template may hold.
pub(crate) const PLACEHOLDERS: [&str; 6] = ["project", "path", "branch", "session", "commits", "title"];

/// How commit subjects and session titles are joined in one description.
const JOIN: &str = "; ";

/// What marks a description cut short.
const ELLIPSIS: &str = "…";

/// A commit subject or title longer than this many characters is cut when it is read (a description is
/// cut again to its service's limit; this only bounds what the store keeps).
pub(crate) const KEPT_CHARS: usize = 500;

/// One commit made in a session's folder: when it was committed, its id and its subject line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Commit {
    /// Committer time (what "made during the entry" means; an author date survives a rebase).
    pub(crate) at: Millis,
    pub(crate) hash: String,
    pub(crate) subject: String,
}

/// What was done besides the time, over a window: the commits of each folder and the title of each
/// session. Loaded from the store for the sessions a plan reads, handed to the planners as data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WorkDone {
    /// By folder (a session's `cwd`), each list sorted by time then hash.
    pub(crate) commits: BTreeMap<String, Vec<Commit>>,
    /// By session id: the one title kept for it (empty map unless `keep_titles`).
    pub(crate) titles: BTreeMap<String, String>,
}

/// Nothing done: what a plan without commits or titles loaded (a caller that does not ask) fills in.
pub(crate) static NOTHING_DONE: WorkDone = WorkDone { commits: BTreeMap::new(), titles: BTreeMap::new() };

impl WorkDone {
    /// The distinct subjects of the commits made in `folders` during `[from, to)`, oldest first, joined
    /// by `; ` (a commit seen under two folders, or two commits of one subject, count once).
    pub(crate) fn commits_in<'a>(
        &self,
        folders: impl IntoIterator<Item = &'a str>,
        (from, to): (Millis, Millis),
    ) -> String {
        let mut found: Vec<&Commit> = folders
            .into_iter()
            .filter_map(|folder| self.commits.get(folder))
            .flatten()
            .filter(|commit| commit.at >= from && commit.at < to)
            .collect();
        found.sort_unstable();
        found.dedup_by(|later, kept| later.hash == kept.hash);
        distinct_joined(found.into_iter().map(|commit| commit.subject.as_str()))
    }

    /// The distinct titles of these sessions, in the order given, joined by `; `.
    pub(crate) fn titles_of<'a>(&self, sessions: impl IntoIterator<Item = &'a str>) -> String {
        distinct_joined(sessions.into_iter().filter_map(|id| self.titles.get(id)).map(String::as_str))
    }
}

/// Each text once (the first time it comes), joined by `; `.
fn distinct_joined<'a>(texts: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for text in texts.filter(|t| !t.is_empty()) {
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen.join(JOIN)
}

/// The values a template is filled with; an empty one leaves no separator or brackets behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fill<'a> {
    pub(crate) project: &'a str,
    pub(crate) path: &'a str,
    pub(crate) branch: &'a str,
    pub(crate) session: &'a str,
    pub(crate) commits: String,
    pub(crate) title: String,
}

/// Whether `template` uses `{name}`: the planners compute commits and titles only when asked.
pub(crate) fn uses(template: &str, name: &str) -> bool {
    template.contains(&format!("{{{name}}}"))
}

/// Refuses a description template with an unknown `{placeholder}`.
pub(crate) fn check_template(template: &str) -> Result<(), String> {
    for piece in pieces(template) {
        if let Piece::Placeholder(name) = piece
            && !PLACEHOLDERS.contains(&name)
        {
            return Err(format!(
                "`{{{name}}}` is not a placeholder of `description`: use {{project}}, {{path}}, {{branch}}, \
                 {{session}}, {{commits}} or {{title}} (never message text)"
            ));
        }
    }
    Ok(())
}

/// A template's parts: literal text and `{name}` placeholders (an unclosed `{` is literal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        if open > 0 {
            pieces.push(Piece::Literal(&rest[..open]));
        }
        pieces.push(Piece::Placeholder(&after[..close]));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest));
    }
    pieces
}

/// Characters that only separate values: a literal made of these (and spaces) next to an empty value
/// is dropped with it, so `{project} - {commits}` without commits reads `shop`, not `shop -`.
const SEPARATORS: [char; 9] = ['-', '–', '—', ':', ';', ',', '|', '/', '·'];

fn is_separator(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || SEPARATORS.contains(&c))
}

/// Fills a template in one pass (a value holding `{branch}` is never filled again). When a value is
/// empty, the brackets around it (`({branch})`, `[{commits}]`) go, then the separator next to it
/// (the one before it, else the one after), and runs of spaces become one.
pub(crate) fn render(template: &str, fill: &Fill<'_>) -> String {
    let value = |name: &str| -> &str {
        match name {
            "project" => fill.project,
            "path" => fill.path,
            "branch" => fill.branch,
            "session" => fill.session,
            "commits" => &fill.commits,
            "title" => &fill.title,
            _ => "",
        }
    };
    // (text, is a value) for every piece; literals are trimmed of brackets and separators as values
    // around them turn out empty.
    let mut parts: Vec<(String, bool)> = pieces(template)
        .into_iter()
        .map(|piece| match piece {
            Piece::Literal(text) => (text.to_string(), false),
            Piece::Placeholder(name) if PLACEHOLDERS.contains(&name) => (value(name).to_string(), true),
            Piece::Placeholder(name) => (format!("{{{name}}}"), false),
        })
        .collect();
    let mut missing = false;
    for index in 0..parts.len() {
        if !(parts[index].1 && parts[index].0.is_empty()) {
            continue;
        }
        missing = true;
        let before = index.checked_sub(1).filter(|&i| !parts[i].1);
        let after = Some(index + 1).filter(|&i| i < parts.len() && !parts[i].1);
        if let (Some(b), Some(a)) = (before, after) {
            for (open, close) in [('(', ')'), ('[', ']')] {
                let opened = parts[b].0.trim_end().ends_with(open);
                let closed = parts[a].0.trim_start().starts_with(close);
                if opened && closed {
                    let kept = parts[b].0.trim_end().len() - open.len_utf8();
                    parts[b].0.truncate(kept);
                    let rest = parts[a].0.trim_start()[close.len_utf8()..].to_string();
                    parts[a].0 = rest;
                }
            }
        }
        let has_value_before = parts[..index].iter().any(|(text, value)| *value && !text.is_empty());
        match (before, after) {
            (Some(b), _) if has_value_before && is_separator(&parts[b].0) => parts[b].0.clear(),
            (_, Some(a)) if is_separator(&parts[a].0) => parts[a].0.clear(),
            (Some(b), None) if is_separator(&parts[b].0) => parts[b].0.clear(),
            _ => {}
        }
    }
    let text: String = parts.into_iter().map(|(text, _)| text).collect();
    if missing { text.split_whitespace().collect::<Vec<_>>().join(" ") } else { text }
}

/// How a service measures a description, and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DescriptionLimit {
    /// No limit (a CSV, a plan without a service).
    #[default]
    None,
    /// At most this many bytes of UTF-8 (Toggl Track).
    Utf8Bytes(usize),
    /// At most this many UTF-16 code units (Clockify counts characters as Java does: an emoji is two).
    Utf16Units(usize),
    /// At most this many characters (Unicode scalar values): what the store keeps of a subject.
    Chars(usize),
}

impl DescriptionLimit {
    fn size(self, text: &str) -> usize {
        match self {
            DescriptionLimit::None => 0,
            DescriptionLimit::Utf8Bytes(_) => text.len(),
            DescriptionLimit::Utf16Units(_) => text.encode_utf16().count(),
            DescriptionLimit::Chars(_) => text.chars().count(),
        }
    }

    fn max(self) -> usize {
        match self {
            DescriptionLimit::None => usize::MAX,
            DescriptionLimit::Utf8Bytes(max)
            | DescriptionLimit::Utf16Units(max)
            | DescriptionLimit::Chars(max) => max,
        }
    }

    fn fits(self, text: &str) -> bool {
        self == DescriptionLimit::None || self.size(text) <= self.max()
    }
}

/// `text` cut to `limit`: at the last word boundary that fits, separators and spaces before it dropped,
/// and `…` added (it counts in the limit), so the reader sees it was cut; a text with no boundary that
/// fits (one long word) is cut between characters (whole graphemes). A text that fits is kept whole.
pub(crate) fn cut(text: &str, limit: DescriptionLimit) -> String {
    if limit.fits(text) {
        return text.to_string();
    }
    let budget = limit.max().saturating_sub(limit.size(ELLIPSIS));
    let fits = |end: usize| limit.size(trimmed(&text[..end])) <= budget;
    let words: Vec<(usize, &str)> = text.split_word_bound_indices().collect();
    // The last space that fits: everything before it is whole words.
    let at_space = words.iter().filter(|(_, w)| w.chars().all(char::is_whitespace)).map(|(i, _)| *i);
    // Else any word boundary (text without spaces: CJK, a path), else any grapheme.
    let at_word = words.iter().map(|(i, _)| *i);
    let at_grapheme = text.grapheme_indices(true).map(|(i, _)| i);
    let end = last_fitting(at_space, &fits)
        .or_else(|| last_fitting(at_word, &fits))
        .or_else(|| last_fitting(at_grapheme, &fits))
        .unwrap_or(0);
    let kept = trimmed(&text[..end]);
    if limit.size(ELLIPSIS) > limit.max() {
        return String::new();
    }
    format!("{kept}{ELLIPSIS}")
}

/// The last nonzero offset of `ends` (ascending) whose prefix fits.
fn last_fitting(ends: impl Iterator<Item = usize>, fits: &impl Fn(usize) -> bool) -> Option<usize> {
    ends.filter(|&end| end > 0).take_while(|&end| fits(end)).last()
}

/// A prefix without the spaces and separators it ends in.
fn trimmed(prefix: &str) -> &str {
    prefix.trim_end_matches(|c: char| c.is_whitespace() || SEPARATORS.contains(&c))
}

/// A commit subject or a title as it is kept: on one line (control characters and line breaks become
/// spaces, runs of spaces one), trimmed, at most [`KEPT_CHARS`] characters.
pub(crate) fn one_line(text: &str) -> String {
    let spaced: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let line = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&line, DescriptionLimit::Chars(KEPT_CHARS))
}

/// The field separator of [`GIT_LOG_FORMAT`] (ASCII unit separator).
const FIELD: char = '\u{1f}';

/// What `git log --format` prints per commit: hash, committer time (Unix seconds), committer email,
/// subject.
pub(crate) const GIT_LOG_FORMAT: &str = "--format=%H%x1f%ct%x1f%ce%x1f%s";

/// One commit of `git log` output, with its committer's email (to keep only this user's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoggedCommit {
    pub(crate) commit: Commit,
    pub(crate) email: String,
}

/// Reads `git log` output in [`GIT_LOG_FORMAT`]; a line that does not parse is passed over, a subject is
/// made one line ([`one_line`]); sorted by time then hash.
pub(crate) fn parse_git_log(output: &str) -> Vec<LoggedCommit> {
    let mut commits: Vec<LoggedCommit> = output
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(4, FIELD);
            let hash = fields.next()?.trim();
            let seconds: i64 = fields.next()?.trim().parse().ok()?;
            let email = fields.next()?.trim();
            let subject = one_line(fields.next().unwrap_or_default());
            let valid_hash = !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit());
            (valid_hash && !subject.is_empty()).then(|| LoggedCommit {
                commit: Commit { at: seconds.saturating_mul(1000), hash: hash.to_string(), subject },
                email: email.to_string(),
            })
        })
        .collect();
    commits.sort_unstable_by(|a, b| a.commit.cmp(&b.commit));
    commits
}

/// The one title a session shows, from the titles Claude Code wrote: the user's own (`/rename`) over
/// the one Claude Code generated, over the older `summary` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TitleKind {
    /// `{"type":"custom-title","customTitle":...}`: the user renamed the session.
    Custom,
    /// `{"type":"ai-title","aiTitle":...}`: Claude Code named it.
    Ai,
    /// `{"type":"summary","summary":...,"leafUuid":...}`: the summary of the conversation ending at
    /// the leaf (older versions).
    Summary,
}

impl TitleKind {
    /// The name in the store.
    pub(crate) fn key(self) -> &'static str {
        match self {
            TitleKind::Custom => "custom",
            TitleKind::Ai => "ai",
            TitleKind::Summary => "summary",
        }
    }
}

/// A title line as read: which session, which kind, the text (already one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TitleLine {
    pub(crate) session_id: String,
    pub(crate) kind: TitleKind,
    pub(crate) text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill<'a>(branch: &'a str, commits: &str, title: &str) -> Fill<'a> {
        Fill {
            project: "shop",
            path: "/home/dev/shop",
            branch,
            session: "01234567",
            commits: commits.into(),
            title: title.into(),
        }
    }

    #[test]
    fn every_placeholder_is_filled_once_and_a_value_is_never_filled_again() {
        let all = "{project} ({branch}) {path} {session}: {commits} [{title}]";
        assert_eq!(
            render(all, &fill("main", "Add the cart; Fix totals", "Cart work")),
            "shop (main) /home/dev/shop 01234567: Add the cart; Fix totals [Cart work]"
        );
        // A subject naming a placeholder stays as written, brackets and all.
        assert_eq!(render("{commits}", &fill("main", "Use {branch} in foo()", "")), "Use {branch} in foo()");
        assert_eq!(render("Development", &fill("", "", "")), "Development");
        assert_eq!(render("{unknown} {project}", &fill("main", "", "")), "{unknown} shop");
    }

    #[test]
    fn an_empty_value_leaves_no_brackets_or_separator_behind() {
        assert_eq!(render("{project} ({branch})", &fill("", "", "")), "shop");
        assert_eq!(render("{project} [{branch}] {session}", &fill("", "", "")), "shop 01234567");
        assert_eq!(render("{project}: {commits}", &fill("main", "", "")), "shop");
        assert_eq!(render("{project} - {commits} - {branch}", &fill("main", "", "")), "shop - main");
        assert_eq!(render("{title} — {project}", &fill("main", "", "")), "shop");
        assert_eq!(render("{commits}", &fill("main", "", "")), "");
        // Words of the user's own stay.
        assert_eq!(render("{project} done: {commits}", &fill("main", "", "")), "shop done:");
    }

    #[test]
    fn templates_with_an_unknown_placeholder_are_refused() {
        assert_eq!(check_template("{project} [{branch}] {path} {session} {commits} {title}"), Ok(()));
        assert_eq!(check_template("{ not closed"), Ok(()));
        assert_eq!(
            check_template("{project} {message}"),
            Err("`{message}` is not a placeholder of `description`: use {project}, {path}, {branch}, {session}, \
                 {commits} or {title} (never message text)"
                .to_string())
        );
    }

    fn commit(at: Millis, hash: &str, subject: &str) -> Commit {
        Commit { at, hash: hash.into(), subject: subject.into() }
    }

    #[test]
    fn commits_are_those_of_the_folders_in_the_window_once_each_oldest_first() {
        let mut done = WorkDone::default();
        done.commits.insert(
            "/w/shop".into(),
            vec![
                commit(1_000, "a1", "Add the cart"),
                commit(5_000, "c3", "Fix totals"),
                commit(9_000, "d4", "Later"),
            ],
        );
        // The same commit seen from a second folder of the repository, and another of the same subject.
        done.commits.insert(
            "/w/shop/web".into(),
            vec![commit(5_000, "c3", "Fix totals"), commit(3_000, "b2", "Add the cart")],
        );
        done.commits.insert("/w/other".into(), vec![commit(2_000, "e5", "Elsewhere")]);
        assert_eq!(done.commits_in(["/w/shop", "/w/shop/web"], (1_000, 9_000)), "Add the cart; Fix totals");
        assert_eq!(done.commits_in(["/w/shop"], (1_001, 9_001)), "Fix totals; Later");
        assert_eq!(done.commits_in(["/w/none"], (0, 10_000)), "");
        done.titles.insert("s1".into(), "Cart work".into());
        done.titles.insert("s2".into(), "Cart work".into());
        done.titles.insert("s3".into(), "Totals".into());
        assert_eq!(done.titles_of(["s3", "s1", "s2", "s4"]), "Totals; Cart work");
    }

    #[test]
    fn a_long_description_is_cut_on_a_word_boundary_within_the_limit() {
        let text = "Add the cart; Fix totals; Rename the checkout step";
        assert_eq!(cut(text, DescriptionLimit::Utf8Bytes(text.len())), text);
        // 20 bytes: "Add the cart; Fix" and the ellipsis (3 bytes) make 20; the separator before the cut goes.
        assert_eq!(cut(text, DescriptionLimit::Utf8Bytes(20)), "Add the cart; Fix…");
        assert_eq!(cut(text, DescriptionLimit::Utf8Bytes(16)), "Add the cart…");
        assert_eq!(cut(text, DescriptionLimit::Utf16Units(14)), "Add the cart…");
        assert_eq!(cut(text, DescriptionLimit::Chars(13)), "Add the cart…");
        // One long word: cut between characters.
        assert_eq!(cut("Supercalifragilistic", DescriptionLimit::Chars(6)), "Super…");
        // Clockify counts an emoji as two units, Toggl as four bytes.
        let emoji = "Fix 🔥🔥 now";
        assert_eq!(emoji.encode_utf16().count(), 12);
        assert_eq!(cut(emoji, DescriptionLimit::Utf16Units(11)), "Fix 🔥🔥…");
        assert_eq!(cut(emoji, DescriptionLimit::Utf8Bytes(14)), "Fix…");
        // Every result fits.
        for limit in 1..=text.len() {
            let bytes = DescriptionLimit::Utf8Bytes(limit);
            assert!(cut(text, bytes).len() <= limit, "{limit}: {}", cut(text, bytes));
        }
        assert_eq!(cut(text, DescriptionLimit::Utf8Bytes(2)), "");
        assert_eq!(cut(text, DescriptionLimit::None), text);
    }

    #[test]
    fn subjects_are_kept_on_one_line() {
        assert_eq!(one_line("  Fix\tthe\r\ntotals  "), "Fix the totals");
        assert_eq!(one_line(&"x ".repeat(600)).chars().count(), KEPT_CHARS);
    }

    #[test]
    fn git_log_output_is_read_field_by_field() {
        let output = "c3d4\u{1f}1793614200\u{1f}t@t\u{1f}Fix totals\n\
                      a1b2\u{1f}1793610600\u{1f}t@t\u{1f}Add the cart\u{1f}with a stray separator\n\
                      not a commit line\n\
                      e5f6\u{1f}1793610000\u{1f}t@t\u{1f}   \n";
        let commits = parse_git_log(output);
        assert_eq!(
            commits,
            vec![
                LoggedCommit {
                    commit: commit(1_793_610_600_000, "a1b2", "Add the cart with a stray separator"),
                    email: "t@t".into()
                },
                LoggedCommit { commit: commit(1_793_614_200_000, "c3d4", "Fix totals"), email: "t@t".into() },
            ]
        );
    }
}
