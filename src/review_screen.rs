//! The `review` screen as a pure state machine and a pure drawing: the rows of one destination's plan
//! (`review::EntryRow`), grouped by day, a cursor, the edits made on screen (kept in memory until the
//! user posts), and the prompts (a description being typed, a project being picked, a deletion to
//! confirm). `commands/review` replans with the edits after each key and runs the terminal.
//!
//! Pure: no I/O, no clock.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::figures::duration;
use crate::overrides::{Edits, Override};
use crate::review::{EntryRow, RowState};

/// A key, as the screen understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Up,
    Down,
    Enter,
    Esc,
    Backspace,
    Char(char),
}

/// What the screen is asking for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prompt {
    None,
    /// A description being typed for the entry `key`.
    Describe {
        key: String,
        text: String,
    },
    /// A project being picked from the cached list, at `index`.
    Project {
        key: String,
        index: usize,
    },
    /// The entry `key` is posted already: delete it there too?
    ConfirmDelete {
        key: String,
    },
    Help,
}

/// What a key asks the command to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Redraw (the edits may have changed: replan).
    Stay,
    /// Leave without saving anything.
    Quit,
    /// Save the edits, approve the days shown, and post.
    Post,
}

/// Everything on screen.
#[derive(Debug, Clone)]
pub(crate) struct ReviewState {
    /// `Clockify`, `Toggl Track`.
    pub(crate) service: String,
    /// `2026-11-09 - 2026-11-20`.
    pub(crate) range_label: String,
    pub(crate) rows: Vec<EntryRow>,
    /// The edits as the screen has them (the stored ones, then the keys pressed).
    pub(crate) edits: Edits,
    /// Project id to name, as last listed (`clockify projects` / `toggl projects`), for the picker.
    pub(crate) projects: Vec<(String, String)>,
    pub(crate) cursor: usize,
    pub(crate) prompt: Prompt,
    pub(crate) tz: Tz,
    /// Whether the destination posts only approved days (the screen then approves what it posts).
    pub(crate) approve: bool,
    /// A one-line answer to the last key (shown until the next one).
    pub(crate) message: Option<String>,
}

impl ReviewState {
    fn selected(&self) -> Option<&EntryRow> {
        self.rows.get(self.cursor)
    }

    fn edit_of(&mut self, key: &str) -> &mut Override {
        self.edits.by_key.entry(key.to_string()).or_default()
    }

    /// Handles one key.
    pub(crate) fn on_key(&mut self, key: Key) -> Outcome {
        self.message = None;
        match std::mem::replace(&mut self.prompt, Prompt::None) {
            Prompt::Describe { key: entry, mut text } => {
                match key {
                    Key::Enter => self.edit_of(&entry).description = Some(text).filter(|t| !t.is_empty()),
                    Key::Esc => {}
                    Key::Backspace => {
                        text.pop();
                        self.prompt = Prompt::Describe { key: entry, text };
                    }
                    Key::Char(c) => {
                        text.push(c);
                        self.prompt = Prompt::Describe { key: entry, text };
                    }
                    _ => self.prompt = Prompt::Describe { key: entry, text },
                }
                Outcome::Stay
            }
            Prompt::Project { key: entry, index } => {
                let last = self.projects.len().saturating_sub(1);
                match key {
                    Key::Up => self.prompt = Prompt::Project { key: entry, index: index.saturating_sub(1) },
                    Key::Down => self.prompt = Prompt::Project { key: entry, index: (index + 1).min(last) },
                    Key::Enter => {
                        if let Some((id, _)) = self.projects.get(index).cloned() {
                            self.edit_of(&entry).project_id = Some(id);
                        }
                    }
                    Key::Esc => {}
                    _ => self.prompt = Prompt::Project { key: entry, index },
                }
                Outcome::Stay
            }
            Prompt::ConfirmDelete { key: entry } => {
                match key {
                    Key::Char('y') => {
                        let edit = self.edit_of(&entry);
                        edit.excluded = true;
                        edit.delete_confirmed = true;
                    }
                    Key::Char('n') => {
                        let edit = self.edit_of(&entry);
                        edit.excluded = true;
                        edit.delete_confirmed = false;
                    }
                    Key::Esc => {}
                    _ => self.prompt = Prompt::ConfirmDelete { key: entry },
                }
                Outcome::Stay
            }
            Prompt::Help => Outcome::Stay,
            Prompt::None => self.on_list_key(key),
        }
    }

    fn on_list_key(&mut self, key: Key) -> Outcome {
        let Some(row) = self.selected().cloned() else {
            return match key {
                Key::Char('q') | Key::Esc => Outcome::Quit,
                Key::Char('?') => {
                    self.prompt = Prompt::Help;
                    Outcome::Stay
                }
                _ => Outcome::Stay,
            };
        };
        match key {
            Key::Up | Key::Char('k') => self.cursor = self.cursor.saturating_sub(1),
            Key::Down | Key::Char('j') => self.cursor = (self.cursor + 1).min(self.rows.len() - 1),
            Key::Char(' ' | 'x') => self.toggle(&row),
            Key::Char('D') => {
                let day: Vec<EntryRow> = self.rows.iter().filter(|r| r.date == row.date).cloned().collect();
                let exclude = day.iter().any(|r| !is_excluded(r));
                for entry in day {
                    let edit = self.edit_of(&entry.key);
                    edit.excluded = exclude;
                    // A day excluded whole keeps what is posted there until each is confirmed.
                    edit.delete_confirmed = false;
                }
            }
            Key::Char('e') => {
                self.prompt = Prompt::Describe { key: row.key.clone(), text: row.description.clone() }
            }
            Key::Char('p') if self.projects.is_empty() => {
                self.message = Some(format!(
                    "no project list yet: quit, run `claude-tracker {} projects`, then review again",
                    if self.service == "Clockify" { "clockify" } else { "toggl" }
                ));
            }
            Key::Char('p') => {
                let index =
                    self.projects.iter().position(|(id, _)| Some(id) == row.project_id.as_ref()).unwrap_or(0);
                self.prompt = Prompt::Project { key: row.key.clone(), index };
            }
            Key::Char('b') => {
                let next = match row.billable {
                    Some(true) => Some(false),
                    _ => Some(true),
                };
                self.edit_of(&row.key).billable = next;
            }
            Key::Char('P') => return Outcome::Post,
            Key::Char('?') => self.prompt = Prompt::Help,
            Key::Char('q') | Key::Esc => return Outcome::Quit,
            _ => {}
        }
        Outcome::Stay
    }

    /// Excludes the entry, or includes it again; a posted one asks whether to delete it there.
    fn toggle(&mut self, row: &EntryRow) {
        if is_excluded(row) {
            let edit = self.edit_of(&row.key);
            edit.excluded = false;
            edit.delete_confirmed = false;
        } else if matches!(row.state, RowState::Posted | RowState::ToUpdate) {
            self.prompt = Prompt::ConfirmDelete { key: row.key.clone() };
        } else {
            self.edit_of(&row.key).excluded = true;
        }
    }

    /// Keeps the cursor on a row after the rows changed.
    pub(crate) fn set_rows(&mut self, rows: Vec<EntryRow>) {
        self.rows = rows;
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
        self.edits.by_key.retain(|_, edit| !edit.is_empty());
    }
}

fn is_excluded(row: &EntryRow) -> bool {
    matches!(row.state, RowState::Excluded | RowState::ExcludedPosted)
}

/// Draws the screen.
pub(crate) fn render(state: &ReviewState, frame: &mut Frame<'_>) {
    let [list, keys] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    render_list(state, frame, list);
    frame.render_widget(Paragraph::new(bottom_line(state)), keys);
    match &state.prompt {
        Prompt::Project { index, .. } => render_picker(state, frame, list, *index),
        Prompt::Help => render_help(frame, list),
        _ => {}
    }
}

/// The lines of the list: a heading per day, then its entries; the index of each entry's line.
fn list_lines(state: &ReviewState, width: usize) -> (Vec<Line<'static>>, Vec<usize>) {
    let mut lines = Vec::new();
    let mut at = Vec::new();
    let mut day = None;
    let wide = width >= 120;
    let shown = crate::review::shown(&state.rows);
    for (index, (row, span)) in state.rows.iter().zip(&shown).enumerate() {
        if day != Some(row.date) {
            day = Some(row.date);
            let minutes: i64 = state
                .rows
                .iter()
                .zip(&shown)
                .filter(|(r, _)| r.date == row.date && !is_excluded(r))
                .map(|(_, span)| span.minutes())
                .sum();
            lines.push(
                Line::from(format!("{} {}  {}", row.date.format("%a"), row.date, duration(minutes)))
                    .style(Style::default().add_modifier(Modifier::BOLD)),
            );
        }
        at.push(lines.len());
        let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&state.tz).format("%H:%M").to_string();
        let mark = if is_excluded(row) { "[ ]" } else { "[x]" };
        let billable = match row.billable {
            Some(true) => "$",
            Some(false) => "-",
            None => " ",
        };
        let edited = if row.edited { "*" } else { " " };
        let fixed = format!(
            "{} {mark} {}-{} {:>5} {billable}{edited}",
            if index == state.cursor { ">" } else { " " },
            local(span.start()),
            local(span.end()),
            duration(span.minutes())
        );
        let rest = width.saturating_sub(fixed.chars().count() + 1);
        let text = if wide {
            let (state_width, rest) = (22, rest.saturating_sub(23));
            let tags = crate::figures::tag_list(&row.tags);
            let project = fit(&row.project, rest * 2 / 5);
            let description = fit(&format!("\"{}\"", row.description), rest * 2 / 5);
            let tags = fit(&tags, rest.saturating_sub(rest * 4 / 5 + 2));
            format!(
                "{fixed} {project:<p$} {description:<d$} {tags:<t$} {}",
                fit(row.state.name(), state_width),
                p = rest * 2 / 5,
                d = rest * 2 / 5,
                t = rest.saturating_sub(rest * 4 / 5 + 2)
            )
        } else {
            let project = fit(&short_project(&row.project), rest / 3);
            let description = fit(&format!("\"{}\"", row.description), rest.saturating_sub(rest / 3 + 1));
            format!("{fixed} {project:<p$} {description}", p = rest / 3)
        };
        let style = if index == state.cursor {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        lines.push(Line::from(text).style(style));
    }
    (lines, at)
}

/// `/w/shop -> p-shop (Shop)` as `Shop`, `Other -> 900` as `Other -> 900`: the name when known.
fn short_project(label: &str) -> String {
    match (label.rfind(" ("), label.ends_with(')')) {
        (Some(open), true) => label[open + 2..label.len() - 1].to_string(),
        _ => label.rsplit('/').next().unwrap_or(label).to_string(),
    }
}

/// `text` in at most `width` characters, `…` marking a cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

fn render_list(state: &ReviewState, frame: &mut Frame<'_>, area: Rect) {
    let inner_width = usize::from(area.width.saturating_sub(2));
    let (lines, at) = list_lines(state, inner_width);
    let height = usize::from(area.height.saturating_sub(2));
    // Keep the cursor's line (and its day's heading when it is the day's first) in sight.
    let cursor_line = at.get(state.cursor).copied().unwrap_or(0);
    let top = cursor_line.saturating_sub(height.saturating_sub(1)).min(cursor_line.saturating_sub(1));
    let shown: Vec<Line<'static>> = lines.iter().skip(top).take(height).cloned().collect();
    let excluded = state.rows.iter().filter(|r| is_excluded(r)).count();
    let title = format!(
        " Review: {} · {} · {} entries, {excluded} excluded ",
        state.service,
        state.range_label,
        state.rows.len()
    );
    let body = if state.rows.is_empty() {
        vec![Line::from(
            "Nothing waits to be posted in this range: q leaves; `--since DATE` reviews earlier days.",
        )]
    } else {
        shown
    };
    frame
        .render_widget(Paragraph::new(body).block(Block::default().borders(Borders::ALL).title(title)), area);
}

fn bottom_line(state: &ReviewState) -> String {
    if let Some(message) = &state.message {
        return message.clone();
    }
    match &state.prompt {
        Prompt::Describe { text, .. } => format!("Description: {text}_  (Enter keeps it, Esc cancels)"),
        Prompt::ConfirmDelete { .. } => format!(
            "It is on {} already: y deletes it there, n keeps it there (not updated), Esc cancels",
            state.service
        ),
        Prompt::Project { .. } => "↑/↓ pick a project, Enter sets it, Esc cancels".to_string(),
        Prompt::Help => "any key closes the help".to_string(),
        Prompt::None if state.approve => {
            "␣ exclude  D day  e describe  p project  b billable  P approve+post  q quit  ? help".to_string()
        }
        Prompt::None => {
            "␣ exclude  D day  e describe  p project  b billable  P post  q quit  ? help".to_string()
        }
    }
}

fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}

fn render_picker(state: &ReviewState, frame: &mut Frame<'_>, area: Rect, index: usize) {
    let height = u16::try_from(state.projects.len() + 2).unwrap_or(u16::MAX).min(area.height);
    let area = popup(area, 50, height);
    let visible = usize::from(area.height.saturating_sub(2));
    let top = index.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line<'static>> = state
        .projects
        .iter()
        .enumerate()
        .skip(top)
        .take(visible)
        .map(|(i, (id, name))| {
            let line = Line::from(format!("{} {name} ({id})", if i == index { ">" } else { " " }));
            if i == index { line.style(Style::default().add_modifier(Modifier::REVERSED)) } else { line }
        })
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Project ")),
        area,
    );
}

fn render_help(frame: &mut Frame<'_>, area: Rect) {
    let text: Vec<Line<'static>> = [
        "↑/↓ j/k  move",
        "space x  exclude the entry, or include it again",
        "D        exclude (or include) the whole day",
        "e        edit the description",
        "p        pick another project (cached list)",
        "b        billable yes / no",
        "P        keep the edits and post (approving the days)",
        "q Esc    leave, nothing kept",
        "[x] posted as shown  [ ] excluded  $ billable  * edited",
    ]
    .into_iter()
    .map(Line::from)
    .collect();
    let area = popup(area, 60, 11);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(" Help ")),
        area,
    );
}

/// The screen as text (one line per row, trailing blanks kept): what snapshot tests compare.
pub(crate) fn snapshot(state: &ReviewState, width: u16, height: u16) -> String {
    crate::dashboard::frame_text(width, height, |frame| render(state, frame))
}

/// The project names of a cached listing, by name.
pub(crate) fn project_choices(names: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut choices: Vec<(String, String)> =
        names.iter().map(|(id, name)| (id.clone(), name.clone())).collect();
    choices.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    choices
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn row(key: &str, start: &str, end: &str, state: RowState) -> EntryRow {
        let at = |t: &str| format!("2026-11-09T{t}:00Z").parse::<DateTime<Utc>>().unwrap();
        EntryRow {
            destination: "clockify",
            date: "2026-11-09".parse().unwrap(),
            key: key.into(),
            start: at(start),
            end: at(end),
            project_id: Some("p-shop".into()),
            project: "/w/shop -> p-shop (Shop)".into(),
            description: "Development".into(),
            tags: vec![],
            billable: None,
            state,
            edited: false,
        }
    }

    fn state() -> ReviewState {
        ReviewState {
            service: "Clockify".into(),
            range_label: "2026-11-09".into(),
            rows: vec![
                row("a", "09:00", "13:00", RowState::New),
                row("b", "13:00", "17:00", RowState::Posted),
            ],
            edits: Edits::default(),
            projects: vec![("p-other".into(), "Other".into()), ("p-shop".into(), "Shop".into())],
            cursor: 0,
            prompt: Prompt::None,
            tz: chrono_tz::UTC,
            approve: false,
            message: None,
        }
    }

    #[test]
    fn space_excludes_a_new_entry_and_a_posted_one_asks_first() {
        let mut s = state();
        s.on_key(Key::Char(' '));
        assert!(s.edits.by_key["a"].excluded);
        s.on_key(Key::Down);
        s.on_key(Key::Char(' '));
        assert_eq!(s.prompt, Prompt::ConfirmDelete { key: "b".into() });
        s.on_key(Key::Char('y'));
        assert_eq!(
            s.edits.by_key["b"],
            Override { excluded: true, delete_confirmed: true, ..Override::default() }
        );
    }

    #[test]
    fn a_description_is_typed_kept_on_enter_and_dropped_on_esc() {
        let mut s = state();
        s.on_key(Key::Char('e'));
        for _ in 0.."Development".len() {
            s.on_key(Key::Backspace);
        }
        for c in "Auth".chars() {
            s.on_key(Key::Char(c));
        }
        s.on_key(Key::Enter);
        assert_eq!(s.edits.by_key["a"].description.as_deref(), Some("Auth"));
        s.on_key(Key::Char('e'));
        s.on_key(Key::Char('x'));
        s.on_key(Key::Esc);
        assert_eq!(s.edits.by_key["a"].description.as_deref(), Some("Auth"), "Esc keeps the earlier edit");
    }

    #[test]
    fn a_project_is_picked_from_the_cached_list() {
        let mut s = state();
        s.on_key(Key::Char('p'));
        assert_eq!(s.prompt, Prompt::Project { key: "a".into(), index: 1 }, "starts on the current one");
        s.on_key(Key::Up);
        s.on_key(Key::Enter);
        assert_eq!(s.edits.by_key["a"].project_id.as_deref(), Some("p-other"));
    }

    #[test]
    fn without_a_cached_project_list_p_says_how_to_get_one() {
        let mut s = ReviewState { projects: vec![], ..state() };
        s.on_key(Key::Char('p'));
        assert_eq!(
            (s.prompt.clone(), s.message.as_deref()),
            (
                Prompt::None,
                Some("no project list yet: quit, run `claude-tracker clockify projects`, then review again")
            )
        );
        s.on_key(Key::Down);
        assert_eq!(s.message, None, "gone at the next key");
    }

    #[test]
    fn q_quits_and_shift_p_posts() {
        let mut s = state();
        assert_eq!(s.on_key(Key::Char('P')), Outcome::Post);
        assert_eq!(s.on_key(Key::Char('q')), Outcome::Quit);
    }
}
