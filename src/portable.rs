//! The portable sessions file (`export --format jsonl`, `import`, the `[share]` folder): every session as
//! the tracker knows it, in a form another machine merges without double counting. One JSON object per
//! line: a header (format and version, the machine that wrote it), one line per session, and a closing
//! line with the count and a checksum of the session lines, so a file cut short or altered is told from
//! a whole one. Never message text. Field by field in `notes/10-many-machines.md`.
//!
//! Pure: text in, values out (and back); the store merges, the edges read and write files.

use serde::{Deserialize, Serialize};

use crate::sessions::{MessageRecord, Millis, Origin, Place, SessionDigest, Usage};

/// What the header's `format` says: a file of something else is refused at its first line.
pub(crate) const FORMAT: &str = "claude-tracker-sessions";
/// The version this build writes and the newest it reads (a newer one is refused, never half-read).
pub(crate) const VERSION: u32 = 1;

/// A machine: its random id (tells apart two machines of one name) and its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct MachineRef {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// The first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) format: String,
    pub(crate) version: u32,
    /// The machine that wrote the file.
    pub(crate) machine: MachineRef,
    /// When, RFC 3339 UTC (for `status`: how old a machine's file is).
    pub(crate) written_at: String,
}

/// The last line: how many session lines came before it and their checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Trailer {
    end: End,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct End {
    sessions: usize,
    /// xxh3-64 of the session lines' bytes (each with its newline), 16 hex digits.
    xxh3: String,
}

/// A tag with where it came from (only the user's are merged: rule tags follow each machine's rules).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct TagRef {
    pub(crate) tag: String,
    pub(crate) source: String,
}

/// One session as the file carries it: the sets it is made of (activity, the person's lines, away
/// summaries, places, distinct messages), so a merge is a union and counts nothing twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PortableSession {
    pub(crate) id: String,
    /// The machine it is attributed to (of those that saw it, the smallest id: the same on every machine).
    pub(crate) machine: MachineRef,
    pub(crate) digest: SessionDigest,
    pub(crate) tags: Vec<TagRef>,
}

/// A session line as written: times delta-encoded (the first in milliseconds since the epoch, each next
/// one the gap after the one before), messages as `[key, at, input, output, cache_creation, cache_read]`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    id: String,
    machine: String,
    machine_id: String,
    project: String,
    project_at: Millis,
    project_from_sidechain: bool,
    branch: Option<String>,
    models: Vec<String>,
    activity: Vec<i64>,
    person: Vec<i64>,
    away: Vec<i64>,
    places: Vec<Place>,
    who_unknown: bool,
    messages: Vec<(String, Millis, u64, u64, u64, u64)>,
    tags: Vec<TagRef>,
}

/// Why a whole file is refused (nothing of it is merged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FileError {
    #[error(
        "line 1 is not the header of a claude-tracker sessions file (`export --format jsonl` writes one)"
    )]
    NotOurs,
    #[error(
        "it is version {0} of the sessions file and this claude-tracker reads up to version {VERSION}: \
         upgrade claude-tracker on this machine"
    )]
    Newer(u32),
    #[error(
        "it ends at line {0} without its closing line: it was cut short (still being written or synced?); \
         nothing of it was merged: export it again"
    )]
    Truncated(usize),
    #[error(
        "its closing line does not match what comes before it ({0}): it was altered or damaged after it was \
         written; nothing of it was merged: export it again"
    )]
    Corrupted(String),
}

/// A file read whole: its header, the sessions it holds, and the lines refused (`(line, why)`).
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) header: Header,
    pub(crate) sessions: Vec<PortableSession>,
    pub(crate) refused: Vec<(usize, String)>,
}

/// The file's text for `sessions`, written by `machine` at `written_at`.
pub(crate) fn write(machine: &MachineRef, written_at: &str, sessions: &[PortableSession]) -> String {
    let header = Header {
        format: FORMAT.to_string(),
        version: VERSION,
        machine: machine.clone(),
        written_at: written_at.to_string(),
    };
    let mut text = json_line(&header);
    let mut body = String::new();
    for session in sessions {
        body.push_str(&json_line(&to_line(session)));
    }
    let checksum = xxhash_rust::xxh3::xxh3_64(body.as_bytes());
    text.push_str(&body);
    text.push_str(&json_line(&Trailer {
        end: End { sessions: sessions.len(), xxh3: format!("{checksum:016x}") },
    }));
    text
}

/// Just the header of a file (the first line), to tell whose it is without reading the rest.
pub(crate) fn header(first_line: &str) -> Result<Header, FileError> {
    let value: serde_json::Value = serde_json::from_str(first_line).map_err(|_| FileError::NotOurs)?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(FileError::NotOurs);
    }
    let version = value.get("version").and_then(serde_json::Value::as_u64).ok_or(FileError::NotOurs)?;
    let version = u32::try_from(version).unwrap_or(u32::MAX);
    if version > VERSION {
        return Err(FileError::Newer(version));
    }
    serde_json::from_value(value).map_err(|_| FileError::NotOurs)
}

/// Reads a whole file: a bad header, a newer version, a missing closing line or a checksum that does
/// not match refuses it all; a session line that does not read is refused alone, with its number.
pub(crate) fn parse(text: &str) -> Result<Parsed, FileError> {
    let mut lines = text.split_inclusive('\n').enumerate().map(|(i, line)| (i + 1, line));
    let header = header(lines.next().map_or("", |(_, line)| line.trim_end()))?;
    let mut body: Vec<(usize, &str)> = lines.collect();
    let last_number = body.last().map_or(1, |(number, _)| *number);
    let trailer = body
        .pop()
        .filter(|(_, line)| line.ends_with('\n'))
        .and_then(|(_, line)| serde_json::from_str::<Trailer>(line).ok())
        .ok_or(FileError::Truncated(last_number))?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for (_, line) in &body {
        hasher.update(line.as_bytes());
    }
    let checksum = format!("{:016x}", hasher.digest());
    if trailer.end.sessions != body.len() {
        return Err(FileError::Corrupted(format!(
            "{} session lines, the closing line says {}",
            body.len(),
            trailer.end.sessions
        )));
    }
    if trailer.end.xxh3 != checksum {
        return Err(FileError::Corrupted("checksum".to_string()));
    }
    let mut sessions = Vec::with_capacity(body.len());
    let mut refused = Vec::new();
    for (number, line) in body {
        match serde_json::from_str::<Line>(line).map_err(|e| e.to_string()).and_then(from_line) {
            Ok(session) => sessions.push(session),
            Err(why) => refused.push((number, why)),
        }
    }
    Ok(Parsed { header, sessions, refused })
}

fn json_line<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default() + "\n"
}

fn to_line(session: &PortableSession) -> Line {
    let digest = &session.digest;
    let origin = digest.origin.clone().unwrap_or(Origin {
        from_sidechain: true,
        at: digest.bounds().map_or(0, |(first, _)| first),
        cwd: "(unknown)".to_string(),
        git_branch: None,
    });
    Line {
        id: session.id.clone(),
        machine: session.machine.name.clone(),
        machine_id: session.machine.id.clone(),
        project: origin.cwd,
        project_at: origin.at,
        project_from_sidechain: origin.from_sidechain,
        branch: origin.git_branch,
        models: digest.models.clone(),
        activity: deltas(&digest.activity),
        person: deltas(&digest.person),
        away: deltas(&digest.away),
        places: digest.places.clone(),
        who_unknown: digest.who_unknown,
        messages: digest
            .messages
            .iter()
            .map(|m| {
                let u = m.usage;
                (format!("{:016x}", m.key), m.at, u.input, u.output, u.cache_creation, u.cache_read)
            })
            .collect(),
        tags: session.tags.clone(),
    }
}

fn from_line(line: Line) -> Result<PortableSession, String> {
    let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };
    check(!line.id.is_empty(), "`id` is empty")?;
    check(!line.machine_id.is_empty(), "`machine_id` is empty")?;
    let times = |name: &str, values: &[i64]| -> Result<Vec<Millis>, String> {
        undeltas(values).ok_or_else(|| format!("`{name}` goes back in time (a gap below 0)"))
    };
    let mut messages = Vec::with_capacity(line.messages.len());
    for (key, at, input, output, cache_creation, cache_read) in line.messages {
        let key =
            u64::from_str_radix(&key, 16).map_err(|_| format!("message key `{key}` is not hexadecimal"))?;
        messages.push(MessageRecord { key, at, usage: Usage { input, output, cache_creation, cache_read } });
    }
    for tag in &line.tags {
        check(tag.source == "user" || tag.source == "rule", "a tag's `source` is neither `user` nor `rule`")?;
    }
    let mut digest = SessionDigest {
        origin: Some(Origin {
            from_sidechain: line.project_from_sidechain,
            at: line.project_at,
            cwd: crate::folders::nfc(&line.project).into_owned(),
            git_branch: line.branch,
        }),
        activity: times("activity", &line.activity)?,
        person: times("person", &line.person)?,
        away: times("away", &line.away)?,
        places: line.places,
        who_unknown: line.who_unknown,
        messages,
        models: line.models,
    };
    digest.normalize();
    check(digest.bounds().is_some(), "the session has neither activity nor messages")?;
    Ok(PortableSession {
        id: line.id,
        machine: MachineRef { id: line.machine_id, name: line.machine },
        digest,
        tags: line.tags,
    })
}

/// Sorted times as the first value then the gaps.
fn deltas(times: &[Millis]) -> Vec<i64> {
    let mut previous = 0;
    times
        .iter()
        .map(|&at| {
            let gap = at - previous;
            previous = at;
            gap
        })
        .collect()
}

/// The times back from [`deltas`]; `None` when a gap after the first is negative.
fn undeltas(gaps: &[i64]) -> Option<Vec<Millis>> {
    let mut at: Millis = 0;
    let mut times = Vec::with_capacity(gaps.len());
    for (i, &gap) in gaps.iter().enumerate() {
        if i > 0 && gap < 0 {
            return None;
        }
        at = at.checked_add(gap)?;
        times.push(at);
    }
    Some(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str) -> PortableSession {
        let mut digest = SessionDigest {
            origin: Some(Origin {
                from_sidechain: false,
                at: 1_762_074_000_417,
                cwd: "/w/shop".into(),
                git_branch: Some("main".into()),
            }),
            activity: vec![1_762_074_000_417, 1_762_074_060_903, 1_762_074_400_088],
            person: vec![1_762_074_000_417],
            away: vec![],
            places: vec![Place { at: 1_762_074_000_417, cwd: "/w/shop".into() }],
            who_unknown: false,
            messages: vec![MessageRecord {
                key: u64::MAX - 5,
                at: 1_762_074_060_903,
                usage: Usage { input: 10, output: 20, cache_creation: 30, cache_read: 40 },
            }],
            models: vec!["claude-opus-4-5".into()],
        };
        digest.normalize();
        PortableSession {
            id: id.into(),
            machine: MachineRef { id: "m-1".into(), name: "laptop".into() },
            digest,
            tags: vec![TagRef { tag: "acme".into(), source: "user".into() }],
        }
    }

    fn machine() -> MachineRef {
        MachineRef { id: "m-1".into(), name: "laptop".into() }
    }

    #[test]
    fn a_written_file_reads_back_as_it_was() {
        let sessions = vec![session("a"), session("b")];
        let text = write(&machine(), "2026-11-20T17:00:00Z", &sessions);
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.sessions, sessions);
        assert!(parsed.refused.is_empty());
        assert_eq!(parsed.header.machine, machine());
        assert_eq!(text.lines().count(), 4, "header, two sessions, closing line");
    }

    #[test]
    fn a_session_line_is_exactly_as_documented() {
        let text = write(&machine(), "2026-11-20T17:00:00Z", &[session("a")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"format":"claude-tracker-sessions","version":1,"machine":{"id":"m-1","name":"laptop"},"written_at":"2026-11-20T17:00:00Z"}"#
        );
        assert_eq!(
            lines[1],
            concat!(
                r#"{"id":"a","machine":"laptop","machine_id":"m-1","project":"/w/shop","project_at":1762074000417,"#,
                r#""project_from_sidechain":false,"branch":"main","models":["claude-opus-4-5"],"#,
                r#""activity":[1762074000417,60486,339185],"person":[1762074000417],"away":[],"#,
                r#""places":[{"at":1762074000417,"cwd":"/w/shop"}],"who_unknown":false,"#,
                r#""messages":[["fffffffffffffffa",1762074060903,10,20,30,40]],"tags":[{"tag":"acme","source":"user"}]}"#
            )
        );
        assert_eq!(
            lines[2],
            format!(r#"{{"end":{{"sessions":1,"xxh3":"{:016x}"}}}}"#, {
                xxhash_rust::xxh3::xxh3_64(format!("{}\n", lines[1]).as_bytes())
            })
        );
    }

    #[test]
    fn a_file_cut_short_altered_newer_or_foreign_is_refused_whole() {
        let text = write(&machine(), "2026-11-20T17:00:00Z", &[session("a"), session("b")]);
        let cut = &text[..text.len() - 10];
        assert_eq!(parse(cut).unwrap_err(), FileError::Truncated(4));
        let without_closing: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
        assert_eq!(parse(&without_closing).unwrap_err(), FileError::Truncated(3));
        let altered = text.replacen("60486", "60487", 1);
        assert_eq!(parse(&altered).unwrap_err(), FileError::Corrupted("checksum".into()));
        let dropped: String =
            text.lines().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| format!("{l}\n")).collect();
        assert_eq!(
            parse(&dropped).unwrap_err(),
            FileError::Corrupted("1 session lines, the closing line says 2".into())
        );
        let newer = text.replacen(r#""version":1"#, r#""version":2"#, 1);
        assert_eq!(parse(&newer).unwrap_err(), FileError::Newer(2));
        assert_eq!(parse("").unwrap_err(), FileError::NotOurs);
        assert_eq!(parse("{\"format\":\"other\",\"version\":1}\n").unwrap_err(), FileError::NotOurs);
        assert_eq!(parse("\u{0}\u{1}garbage").unwrap_err(), FileError::NotOurs);
    }

    #[test]
    fn a_bad_session_line_is_refused_alone_with_why() {
        let good = write(&machine(), "2026-11-20T17:00:00Z", &[session("a")]);
        let lines: Vec<&str> = good.lines().collect();
        let bad = lines[1].replace("60486", "-5");
        let body = format!("{}\n{bad}\n", lines[1]);
        let checksum = xxhash_rust::xxh3::xxh3_64(body.as_bytes());
        let text =
            format!("{}\n{body}{{\"end\":{{\"sessions\":2,\"xxh3\":\"{checksum:016x}\"}}}}\n", lines[0]);
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.sessions.len(), 1);
        assert_eq!(parsed.refused, vec![(3, "`activity` goes back in time (a gap below 0)".to_string())]);
    }

    #[test]
    fn deltas_round_trip() {
        let times = vec![-5, 0, 0, 7, 1_000_000_000_000];
        assert_eq!(undeltas(&deltas(&times)), Some(times));
        assert_eq!(undeltas(&[]), Some(vec![]));
        assert_eq!(undeltas(&[5, -1]), None);
    }
}
