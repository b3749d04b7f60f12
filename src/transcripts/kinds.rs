//! Who was there, line by line: a person, the agent, or nobody (metadata). The decision uses documented
//! fields and the shape of a line only; where a harness marker opens a message (`<task-notification>`),
//! the first bytes of the raw JSON are compared in place and never copied. Every row of the table in
//! `notes/09-time-model.md` is a test below.
//!
//! Pure: it takes a line's fields and returns a verdict.

use serde::Deserialize;
use serde_json::value::RawValue;

/// What a line says about who was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// A person acted: typed or accepted a prompt, queued typing, ran a slash command, answered a question,
    /// pressed Esc. Activity, and evidence of presence.
    Person,
    /// The agent or the harness: model output, tool results, injected prompts. Activity, no presence.
    Agent,
    /// The person left: Claude Code wrote an away summary. Not activity; ends a window of presence.
    Away,
    /// Metadata, or a kind this version does not know: no time at all.
    Nothing,
}

/// The fields of a line that decide who wrote it (borrowed; nested objects stay raw until needed).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LineShape<'a> {
    pub(crate) kind: Option<&'a str>,
    pub(crate) prompt_source: Option<&'a str>,
    pub(crate) origin: Option<&'a RawValue>,
    pub(crate) is_meta: Option<&'a RawValue>,
    pub(crate) is_compact_summary: Option<&'a RawValue>,
    pub(crate) tool_use_result: Option<&'a RawValue>,
    pub(crate) source_tool: bool,
    /// `message.content` of user lines.
    pub(crate) message_content: Option<&'a RawValue>,
    /// Top-level `content` (queue operations, system lines).
    pub(crate) content: Option<&'a RawValue>,
    pub(crate) subtype: Option<&'a str>,
    pub(crate) operation: Option<&'a str>,
    pub(crate) compact_metadata: Option<&'a RawValue>,
    pub(crate) attachment: Option<&'a RawValue>,
}

/// Openings of user content that the harness writes (scheduled and loop prompts, notifications, the
/// output of a local command, a compaction summary): the agent's, not a person's.
const HARNESS_OPENINGS: [&str; 11] = [
    "<task-notification",
    "<scheduled-task",
    "<<autonomous-loop",
    "[SYSTEM NOTIFICATION",
    "<local-command-stdout",
    "<local-command-stderr",
    "<local-command-caveat",
    "<bash-stdout",
    "<bash-stderr",
    "<system-reminder",
    "This session is being continued",
];

/// Decides one line. Side-chain lines are decided by the caller (they never add time).
pub(crate) fn who(line: &LineShape<'_>) -> Who {
    match line.kind {
        Some("assistant") => Who::Agent,
        Some("user") => user_line(line),
        Some("queue-operation") => queue_operation(line),
        Some("system") => system_line(line),
        Some("attachment") => attachment(line),
        _ => Who::Nothing,
    }
}

fn user_line(line: &LineShape<'_>) -> Who {
    if is_true(line.is_meta) || is_true(line.is_compact_summary) {
        return Who::Agent;
    }
    if let Some(result) = line.tool_use_result {
        return if answers_a_question(result) { Who::Person } else { Who::Agent };
    }
    if line.source_tool {
        return Who::Agent;
    }
    match line.prompt_source {
        Some("system") => return Who::Agent,
        Some("sdk") => {
            return if origin_kind(line.origin).as_deref() == Some("human") {
                Who::Person
            } else {
                Who::Agent
            };
        }
        // typed, queued, suggestion_accepted, and values of later versions: a submitted prompt.
        Some(_) => return Who::Person,
        None => {}
    }
    if let Some(kind) = origin_kind(line.origin) {
        return if kind == "human" { Who::Person } else { Who::Agent };
    }
    match line.message_content.map(|c| c.get().as_bytes()) {
        Some([b'"', text @ ..]) if opens_with_harness_text(text) => Who::Agent,
        Some([b'"', ..]) => Who::Person,
        Some(array @ [b'[', ..]) if opens_with_a_tool_result(array) => Who::Agent,
        Some([b'[', ..]) => Who::Person,
        _ => Who::Agent,
    }
}

fn queue_operation(line: &LineShape<'_>) -> Who {
    let typed_text =
        matches!(line.content.map(|c| c.get().as_bytes()), Some([b'"', first, ..]) if *first != b'<');
    if line.operation == Some("enqueue") && typed_text { Who::Person } else { Who::Nothing }
}

fn system_line(line: &LineShape<'_>) -> Who {
    match line.subtype {
        Some("away_summary") => Who::Away,
        Some("local_command") if raw_opens(line.content, "\"<command-name>") => Who::Person,
        Some("compact_boundary") if compact_trigger(line.compact_metadata).as_deref() == Some("manual") => {
            Who::Person
        }
        _ => Who::Nothing,
    }
}

fn attachment(line: &LineShape<'_>) -> Who {
    #[derive(Deserialize)]
    struct Attachment<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
        #[serde(rename = "commandMode", borrow)]
        command_mode: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        origin: Option<&'a RawValue>,
    }
    let Some(raw) = line.attachment else { return Who::Nothing };
    let Ok(attachment) = serde_json::from_str::<Attachment<'_>>(raw.get()) else { return Who::Nothing };
    let origin = origin_kind(attachment.origin.or(line.origin));
    let queued = attachment.kind.as_deref() == Some("queued_command");
    let notification = attachment.command_mode.as_deref() == Some("task-notification");
    if queued && !notification && origin.as_deref().is_none_or(|kind| kind == "human") {
        Who::Person
    } else {
        Who::Nothing
    }
}

/// Whether the first block of user content is a tool result: its `type` comes within the block's first
/// fields (after a `tool_use_id`), so only the opening bytes are searched, never the output after it.
fn opens_with_a_tool_result(array: &[u8]) -> bool {
    let opening = &array[..array.len().min(256)];
    memchr::memmem::find(opening, b"\"tool_result\"").is_some()
}

fn opens_with_harness_text(text: &[u8]) -> bool {
    HARNESS_OPENINGS.iter().any(|opening| text.starts_with(opening.as_bytes()))
}

fn raw_opens(raw: Option<&RawValue>, opening: &str) -> bool {
    raw.is_some_and(|raw| raw.get().starts_with(opening))
}

fn is_true(raw: Option<&RawValue>) -> bool {
    raw.is_some_and(|raw| raw.get() == "true")
}

/// `toolUseResult.answers`: the choices a person made in an `AskUserQuestion` prompt. Such a result
/// opens with its `questions` (as every public reader's fixtures show it), so any other tool's output,
/// however long, is told apart by its first bytes and never searched or parsed again.
fn answers_a_question(result: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Answers {
        answers: Option<serde::de::IgnoredAny>,
    }
    let text = result.get();
    text.starts_with(r#"{"questions""#)
        && serde_json::from_str::<Answers>(text).is_ok_and(|a| a.answers.is_some())
}

/// `origin.kind`, when `origin` is an object that names one.
fn origin_kind(raw: Option<&RawValue>) -> Option<String> {
    field_of(raw, "kind")
}

fn compact_trigger(raw: Option<&RawValue>) -> Option<String> {
    field_of(raw, "trigger")
}

fn field_of(raw: Option<&RawValue>, name: &str) -> Option<String> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw?.get()).ok()?;
    object.get(name)?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decides a whole real-format line, as the parser reads it.
    fn decide(line: &str) -> Who {
        #[derive(Deserialize)]
        struct Line<'a> {
            #[serde(rename = "type", borrow)]
            kind: Option<&'a str>,
            #[serde(rename = "promptSource", borrow)]
            prompt_source: Option<&'a str>,
            #[serde(borrow)]
            origin: Option<&'a RawValue>,
            #[serde(rename = "isMeta", borrow)]
            is_meta: Option<&'a RawValue>,
            #[serde(rename = "isCompactSummary", borrow)]
            is_compact_summary: Option<&'a RawValue>,
            #[serde(rename = "toolUseResult", borrow)]
            tool_use_result: Option<&'a RawValue>,
            #[serde(rename = "sourceToolAssistantUUID")]
            source_tool: Option<serde::de::IgnoredAny>,
            #[serde(borrow)]
            message: Option<Message<'a>>,
            #[serde(borrow)]
            content: Option<&'a RawValue>,
            #[serde(borrow)]
            subtype: Option<&'a str>,
            #[serde(borrow)]
            operation: Option<&'a str>,
            #[serde(rename = "compactMetadata", borrow)]
            compact_metadata: Option<&'a RawValue>,
            #[serde(borrow)]
            attachment: Option<&'a RawValue>,
        }
        #[derive(Deserialize)]
        struct Message<'a> {
            #[serde(borrow)]
            content: Option<&'a RawValue>,
        }
        let raw: Line<'_> = serde_json::from_str(line).unwrap();
        who(&LineShape {
            kind: raw.kind,
            prompt_source: raw.prompt_source,
            origin: raw.origin,
            is_meta: raw.is_meta,
            is_compact_summary: raw.is_compact_summary,
            tool_use_result: raw.tool_use_result,
            source_tool: raw.source_tool.is_some(),
            message_content: raw.message.and_then(|m| m.content),
            content: raw.content,
            subtype: raw.subtype,
            operation: raw.operation,
            compact_metadata: raw.compact_metadata,
            attachment: raw.attachment,
        })
    }

    const HEAD: &str = r#""parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/home/u/proj","sessionId":"s","version":"2.1.150","gitBranch":"main","uuid":"u","timestamp":"2026-11-02T09:00:00.417Z""#;

    fn user(extra: &str, content: &str) -> String {
        format!(r#"{{{HEAD},"type":"user","message":{{"role":"user","content":{content}}}{extra}}}"#)
    }

    #[test]
    fn prompt_sources_of_a_person() {
        for source in ["typed", "queued", "suggestion_accepted", "a-later-value"] {
            let line = user(&format!(r#","promptSource":"{source}""#), r#""Fix the failing test""#);
            assert_eq!(decide(&line), Who::Person, "{source}");
        }
    }

    #[test]
    fn a_system_prompt_is_the_agent() {
        let line = user(
            r#","promptSource":"system","isMeta":true,"origin":{"kind":"auto-continuation"}"#,
            r#""Continue from where you left off.""#,
        );
        assert_eq!(decide(&line), Who::Agent);
        let scheduled =
            user(r#","promptSource":"system""#, r#""<scheduled-task name=\"nightly\">run</scheduled-task>""#);
        assert_eq!(decide(&scheduled), Who::Agent);
    }

    #[test]
    fn an_sdk_prompt_is_a_person_only_when_its_origin_says_human() {
        let script = user(r#","promptSource":"sdk","entrypoint":"sdk-cli""#, r#""Summarise the logs""#);
        assert_eq!(decide(&script), Who::Agent);
        let mobile = user(
            r#","promptSource":"sdk","entrypoint":"remote_mobile","origin":{"kind":"human"}"#,
            r#""Hi""#,
        );
        assert_eq!(decide(&mobile), Who::Person);
    }

    #[test]
    fn origin_kinds_without_a_prompt_source() {
        let human = user(r#","origin":{"kind":"human"}"#, r#""Go on""#);
        assert_eq!(decide(&human), Who::Person);
        for kind in ["task-notification", "peer", "auto-continuation", "cron", "loop"] {
            let line = user(&format!(r#","origin":{{"kind":"{kind}"}}"#), r#""x""#);
            assert_eq!(decide(&line), Who::Agent, "{kind}");
        }
    }

    #[test]
    fn meta_and_compact_summary_lines_are_the_harness() {
        let meta = user(r#","isMeta":true"#, r#""<command-message>init</command-message>""#);
        assert_eq!(decide(&meta), Who::Agent);
        let summary = user(
            r#","isCompactSummary":true,"isVisibleInTranscriptOnly":true"#,
            r#""This session is being continued from a previous conversation""#,
        );
        assert_eq!(decide(&summary), Who::Agent);
    }

    #[test]
    fn tool_results_are_the_agent_except_a_persons_answers() {
        let result = user(
            r#","toolUseResult":{"stdout":"ok","stderr":"","interrupted":false},"sourceToolAssistantUUID":"a""#,
            r#"[{"tool_use_id":"toolu_1","type":"tool_result","content":"ok"}]"#,
        );
        assert_eq!(decide(&result), Who::Agent);
        let text_result = user(r#","toolUseResult":"Error: file not found""#, r#"[{"type":"tool_result"}]"#);
        assert_eq!(decide(&text_result), Who::Agent);
        let output_naming_answers = user(
            r#","toolUseResult":{"stdout":"{\"answers\": 3}"},"sourceToolAssistantUUID":"a""#,
            r#"[{"type":"tool_result"}]"#,
        );
        assert_eq!(decide(&output_naming_answers), Who::Agent);
        let answered = user(
            r#","toolUseResult":{"questions":[{"question":"Which?"}],"answers":{"Which?":"The first"}},"sourceToolAssistantUUID":"a""#,
            r#"[{"type":"tool_result","content":"User has answered"}]"#,
        );
        assert_eq!(decide(&answered), Who::Person);
        let big = format!(
            r#","toolUseResult":{{"answers":"{}"}},"sourceToolAssistantUUID":"a""#,
            "x".repeat(20_000)
        );
        assert_eq!(
            decide(&user(&big, r#"[{"type":"tool_result"}]"#)),
            Who::Agent,
            "tool output is never searched"
        );
        let old_layout = user("", r#"[{"tool_use_id":"toolu_1","type":"tool_result","content":"ok"}]"#);
        assert_eq!(decide(&old_layout), Who::Agent);
    }

    #[test]
    fn old_transcripts_without_a_prompt_source_are_judged_by_shape() {
        assert_eq!(decide(&user("", r#""Add a description to every variable""#)), Who::Person);
        assert_eq!(
            decide(&user("", r#"[{"type":"text","text":"Look at this"},{"type":"image"}]"#)),
            Who::Person
        );
        assert_eq!(decide(&user("", r#""<command-name>/review</command-name>""#)), Who::Person);
        assert_eq!(decide(&user("", r#""<bash-input>git status</bash-input>""#)), Who::Person);
        assert_eq!(decide(&user("", r#""[Request interrupted by user]""#)), Who::Person);
        for harness in [
            r#""<task-notification><task-id>b1</task-id></task-notification>""#,
            r#""<scheduled-task name=\"x\">""#,
            r#""<<autonomous-loop>>""#,
            r#""[SYSTEM NOTIFICATION] done""#,
            r#""<local-command-stdout>ok</local-command-stdout>""#,
            r#""<local-command-caveat>Caveat</local-command-caveat>""#,
            r#""<bash-stdout>clean</bash-stdout>""#,
            r#""This session is being continued from a previous conversation""#,
        ] {
            assert_eq!(decide(&user("", harness)), Who::Agent, "{harness}");
        }
        assert_eq!(decide(&format!(r#"{{{HEAD},"type":"user","message":{{"role":"user"}}}}"#)), Who::Agent);
    }

    #[test]
    fn assistant_lines_are_the_agent() {
        let line = format!(
            r#"{{{HEAD},"type":"assistant","requestId":"r","message":{{"id":"m","model":"claude-opus-4-5","content":[{{"type":"text","text":"Done"}}]}}}}"#
        );
        assert_eq!(decide(&line), Who::Agent);
    }

    #[test]
    fn queued_typing_is_a_person_a_queued_notification_is_not() {
        let at = r#""sessionId":"s","timestamp":"2026-11-02T09:00:00.903Z""#;
        let typed = format!(
            r#"{{"type":"queue-operation","operation":"enqueue",{at},"content":"also run the linter"}}"#
        );
        assert_eq!(decide(&typed), Who::Person);
        let notification = format!(
            r#"{{"type":"queue-operation","operation":"enqueue",{at},"content":"<task-notification>done</task-notification>"}}"#
        );
        assert_eq!(decide(&notification), Who::Nothing);
        for operation in ["dequeue", "remove", "popAll"] {
            let line = format!(r#"{{"type":"queue-operation","operation":"{operation}",{at}}}"#);
            assert_eq!(decide(&line), Who::Nothing, "{operation}");
        }
    }

    #[test]
    fn system_lines() {
        let system = |subtype: &str, extra: &str| {
            format!(
                r#"{{{HEAD},"type":"system","subtype":"{subtype}","isMeta":false,"level":"info"{extra}}}"#
            )
        };
        assert_eq!(decide(&system("away_summary", r#","content":"While you were away""#)), Who::Away);
        assert_eq!(
            decide(&system("local_command", r#","content":"<command-name>/context</command-name>""#)),
            Who::Person
        );
        assert_eq!(
            decide(&system(
                "local_command",
                r#","content":"<local-command-stdout>ctx</local-command-stdout>""#
            )),
            Who::Nothing
        );
        assert_eq!(
            decide(&system("compact_boundary", r#","compactMetadata":{"trigger":"manual","preTokens":1}"#)),
            Who::Person
        );
        assert_eq!(
            decide(&system("compact_boundary", r#","compactMetadata":{"trigger":"auto","preTokens":1}"#)),
            Who::Nothing
        );
        for subtype in [
            "turn_duration",
            "scheduled_task_fire",
            "stop_hook_summary",
            "api_error",
            "informational",
            "memory_saved",
            "bridge_status",
            "a-later-subtype",
        ] {
            assert_eq!(decide(&system(subtype, "")), Who::Nothing, "{subtype}");
        }
    }

    #[test]
    fn attachments() {
        let attachment = |body: &str| format!(r#"{{{HEAD},"type":"attachment","attachment":{body}}}"#);
        assert_eq!(
            decide(&attachment(
                r#"{"type":"queued_command","prompt":"and the docs","origin":{"kind":"human"}}"#
            )),
            Who::Person
        );
        assert_eq!(
            decide(&attachment(
                r#"{"type":"queued_command","prompt":"<task-notification>","commandMode":"task-notification"}"#
            )),
            Who::Nothing
        );
        for kind in ["hook_success", "edited_text_file", "file", "todo_reminder", "date_change"] {
            assert_eq!(decide(&attachment(&format!(r#"{{"type":"{kind}"}}"#))), Who::Nothing, "{kind}");
        }
        assert_eq!(decide(&attachment(r#""a string, not an object""#)), Who::Nothing);
    }

    #[test]
    fn sidecar_and_unknown_kinds_are_nothing() {
        for kind in [
            "summary",
            "custom-title",
            "ai-title",
            "last-prompt",
            "file-history-snapshot",
            "progress",
            "permission-mode",
            "a-later-kind",
        ] {
            let line = format!(r#"{{"type":"{kind}","timestamp":"2026-11-02T09:00:00.088Z"}}"#);
            assert_eq!(decide(&line), Who::Nothing, "{kind}");
        }
    }
}
