//! Reads the bytes of a Claude Code transcript (or the part of one appended since the last run) into
//! per-session digests. Pure: it takes bytes and returns values, so every trap of the format is a unit test.
//!
//! Only the fields the tracker needs are read (`type`, `uuid`, `timestamp`, `cwd`, `sessionId`,
//! `isSidechain`, `gitBranch`, `message.id`, `requestId`, `message.model`, `message.usage`, and the fields
//! that tell who wrote a line: see `kinds`); message text is skipped by the JSON parser without ever being
//! copied, and never kept. With `[capture] keep_titles` (off by default), the titles Claude Code writes
//! for a session (`custom-title`, `ai-title` and `summary` lines) are read too; off, their text is never
//! unescaped or copied.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use super::kinds::{LineShape, Who, who};
use crate::descriptions::{TitleKind, TitleLine, one_line};
use crate::folders::nfc;
use crate::sessions::{MessageRecord, Millis, Origin, SessionDigest, Usage};

/// Why a line was passed over; listed by `--verbose` as `path:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SkippedLine {
    pub(crate) line: u64,
    pub(crate) reason: String,
}

/// What one chunk of a transcript holds.
#[derive(Debug, Default)]
pub(crate) struct ParsedChunk {
    /// Sessions by id, in the order first seen, each normalized.
    pub(crate) sessions: Vec<(String, SessionDigest)>,
    /// Bytes consumed: every complete line. A last line with no newline that does not parse is left for
    /// the next run (Claude Code may still be writing it).
    pub(crate) consumed: usize,
    /// Complete lines consumed.
    pub(crate) lines: u64,
    /// Lines passed over, with their line numbers.
    pub(crate) skipped: Vec<SkippedLine>,
    /// True when the chunk ended in a line still being written, which was not consumed.
    pub(crate) incomplete_tail: bool,
    /// The title lines read, in file order (a `summary` once its leaf is found): only with `keep_titles`.
    pub(crate) titles: Vec<TitleLine>,
}

/// How the tracker treats a file's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkContext<'a> {
    /// Side-chain (sub-agent) files add tokens to their parent session but never time.
    pub(crate) sidechain_file: bool,
    /// The session a line without `sessionId` belongs to (the file name, or the folder of a side-chain).
    pub(crate) fallback_session: &'a str,
    /// Line number of the chunk's first line, so messages name the true line.
    pub(crate) first_line: u64,
    /// `[capture] keep_titles`: read the session titles Claude Code writes.
    pub(crate) keep_titles: bool,
}

/// The fields of one line the tracker reads. Deserialized by hand ([`LineKey`]): serde's derive
/// compares every key of a line with each declared field in turn, and with the fields that tell who
/// wrote a line that cost the ingest several percent (notes/09-time-model.md, figures).
#[derive(Default)]
struct RawLine<'a> {
    kind: Option<Cow<'a, str>>,
    uuid: Option<Cow<'a, str>>,
    timestamp: Option<Cow<'a, str>>,
    cwd: Option<Cow<'a, str>>,
    session_id: Option<Cow<'a, str>>,
    is_sidechain: Option<bool>,
    git_branch: Option<Cow<'a, str>>,
    request_id: Option<Cow<'a, str>>,
    message: Option<RawMessage<'a>>,
    prompt_source: Option<Cow<'a, str>>,
    origin: Option<&'a RawValue>,
    is_meta: Option<&'a RawValue>,
    is_compact_summary: Option<&'a RawValue>,
    tool_use_result: Option<&'a RawValue>,
    source_tool: bool,
    content: Option<&'a RawValue>,
    subtype: Option<Cow<'a, str>>,
    operation: Option<Cow<'a, str>>,
    compact_metadata: Option<&'a RawValue>,
    attachment: Option<&'a RawValue>,
    /// Title lines' text, left raw (never unescaped unless titles are kept).
    summary: Option<&'a RawValue>,
    leaf_uuid: Option<Cow<'a, str>>,
    custom_title: Option<&'a RawValue>,
    ai_title: Option<&'a RawValue>,
}

/// A top-level key of a line: one of the fields read, or any other (skipped unread).
enum LineKey {
    Kind,
    Uuid,
    Timestamp,
    Cwd,
    SessionId,
    IsSidechain,
    GitBranch,
    RequestId,
    Message,
    PromptSource,
    Origin,
    IsMeta,
    IsCompactSummary,
    ToolUseResult,
    SourceTool,
    Content,
    Subtype,
    Operation,
    CompactMetadata,
    Attachment,
    Summary,
    LeafUuid,
    CustomTitle,
    AiTitle,
    Other,
}

impl LineKey {
    /// The key by its length first, so that a key no field has (most of a line's) costs one or two
    /// comparisons.
    fn of(name: &str) -> LineKey {
        let is = |key: LineKey, field: &str| if name == field { key } else { LineKey::Other };
        match name.len() {
            3 => is(LineKey::Cwd, "cwd"),
            4 => match name {
                "type" => LineKey::Kind,
                "uuid" => LineKey::Uuid,
                _ => LineKey::Other,
            },
            6 => match name {
                "origin" => LineKey::Origin,
                "isMeta" => LineKey::IsMeta,
                _ => LineKey::Other,
            },
            7 => match name {
                "message" => LineKey::Message,
                "content" => LineKey::Content,
                "subtype" => LineKey::Subtype,
                "summary" => LineKey::Summary,
                "aiTitle" => LineKey::AiTitle,
                _ => LineKey::Other,
            },
            8 => is(LineKey::LeafUuid, "leafUuid"),
            9 => match name {
                "timestamp" => LineKey::Timestamp,
                "sessionId" => LineKey::SessionId,
                "gitBranch" => LineKey::GitBranch,
                "requestId" => LineKey::RequestId,
                "operation" => LineKey::Operation,
                _ => LineKey::Other,
            },
            10 => is(LineKey::Attachment, "attachment"),
            11 => match name {
                "isSidechain" => LineKey::IsSidechain,
                "customTitle" => LineKey::CustomTitle,
                _ => LineKey::Other,
            },
            12 => is(LineKey::PromptSource, "promptSource"),
            13 => is(LineKey::ToolUseResult, "toolUseResult"),
            15 => is(LineKey::CompactMetadata, "compactMetadata"),
            16 => is(LineKey::IsCompactSummary, "isCompactSummary"),
            23 => is(LineKey::SourceTool, "sourceToolAssistantUUID"),
            _ => LineKey::Other,
        }
    }
}

impl<'de> Deserialize<'de> for LineKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = LineKey;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<LineKey, E> {
                Ok(LineKey::of(name))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// A string borrowed from the line when it has no escapes (nearly always), else unescaped into its own.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> serde::de::Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_string())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl<'de> Deserialize<'de> for RawLine<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LineVisitor;
        impl<'de> serde::de::Visitor<'de> for LineVisitor {
            type Value = RawLine<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a transcript line (a JSON object)")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<RawLine<'de>, M::Error> {
                let mut line = RawLine::default();
                let text = |value: Option<Text<'de>>| value.map(|t| t.0);
                while let Some(key) = map.next_key::<LineKey>()? {
                    match key {
                        LineKey::Kind => line.kind = text(map.next_value()?),
                        LineKey::Uuid => line.uuid = text(map.next_value()?),
                        LineKey::Timestamp => line.timestamp = text(map.next_value()?),
                        LineKey::Cwd => line.cwd = text(map.next_value()?),
                        LineKey::SessionId => line.session_id = text(map.next_value()?),
                        LineKey::IsSidechain => line.is_sidechain = map.next_value()?,
                        LineKey::GitBranch => line.git_branch = text(map.next_value()?),
                        LineKey::RequestId => line.request_id = text(map.next_value()?),
                        LineKey::Message => line.message = map.next_value()?,
                        LineKey::PromptSource => line.prompt_source = text(map.next_value()?),
                        LineKey::Origin => line.origin = map.next_value()?,
                        LineKey::IsMeta => line.is_meta = map.next_value()?,
                        LineKey::IsCompactSummary => line.is_compact_summary = map.next_value()?,
                        LineKey::ToolUseResult => line.tool_use_result = map.next_value()?,
                        LineKey::SourceTool => {
                            line.source_tool = map.next_value::<Option<IgnoredAny>>()?.is_some();
                        }
                        LineKey::Content => line.content = map.next_value()?,
                        LineKey::Subtype => line.subtype = text(map.next_value()?),
                        LineKey::Operation => line.operation = text(map.next_value()?),
                        LineKey::CompactMetadata => line.compact_metadata = map.next_value()?,
                        LineKey::Attachment => line.attachment = map.next_value()?,
                        LineKey::Summary => line.summary = map.next_value()?,
                        LineKey::LeafUuid => line.leaf_uuid = text(map.next_value()?),
                        LineKey::CustomTitle => line.custom_title = map.next_value()?,
                        LineKey::AiTitle => line.ai_title = map.next_value()?,
                        LineKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(line)
            }
        }
        deserializer.deserialize_map(LineVisitor)
    }
}

impl<'a> RawLine<'a> {
    fn shape(&'a self) -> LineShape<'a> {
        LineShape {
            kind: self.kind.as_deref(),
            prompt_source: self.prompt_source.as_deref(),
            origin: self.origin,
            is_meta: self.is_meta,
            is_compact_summary: self.is_compact_summary,
            tool_use_result: self.tool_use_result,
            source_tool: self.source_tool,
            message_content: self.message.as_ref().and_then(|m| m.content),
            content: self.content,
            subtype: self.subtype.as_deref(),
            operation: self.operation.as_deref(),
            compact_metadata: self.compact_metadata,
            attachment: self.attachment,
        }
    }
}

#[derive(Deserialize)]
struct RawMessage<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    usage: Option<RawUsage>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

/// Model name Claude Code gives to messages it makes up locally (errors, interruptions): no real spend.
const SYNTHETIC_MODEL: &str = "<synthetic>";

/// Parses a chunk of transcript bytes that starts at a line boundary.
pub(crate) fn parse_chunk(bytes: &[u8], context: ChunkContext<'_>) -> ParsedChunk {
    let mut chunk = ParsedChunk::default();
    let mut titles = context.keep_titles.then(Titles::default);
    let mut line_no = context.first_line;
    let mut line_start = 0;
    while line_start < bytes.len() {
        let newline = memchr::memchr(b'\n', &bytes[line_start..]).map(|i| line_start + i);
        let line_end = newline.unwrap_or(bytes.len());
        let line = &bytes[line_start..line_end];
        let outcome = parse_line(line, context, &mut chunk.sessions, titles.as_mut());
        match (outcome, newline) {
            // Still being written: not unreadable, read again once it ends.
            (Err(_), None) => {
                chunk.incomplete_tail = true;
                break;
            }
            (Err(reason), Some(_)) => chunk.skipped.push(SkippedLine { line: line_no, reason }),
            (Ok(()), _) => {}
        }
        chunk.lines += 1;
        line_no += 1;
        line_start = newline.map_or(bytes.len(), |i| i + 1);
        chunk.consumed = line_start;
    }
    for (_, digest) in &mut chunk.sessions {
        digest.normalize();
    }
    chunk.titles = titles.map(Titles::resolved).unwrap_or_default();
    chunk
}

/// What a chunk gathers for titles (only with `keep_titles`): the session of each line's `uuid` (a
/// `summary` line names no session, only the last line of the conversation it sums up), the title
/// lines read, and the summaries waiting for their leaf.
#[derive(Default)]
struct Titles {
    /// The hash of a line's `uuid` to its session (an index into `ids`).
    session_of_uuid: HashMap<u64, usize>,
    ids: Vec<String>,
    lines: Vec<TitleLine>,
    summaries: Vec<(u64, String)>,
}

impl Titles {
    /// Takes what a main-chain line says of titles.
    fn read(&mut self, raw: &RawLine<'_>, session_id: Option<&str>) {
        if let (Some(uuid), Some(session)) = (raw.uuid.as_deref(), session_id) {
            let index = match self.ids.iter().rposition(|known| known == session) {
                Some(index) => index,
                None => {
                    self.ids.push(session.to_string());
                    self.ids.len() - 1
                }
            };
            self.session_of_uuid.insert(xxh3_64(uuid.as_bytes()), index);
        }
        let (kind, text) = match raw.kind.as_deref() {
            Some("custom-title") => (TitleKind::Custom, raw.custom_title),
            Some("ai-title") => (TitleKind::Ai, raw.ai_title),
            Some("summary") => (TitleKind::Summary, raw.summary),
            _ => return,
        };
        let Some(text) = text.and_then(|raw| serde_json::from_str::<Cow<'_, str>>(raw.get()).ok()) else {
            return;
        };
        let text = one_line(&text);
        if text.is_empty() {
            return;
        }
        match (kind, session_id, raw.leaf_uuid.as_deref()) {
            (TitleKind::Summary, _, Some(leaf)) => self.summaries.push((xxh3_64(leaf.as_bytes()), text)),
            (TitleKind::Summary, _, None) => {}
            (kind, Some(session), _) => {
                self.lines.push(TitleLine { session_id: session.to_string(), kind, text });
            }
            (_, None, _) => {}
        }
    }

    /// The title lines, each summary given to the session of its leaf; a summary whose leaf is not in
    /// this chunk is dropped (Claude Code writes summaries of other conversations into a file too, so
    /// the file is no evidence of whose it is).
    fn resolved(mut self) -> Vec<TitleLine> {
        for (leaf, text) in std::mem::take(&mut self.summaries) {
            if let Some(&index) = self.session_of_uuid.get(&leaf) {
                let session_id = self.ids[index].clone();
                self.lines.push(TitleLine { session_id, kind: TitleKind::Summary, text });
            }
        }
        self.lines
    }
}

fn parse_line(
    line: &[u8],
    context: ChunkContext<'_>,
    sessions: &mut Vec<(String, SessionDigest)>,
    titles: Option<&mut Titles>,
) -> Result<(), String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let text = simdutf8::basic::from_utf8(line).map_err(|_| "invalid UTF-8".to_string())?;
    let raw: RawLine<'_> = serde_json::from_str(text).map_err(|e| format!("malformed JSON ({e})"))?;
    let sidechain = context.sidechain_file || raw.is_sidechain.unwrap_or(false);
    let is_activity_kind = matches!(raw.kind.as_deref(), Some("user" | "assistant"));
    if let Some(titles) = titles.filter(|_| !sidechain) {
        // A line without `sessionId` is the file's session (its name); a summary names none at all.
        let own = raw
            .session_id
            .as_deref()
            .or_else(|| (raw.kind.as_deref() != Some("summary")).then_some(context.fallback_session));
        titles.read(&raw, own);
    }
    if !is_activity_kind {
        // Summaries, snapshots, metadata and unknown types carry no time or tokens; a person's line of
        // another kind (queued typing, a local slash command) and an away summary are kept.
        if !sidechain {
            record_other_kind(&raw, context, sessions);
        }
        return Ok(());
    }
    let Some(timestamp) = raw.timestamp.as_deref() else {
        return Err("user/assistant line without `timestamp`".into());
    };
    let at = parse_timestamp(timestamp).ok_or_else(|| format!("bad timestamp `{timestamp}`"))?;
    let session_id = raw.session_id.as_deref().unwrap_or(context.fallback_session);
    let digest = digest_for(sessions, session_id);
    // Folders are kept in NFC (macOS writes NFD), so a rule written either way meets them.
    let cwd = raw.cwd.as_deref().filter(|c| !c.is_empty()).map(nfc);
    let cwd = cwd.as_deref();
    if let Some(cwd) = cwd.filter(|_| digest.would_take_origin(sidechain, at)) {
        digest.offer_origin(Origin {
            from_sidechain: sidechain,
            at,
            cwd: cwd.to_string(),
            git_branch: raw.git_branch.as_deref().filter(|b| !b.is_empty()).map(str::to_string),
        });
    }
    if !sidechain {
        digest.activity.push(at);
        // An assistant line is the agent's: only a user line may be a person's.
        if raw.kind.as_deref() == Some("user") && who(&raw.shape()) == Who::Person {
            digest.person.push(at);
        }
        if let Some(cwd) = cwd {
            digest.offer_place(at, cwd);
        }
    }
    if let Some(record) = message_record(&raw, at, line) {
        digest.messages.push(record);
        let model = raw.message.as_ref().and_then(|m| m.model.as_deref());
        if let Some(model) = model.filter(|m| !m.is_empty() && !digest.models.iter().any(|known| known == m))
        {
            digest.models.push(model.to_string());
        }
    }
    Ok(())
}

/// A main-chain line of another kind than user/assistant: a person's line is activity and presence, an
/// away summary ends presence; anything else, or a line without a readable time, adds nothing.
fn record_other_kind(
    raw: &RawLine<'_>,
    context: ChunkContext<'_>,
    sessions: &mut Vec<(String, SessionDigest)>,
) {
    let verdict = who(&raw.shape());
    if !matches!(verdict, Who::Person | Who::Away) {
        return;
    }
    let Some(at) = raw.timestamp.as_deref().and_then(parse_timestamp) else { return };
    let digest = digest_for(sessions, raw.session_id.as_deref().unwrap_or(context.fallback_session));
    if verdict == Who::Away {
        digest.away.push(at);
    } else {
        digest.activity.push(at);
        digest.person.push(at);
    }
}

/// The token record of an assistant line, if it carries real usage.
fn message_record(raw: &RawLine<'_>, at: Millis, line: &[u8]) -> Option<MessageRecord> {
    if raw.kind.as_deref() != Some("assistant") {
        return None;
    }
    let message = raw.message.as_ref()?;
    if message.model.as_deref() == Some(SYNTHETIC_MODEL) {
        return None;
    }
    let usage = message.usage.as_ref()?;
    let usage = Usage {
        input: usage.input_tokens.unwrap_or(0),
        output: usage.output_tokens.unwrap_or(0),
        cache_creation: usage.cache_creation_input_tokens.unwrap_or(0),
        cache_read: usage.cache_read_input_tokens.unwrap_or(0),
    };
    let key = match (message.id.as_deref(), raw.request_id.as_deref(), raw.uuid.as_deref()) {
        (Some(id), Some(request), _) => hash_parts(&[b"msg:", id.as_bytes(), b"\0", request.as_bytes()]),
        (_, _, Some(uuid)) => hash_parts(&[b"uuid:", uuid.as_bytes()]),
        _ => xxh3_64(line),
    };
    Some(MessageRecord { key, at, usage })
}

/// One 64-bit identity for several byte strings, without joining them first (this runs on every line).
fn hash_parts(parts: &[&[u8]]) -> u64 {
    let mut hasher = Xxh3::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.digest()
}

fn digest_for<'s>(sessions: &'s mut Vec<(String, SessionDigest)>, id: &str) -> &'s mut SessionDigest {
    // A file nearly always holds one session, so a linear search from the back is the fast path.
    let index = match sessions.iter().rposition(|(known, _)| known == id) {
        Some(index) => index,
        None => {
            sessions.push((id.to_string(), SessionDigest::default()));
            sessions.len() - 1
        }
    };
    &mut sessions[index].1
}

/// Parses Claude Code's RFC 3339 timestamps (`2025-06-01T12:34:56.789Z`) to milliseconds; a year outside
/// 2000-2199 is not a real transcript's and is refused (it would make a sync plan centuries of days).
pub(crate) fn parse_timestamp(text: &str) -> Option<Millis> {
    use chrono::Datelike;
    let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    (2000..2200).contains(&at.year()).then(|| at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "11111111-1111-4111-8111-111111111111";

    fn context() -> ChunkContext<'static> {
        ChunkContext { sidechain_file: false, fallback_session: SESSION, first_line: 1, keep_titles: false }
    }

    fn user(uuid: &str, at: &str, cwd: &str) -> String {
        format!(
            r#"{{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"{cwd}","sessionId":"{SESSION}","version":"1.0.80","gitBranch":"main","type":"user","message":{{"role":"user","content":"secret prompt text"}},"uuid":"{uuid}","timestamp":"{at}"}}"#
        )
    }

    fn assistant(uuid: &str, at: &str, msg: &str, req: &str, model: &str, output: u64) -> String {
        format!(
            r#"{{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/home/u/proj","sessionId":"{SESSION}","version":"1.0.80","gitBranch":"main","message":{{"id":"{msg}","type":"message","role":"assistant","model":"{model}","content":[{{"type":"text","text":"answer \"quoted\" {{}}"}}],"stop_reason":null,"usage":{{"input_tokens":4,"cache_creation_input_tokens":100,"cache_read_input_tokens":200,"output_tokens":{output},"service_tier":"standard"}}}},"requestId":"{req}","type":"assistant","uuid":"{uuid}","timestamp":"{at}"}}"#
        )
    }

    fn parse(lines: &[String]) -> ParsedChunk {
        let mut text = lines.join("\n");
        text.push('\n');
        parse_chunk(text.as_bytes(), context())
    }

    fn only_session(chunk: &ParsedChunk) -> &SessionDigest {
        assert_eq!(chunk.sessions.len(), 1);
        &chunk.sessions[0].1
    }

    #[test]
    fn reads_activity_tokens_and_project() {
        let chunk = parse(&[
            user("u1", "2026-11-02T09:00:00.000Z", "/home/u/proj"),
            assistant("a1", "2026-11-02T09:00:05.000Z", "msg_1", "req_1", "claude-sonnet-4-5", 10),
        ]);
        let digest = only_session(&chunk);
        assert_eq!(digest.activity.len(), 2);
        assert_eq!(digest.activity[1] - digest.activity[0], 5_000);
        let total = digest.usage_total();
        assert_eq!((total.input, total.output, total.cache_creation, total.cache_read), (4, 10, 100, 200));
        let origin = digest.origin.as_ref().unwrap();
        assert_eq!(origin.cwd, "/home/u/proj");
        assert_eq!(origin.git_branch.as_deref(), Some("main"));
        assert!(chunk.skipped.is_empty());
        assert_eq!(chunk.lines, 2);
    }

    #[test]
    fn duplicate_assistant_line_counts_once_and_keeps_largest_output() {
        let chunk = parse(&[
            assistant("a1", "2026-11-02T09:00:05.000Z", "msg_1", "req_1", "m", 10),
            assistant("a2", "2026-11-02T09:00:06.000Z", "msg_1", "req_1", "m", 50),
            assistant("a2", "2026-11-02T09:00:06.000Z", "msg_1", "req_1", "m", 50),
        ]);
        let total = only_session(&chunk).usage_total();
        assert_eq!((total.input, total.output), (4, 50));
    }

    #[test]
    fn the_models_that_answered_are_kept_once_each_synthetic_aside() {
        let chunk = parse(&[
            assistant("a1", "2026-11-02T09:00:05Z", "msg_1", "req_1", "claude-sonnet-4-5", 10),
            assistant("a2", "2026-11-02T09:01:05Z", "msg_2", "req_2", "claude-opus-4-1", 10),
            assistant("a3", "2026-11-02T09:02:05Z", "msg_3", "req_3", "claude-sonnet-4-5", 10),
            assistant("a4", "2026-11-02T09:03:05Z", "msg_4", "req_4", "<synthetic>", 10),
        ]);
        assert_eq!(only_session(&chunk).models, vec!["claude-opus-4-1", "claude-sonnet-4-5"]);
    }

    #[test]
    fn synthetic_messages_have_no_tokens_but_are_activity() {
        let chunk = parse(&[assistant("a1", "2026-11-02T09:00:05Z", "msg_1", "req_1", "<synthetic>", 10)]);
        let digest = only_session(&chunk);
        assert_eq!(digest.usage_total(), Usage::default());
        assert_eq!(digest.activity.len(), 1);
    }

    #[test]
    fn summary_lines_without_timestamp_and_unknown_types_are_ignored() {
        let chunk = parse(&[
            r#"{"type":"summary","summary":"Fixing things","leafUuid":"x"}"#.to_string(),
            r#"{"type":"file-history-snapshot","messageId":"m","snapshot":{}}"#.to_string(),
            r#"{"type":"brand-new-kind","timestamp":"2026-11-02T09:00:00Z","sessionId":"s"}"#.to_string(),
        ]);
        assert!(chunk.sessions.is_empty());
        assert!(chunk.skipped.is_empty());
        assert_eq!(chunk.lines, 3);
        assert!(chunk.titles.is_empty(), "titles are read only with keep_titles");
    }

    fn with_titles(lines: &[String]) -> ParsedChunk {
        let mut text = lines.join("\n");
        text.push('\n');
        parse_chunk(text.as_bytes(), ChunkContext { keep_titles: true, ..context() })
    }

    fn title(session: &str, kind: TitleKind, text: &str) -> TitleLine {
        TitleLine { session_id: session.into(), kind, text: text.into() }
    }

    #[test]
    fn titles_are_read_with_keep_titles_each_for_its_own_session() {
        const OTHER: &str = "22222222-2222-4222-8222-222222222222";
        let chunk = with_titles(&[
            // Written first in the file, about the conversation whose last line is u2 (copied by a resume).
            r#"{"type":"summary","summary":"Cart \"checkout\"\nwork","leafUuid":"u2"}"#.to_string(),
            // About a conversation of another file: its leaf is not here, so it is nobody's here.
            r#"{"type":"summary","summary":"Someone else's","leafUuid":"elsewhere"}"#.to_string(),
            user("u1", "2026-11-02T09:00:00.000Z", "/home/u/proj"),
            user("u2", "2026-11-02T09:01:00.000Z", "/home/u/proj"),
            format!(r#"{{"type":"ai-title","aiTitle":"  Fix the cart  ","sessionId":"{OTHER}"}}"#),
            // No sessionId: the file's own session.
            r#"{"type":"custom-title","customTitle":"My cart"}"#.to_string(),
            r#"{"type":"custom-title","customTitle":"   "}"#.to_string(),
            r#"{"type":"ai-title","aiTitle":42,"sessionId":"x"}"#.to_string(),
            r#"{"type":"ai-title","aiTitle":"Agent's","sessionId":"x","isSidechain":true}"#.to_string(),
        ]);
        assert_eq!(
            chunk.titles,
            vec![
                title(OTHER, TitleKind::Ai, "Fix the cart"),
                title(SESSION, TitleKind::Custom, "My cart"),
                title(SESSION, TitleKind::Summary, "Cart \"checkout\" work"),
            ]
        );
        // Titles are not activity: the session is as without them.
        assert_eq!(only_session(&chunk).activity.len(), 2);
        assert!(chunk.skipped.is_empty());
    }

    #[test]
    fn malformed_and_invalid_utf8_lines_are_skipped_and_counted() {
        let mut bytes = user("u1", "2026-11-02T09:00:00Z", "/p").into_bytes();
        bytes.extend_from_slice(b"\n{not json\n");
        bytes.extend_from_slice(b"{\"type\":\"user\",\"x\":\"\xff\xfe\"}\n");
        bytes.extend_from_slice(user("u2", "2026-11-02T09:01:00Z", "/p").as_bytes());
        bytes.push(b'\n');
        let chunk = parse_chunk(&bytes, context());
        assert_eq!(only_session(&chunk).activity.len(), 2);
        let lines: Vec<u64> = chunk.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![2, 3]);
        assert!(chunk.skipped[0].reason.starts_with("malformed JSON"));
        assert_eq!(chunk.skipped[1].reason, "invalid UTF-8");
        assert_eq!(chunk.consumed, bytes.len());
    }

    #[test]
    fn truncated_last_line_is_left_for_the_next_run() {
        let first = user("u1", "2026-11-02T09:00:00Z", "/p");
        let second = user("u2", "2026-11-02T09:01:00Z", "/p");
        let text = format!("{first}\n{}", &second[..40]);
        let chunk = parse_chunk(text.as_bytes(), context());
        assert!(chunk.incomplete_tail);
        assert_eq!(chunk.consumed, first.len() + 1);
        assert_eq!(chunk.lines, 1);
        assert!(chunk.skipped.is_empty(), "a line still being written is not unreadable");
    }

    #[test]
    fn complete_last_line_without_newline_is_consumed() {
        let text = user("u1", "2026-11-02T09:00:00Z", "/p");
        let chunk = parse_chunk(text.as_bytes(), context());
        assert!(!chunk.incomplete_tail);
        assert_eq!(chunk.consumed, text.len());
    }

    #[test]
    fn empty_input_gives_nothing() {
        let chunk = parse_chunk(b"", context());
        assert!(chunk.sessions.is_empty());
        assert_eq!((chunk.lines, chunk.consumed), (0, 0));
    }

    #[test]
    fn cwd_change_mid_session_keeps_first_project() {
        let chunk = parse(&[
            user("u1", "2026-11-02T09:00:00Z", "/home/u/first"),
            user("u2", "2026-11-02T09:01:00Z", "/home/u/first/sub"),
        ]);
        assert_eq!(only_session(&chunk).origin.as_ref().unwrap().cwd, "/home/u/first");
    }

    #[test]
    fn sidechain_lines_add_tokens_not_time() {
        let line = assistant("a1", "2026-11-02T09:00:05Z", "msg_9", "req_9", "m", 7)
            .replace(r#""isSidechain":false"#, r#""isSidechain":true"#);
        let chunk = parse(&[line]);
        let digest = only_session(&chunk);
        assert!(digest.activity.is_empty());
        assert_eq!(digest.usage_total().output, 7);
        assert!(digest.origin.as_ref().unwrap().from_sidechain);
    }

    #[test]
    fn sidechain_file_never_adds_time_even_without_flag() {
        let text = format!("{}\n", user("u1", "2026-11-02T09:00:00Z", "/p"));
        let ctx = ChunkContext { sidechain_file: true, ..context() };
        let chunk = parse_chunk(text.as_bytes(), ctx);
        assert!(only_session(&chunk).activity.is_empty());
    }

    #[test]
    fn lines_are_attributed_by_their_own_session_id() {
        let other = user("u9", "2026-11-02T08:00:00Z", "/old").replace(SESSION, "other-session");
        let chunk = parse(&[other, user("u1", "2026-11-02T09:00:00Z", "/p")]);
        let ids: Vec<&str> = chunk.sessions.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, vec!["other-session", SESSION]);
    }

    #[test]
    fn line_numbers_continue_from_the_chunk_start() {
        let ctx = ChunkContext { first_line: 41, ..context() };
        let chunk = parse_chunk(b"garbage\n", ctx);
        assert_eq!(chunk.skipped[0].line, 41);
    }

    #[test]
    fn escaped_windows_cwd_is_read() {
        let line = user("u1", "2026-11-02T09:00:00Z", r"C:\\Users\\dev\\proj");
        let chunk = parse(&[line]);
        assert_eq!(only_session(&chunk).origin.as_ref().unwrap().cwd, r"C:\Users\dev\proj");
    }

    #[test]
    fn implausible_years_and_huge_counts_do_no_harm() {
        let chunk = parse(&[user("u1", "0001-01-01T00:00:00Z", "/p")]);
        assert_eq!(chunk.skipped.len(), 1);
        assert!(chunk.skipped[0].reason.starts_with("bad timestamp"));
        let huge = u64::MAX;
        let chunk = parse(&[
            assistant("a1", "2026-11-02T09:00:05Z", "msg_1", "req_1", "m", huge),
            assistant("a2", "2026-11-02T09:00:06Z", "msg_2", "req_2", "m", huge),
        ]);
        assert_eq!(only_session(&chunk).usage_total().output, u64::MAX, "saturates, never wraps or panics");
    }

    #[test]
    fn a_persons_lines_away_summaries_and_folder_moves_are_kept_apart() {
        let tool_result = user("u3", "2026-11-02T09:00:08.088Z", "/home/u/proj").replace(
            r#""content":"secret prompt text"}"#,
            r#""content":[{"type":"tool_result","tool_use_id":"t"}]},"toolUseResult":{"stdout":""}"#,
        );
        let chunk = parse(&[
            user("u1", "2026-11-02T09:00:00.417Z", "/home/u/proj"),
            assistant("a1", "2026-11-02T09:00:05.903Z", "msg_1", "req_1", "m", 10),
            tool_result,
            format!(
                r#"{{"type":"queue-operation","operation":"enqueue","timestamp":"2026-11-02T09:00:09.651Z","sessionId":"{SESSION}","content":"and the docs"}}"#
            ),
            format!(
                r#"{{"type":"system","subtype":"away_summary","timestamp":"2026-11-02T09:20:00.417Z","sessionId":"{SESSION}","isMeta":false,"cwd":"/home/u/proj"}}"#
            ),
            format!(
                r#"{{"type":"system","subtype":"turn_duration","timestamp":"2026-11-02T09:21:00.417Z","sessionId":"{SESSION}","durationMs":5}}"#
            ),
            user("u4", "2026-11-02T09:30:00.903Z", "/home/u/other"),
        ]);
        let digest = only_session(&chunk);
        let at = |text: &str| parse_timestamp(text).unwrap();
        assert_eq!(
            digest.activity,
            vec![
                at("2026-11-02T09:00:00.417Z"),
                at("2026-11-02T09:00:05.903Z"),
                at("2026-11-02T09:00:08.088Z"),
                at("2026-11-02T09:00:09.651Z"),
                at("2026-11-02T09:30:00.903Z"),
            ]
        );
        assert_eq!(
            digest.person,
            vec![
                at("2026-11-02T09:00:00.417Z"),
                at("2026-11-02T09:00:09.651Z"),
                at("2026-11-02T09:30:00.903Z"),
            ]
        );
        assert_eq!(digest.away, vec![at("2026-11-02T09:20:00.417Z")]);
        let places: Vec<(Millis, &str)> = digest.places.iter().map(|p| (p.at, p.cwd.as_str())).collect();
        assert_eq!(
            places,
            vec![
                (at("2026-11-02T09:00:00.417Z"), "/home/u/proj"),
                (at("2026-11-02T09:30:00.903Z"), "/home/u/other")
            ]
        );
        assert!(!digest.automated());
    }

    #[test]
    fn a_session_of_scheduled_prompts_has_no_person() {
        let scheduled = user("u1", "2026-11-02T03:00:00.417Z", "/p")
            .replace(r#""type":"user""#, r#""type":"user","promptSource":"system""#);
        let chunk =
            parse(&[scheduled, assistant("a1", "2026-11-02T03:00:05.903Z", "msg_1", "req_1", "m", 10)]);
        let digest = only_session(&chunk);
        assert_eq!(digest.activity.len(), 2);
        assert!(digest.person.is_empty());
        assert!(digest.automated());
    }

    #[test]
    fn a_person_line_in_a_side_chain_is_not_the_persons_time() {
        let line = user("u1", "2026-11-02T09:00:00.417Z", "/p")
            .replace(r#""isSidechain":false"#, r#""isSidechain":true"#);
        let digest = parse(&[line]).sessions.remove(0).1;
        assert!(digest.activity.is_empty() && digest.person.is_empty() && digest.places.is_empty());
    }

    #[test]
    fn activity_line_without_timestamp_is_skipped() {
        let chunk = parse(&[r#"{"type":"user","sessionId":"s","uuid":"u"}"#.to_string()]);
        assert_eq!(chunk.skipped.len(), 1);
        assert!(chunk.sessions.is_empty());
    }
}
