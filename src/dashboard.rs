//! The dashboard's screen as a pure function of a view model: tabs (today, 7 days, 30 days, a range),
//! time per project and per tag as bars with `H:MM` (the one duration style), sessions and tokens, the
//! projects' time per machine when more than one ran in the range, a chart by day, each
//! destination's sync state and the running entries, and the keys. `commands/dashboard` builds the
//! model from the store and runs the terminal; tests render it into ratatui's test backend.
//!
//! Pure: no I/O, no clock.

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs};

use crate::figures::duration;
use crate::report::compact;

/// The four ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Today,
    Week,
    Month,
    Range,
}

impl Tab {
    pub(crate) const ALL: [Tab; 4] = [Tab::Today, Tab::Week, Tab::Month, Tab::Range];

    fn title(self) -> &'static str {
        match self {
            Tab::Today => "Today",
            Tab::Week => "7 days",
            Tab::Month => "30 days",
            Tab::Range => "Range",
        }
    }

    /// The title where the long one does not fit.
    fn short_title(self) -> &'static str {
        match self {
            Tab::Today => "Today",
            Tab::Week => "7d",
            Tab::Month => "30d",
            Tab::Range => "Range",
        }
    }

    /// The next tab (`forward`) or the previous one, wrapping.
    pub(crate) fn step(self, forward: bool) -> Tab {
        let index = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0);
        let next = if forward { index + 1 } else { index + Tab::ALL.len() - 1 };
        Tab::ALL[next % Tab::ALL.len()]
    }
}

/// One line of a breakdown: a project or a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) label: String,
    /// Active minutes, rounded with the panel's other rows so that they add up to its total.
    pub(crate) minutes: i64,
    pub(crate) sessions: u64,
    pub(crate) tokens: u64,
}

/// A destination's sync state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DestinationLine {
    pub(crate) name: String,
    pub(crate) mode: String,
    pub(crate) days_synced: usize,
    pub(crate) days_waiting: usize,
    pub(crate) in_doubt: usize,
    /// Local time of the last day marked synced.
    pub(crate) last_run: Option<String>,
    pub(crate) quota_left: Option<String>,
    /// The running entry (live mode): its project and local start.
    pub(crate) running: Option<String>,
}

/// Everything on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DashboardView {
    pub(crate) tab: Tab,
    /// `2026-11-07` or `2026-11-01 - 2026-11-07`.
    pub(crate) range_label: String,
    pub(crate) projects: Vec<Row>,
    /// The projects' total split by who was there (hands-on, supervised, autonomous minutes, rounded
    /// with the rows: they add up to the total).
    pub(crate) bands: [i64; 3],
    pub(crate) tags: Vec<Row>,
    /// Active minutes per machine, most first, rounded together: they add up to the projects' total.
    /// Shown only when there are two or more.
    pub(crate) machines: Vec<(String, i64)>,
    /// Active minutes per day, rounded together: they add up to the projects' total.
    pub(crate) days: Vec<(NaiveDate, i64)>,
    pub(crate) destinations: Vec<DestinationLine>,
    pub(crate) timezone: String,
    pub(crate) help: bool,
    /// Off with `NO_COLOR`.
    pub(crate) color: bool,
}

/// Draws the view.
pub(crate) fn render(view: &DashboardView, frame: &mut Frame<'_>) {
    let area = frame.area();
    let sync_height = u16::try_from(sync_lines(view).len()).unwrap_or(1) + 2;
    let [tabs, body, sync, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(sync_height),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(view, frame, tabs);
    let wide = body.width >= 120;
    if wide {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        let [projects, tags] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(left);
        render_rows(view, frame, projects, &projects_title(view), &view.projects, &view.machines);
        render_rows(view, frame, tags, TAGS_TITLE, &view.tags, &[]);
        render_days(view, frame, right);
    } else {
        let [project_lines, tag_lines, day_lines] = narrow_lines(view, usize::from(body.height));
        let height = |lines: usize| if lines == 0 { 0 } else { u16::try_from(lines + 2).unwrap_or(u16::MAX) };
        let day_height = height(day_lines);
        let [projects, tags, days] = Layout::vertical([
            Constraint::Length(height(project_lines)),
            Constraint::Length(height(tag_lines)),
            Constraint::Length(day_height),
        ])
        .areas(body);
        render_rows(view, frame, projects, &projects_title(view), &view.projects, &view.machines);
        render_rows(view, frame, tags, TAGS_TITLE, &view.tags, &[]);
        if day_height > 0 {
            render_days(view, frame, days);
        }
    }
    render_sync(view, frame, sync);
    let keys_line = Line::from(vec![
        key(view, "q"),
        Span::raw(" quit  "),
        key(view, "←/→ tab"),
        Span::raw(" range  "),
        key(view, "r"),
        Span::raw(" refresh  "),
        key(view, "?"),
        Span::raw(" help"),
        Span::raw(format!("   ({})", view.timezone)),
    ]);
    frame.render_widget(Paragraph::new(keys_line), keys);
    if view.help {
        render_help(frame, area);
    }
}

/// Projects, with the range's total (each second once, the sum of the rows' minutes) and its
/// attention bands.
fn projects_title(view: &DashboardView) -> String {
    let [hands_on, supervised, autonomous] = view.bands.map(duration);
    format!(
        " Projects  {}  hands-on {hands_on}  supervised {supervised}  autonomous {autonomous} ",
        duration(view.projects.iter().map(|r| r.minutes).sum())
    )
}

/// A session counts under each of its tags, so tags have no total.
const TAGS_TITLE: &str = " Tags ";

fn style(view: &DashboardView, color: Color) -> Style {
    if view.color { Style::default().fg(color) } else { Style::default() }
}

fn key(view: &DashboardView, text: &str) -> Span<'static> {
    Span::styled(text.to_string(), style(view, Color::Yellow).add_modifier(Modifier::BOLD))
}

fn render_tabs(view: &DashboardView, frame: &mut Frame<'_>, area: Rect) {
    let [tabs, label] = Layout::horizontal([Constraint::Length(40), Constraint::Min(0)]).areas(area);
    let selected = Tab::ALL.iter().position(|t| *t == view.tab).unwrap_or(0);
    // The titles take 34 cells; a narrower terminal gets the short ones (`7d`, `30d`), never a cut one.
    let short = area.width < 36;
    let widget = Tabs::new(Tab::ALL.iter().map(|t| if short { t.short_title() } else { t.title() }))
        .select(selected)
        .highlight_style(style(view, Color::Cyan).add_modifier(Modifier::REVERSED))
        .divider("|");
    frame.render_widget(widget, tabs);
    // What fits of the label, never a word cut: the name and range, the range alone, or nothing.
    let room = usize::from(label.width);
    let text = [format!("claude-tracker  {}", view.range_label), view.range_label.clone()]
        .into_iter()
        .find(|text| text.chars().count() <= room)
        .unwrap_or_default();
    frame.render_widget(Paragraph::new(text).right_aligned(), label);
}

/// A table of rows with a bar each: `label  ████▌  h:mm  sessions  tokens`; with two or more
/// `machines`, their minutes on the bottom border, left of the headings ([`machines_line`]).
fn render_rows(
    view: &DashboardView,
    frame: &mut Frame<'_>,
    area: Rect,
    title: &str,
    rows: &[Row],
    machines: &[(String, i64)],
) {
    // The numeric columns' headings sit on the bottom border, right above nothing and under their column,
    // so they cost no row.
    let headings = format!(" {:>6}{:>6}{:>8}", "time", "sess", "tokens");
    // Between the corners, with a border cell between the machines and the headings.
    let room = usize::from(area.width).saturating_sub(2 + headings.chars().count() + 1);
    let mut block = Block::default().borders(Borders::ALL).title(title.to_string());
    if let Some(line) = machines_line(machines, room) {
        block = block.title_bottom(Line::from(line).left_aligned());
    }
    let block = block.title_bottom(Line::from(headings).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        frame.render_widget(Paragraph::new("no activity in this range"), inner);
        return;
    }
    let width = usize::from(inner.width);
    let longest_label = rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(0);
    let label_width = longest_label.max(6).min((width / 3).max(1));
    // label, space, bar, space, "hh:mm" (6), "  sessions" (6), "  tokens" (8)
    let bar_width = width.saturating_sub(label_width + 1 + 1 + 6 + 6 + 8).max(1);
    let longest = rows.iter().map(|r| r.minutes).max().unwrap_or(1).max(1);
    // Rows that do not fit are counted on the last line, never dropped silently.
    let height = usize::from(inner.height);
    let shown = if rows.len() > height { height.saturating_sub(1) } else { rows.len() };
    let mut lines: Vec<Line<'_>> = rows
        .iter()
        .take(shown)
        .map(|row| {
            let label: String = row.label.chars().take(label_width).collect();
            let filled = usize::try_from(row.minutes.max(0)).unwrap_or(0) * bar_width * 8
                / usize::try_from(longest).unwrap_or(1);
            Line::from(vec![
                Span::raw(format!("{label:<label_width$} ")),
                Span::styled(format!("{:<bar_width$}", bar(filled)), style(view, Color::Green)),
                Span::raw(format!(
                    " {:>6}{:>6}{:>8}",
                    duration(row.minutes),
                    row.sessions,
                    compact(row.tokens)
                )),
            ])
        })
        .collect();
    if shown < rows.len() && height > 0 {
        let hidden = &rows[shown..];
        let minutes: i64 = hidden.iter().map(|r| r.minutes).sum();
        lines.push(Line::from(format!("+{} more ({})", hidden.len(), duration(minutes))));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The machines and their minutes, most first, as many as fit in `room` cells, the rest counted:
/// ` desk 1:30  laptop 0:30 `, ` desk 1:30  +2 more (0:45) `. Nothing for fewer than two machines (the
/// panel is then as it always was), nor when not even the count fits.
fn machines_line(machines: &[(String, i64)], room: usize) -> Option<String> {
    if machines.len() < 2 {
        return None;
    }
    let entries: Vec<String> =
        machines.iter().map(|(name, minutes)| format!("{name} {}", duration(*minutes))).collect();
    (0..=machines.len()).rev().find_map(|shown| {
        let mut parts = entries[..shown].to_vec();
        if shown < machines.len() {
            let minutes = machines[shown..].iter().map(|(_, m)| m).sum();
            parts.push(format!("+{} more ({})", machines.len() - shown, duration(minutes)));
        }
        let line = format!(" {} ", parts.join("  "));
        (line.chars().count() <= room).then_some(line)
    })
}

/// A bar of `eighths` eighths of a cell.
fn bar(eighths: usize) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let mut text = "█".repeat(eighths / 8);
    text.push_str(PARTS[eighths % 8]);
    text
}

/// The range day by day, as horizontal bars (one line per day, the latest days when they do not fit).
/// The narrow layout's inner lines for projects, tags and the day chart, shared by what they hold: the
/// chart first (a week's days each get a line, a longer range its weeks: [`chart_rows`]), at least two
/// lines each for projects and tags, the rest one line at a time to whichever still has rows to show,
/// and what is left over to the projects.
fn narrow_lines(view: &DashboardView, body_height: usize) -> [usize; 3] {
    // Too low for every panel with a line inside its borders: the chart goes first, then the tags (a
    // panel is left out whole rather than drawn as a bare border).
    if body_height < 2 * 2 + 2 {
        return [body_height.saturating_sub(2).max(1), 0, 0];
    }
    // A week's days each a line; a longer range week by week, at most `WEEK_LINES` (an overview).
    let chart_need = match view.days.len() {
        _ if body_height < 3 * 2 + 3 => 0,
        0 | 1 => 0,
        days if days <= DAY_LINES => days,
        _ => chart_rows(&view.days, DAY_LINES).len().min(WEEK_LINES),
    };
    let panels = if chart_need > 0 { 3 } else { 2 };
    let inner = body_height.saturating_sub(2 * panels);
    let room = inner.saturating_sub(4).max(usize::from(chart_need > 0));
    // Days that do not all fit are charted week by week: as many lines as that chart has.
    let day_lines = if chart_need > room { chart_rows(&view.days, room).len().min(room) } else { chart_need };
    let [projects, tags] =
        share_lines(inner.saturating_sub(day_lines), [view.projects.len(), view.tags.len()]);
    [projects, tags, day_lines]
}

/// `available` lines between panels that need `needs` lines: at least two each (as far as they go), then
/// one at a time to those that need more, the first panel taking what is left.
fn share_lines(available: usize, needs: [usize; 2]) -> [usize; 2] {
    let needs = needs.map(|n| n.max(1));
    let mut lines = needs.map(|n| n.min(2));
    let mut left = available.saturating_sub(lines.iter().sum());
    while left > 0 && lines.iter().zip(&needs).any(|(l, n)| l < n) {
        for (line, need) in lines.iter_mut().zip(&needs) {
            if left > 0 && *line < *need {
                *line += 1;
                left -= 1;
            }
        }
    }
    lines[0] += left;
    lines
}

/// Lines the day chart takes at most in the narrow layout: a whole week, each day its own.
const DAY_LINES: usize = 7;

/// Lines a week-by-week chart takes at most in the narrow layout (earlier weeks are counted on its first).
const WEEK_LINES: usize = 5;

/// The chart's lines: one per day when they fit in `lines`, else one per week (its Monday, `wk 11-16`),
/// so that no day is left out; the lines add up to the range's minutes either way.
fn chart_rows(days: &[(NaiveDate, i64)], lines: usize) -> Vec<(String, i64)> {
    if days.len() <= lines.max(1) {
        return days.iter().map(|(date, minutes)| (date.format("%a %m-%d").to_string(), *minutes)).collect();
    }
    let mut weeks: Vec<(NaiveDate, i64)> = Vec::new();
    for (date, minutes) in days {
        let monday = date.week(chrono::Weekday::Mon).first_day();
        match weeks.last_mut() {
            Some((week, sum)) if *week == monday => *sum += minutes,
            _ => weeks.push((monday, *minutes)),
        }
    }
    weeks.into_iter().map(|(monday, minutes)| (monday.format("wk %m-%d").to_string(), minutes)).collect()
}

fn render_days(view: &DashboardView, frame: &mut Frame<'_>, area: Rect) {
    let height = usize::from(area.height.saturating_sub(2));
    let rows = chart_rows(&view.days, height);
    let title = if rows.len() < view.days.len() { " By week " } else { " By day " };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Weeks that still do not fit: the latest are drawn, the earlier counted on the first line.
    let shown = if rows.len() > height { height.saturating_sub(1) } else { rows.len() };
    let (earlier, rows) = rows.split_at(rows.len() - shown);
    let longest = rows.iter().map(|d| d.1).max().unwrap_or(1).max(1);
    // "Mon 11-02 " (10), the bar, " hh:mm" (7).
    let bar_width = usize::from(inner.width).saturating_sub(10 + 7).max(1);
    let mut lines: Vec<Line<'_>> = Vec::new();
    if !earlier.is_empty() {
        let minutes: i64 = earlier.iter().map(|r| r.1).sum();
        lines.push(Line::from(format!("+{} earlier ({})", earlier.len(), duration(minutes))));
    }
    lines.extend(rows.iter().map(|(label, minutes)| {
        let filled =
            usize::try_from(*minutes).unwrap_or(0) * bar_width * 8 / usize::try_from(longest).unwrap_or(1);
        Line::from(vec![
            Span::raw(format!("{label:<9} ")),
            Span::styled(format!("{:<bar_width$}", bar(filled)), style(view, Color::Blue)),
            Span::raw(format!(" {:>6}", duration(*minutes))),
        ])
    }));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Lines of the sync box: per destination its state, then (when known) its quota and running entry.
fn sync_lines(view: &DashboardView) -> Vec<String> {
    if view.destinations.is_empty() {
        return vec!["no destination configured (config.example.toml shows [clockify] and [toggl])".into()];
    }
    let mut lines = Vec::new();
    for d in &view.destinations {
        lines.push(format!(
            "{} ({}): {} synced, {} waiting, {} in doubt, last {}",
            d.name,
            d.mode,
            d.days_synced,
            d.days_waiting,
            d.in_doubt,
            d.last_run.as_deref().unwrap_or("never")
        ));
        let extra: Vec<String> = [
            d.running.as_ref().map(|r| format!("running {r}")),
            d.quota_left.as_ref().map(|q| format!("quota left: {q}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !extra.is_empty() {
            lines.push(format!("  {}", extra.join("; ")));
        }
    }
    lines
}

fn render_sync(view: &DashboardView, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(" Sync ");
    let lines: Vec<Line<'_>> = sync_lines(view).into_iter().map(Line::from).collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn render_help(frame: &mut Frame<'_>, area: Rect) {
    let width = area.width.min(60);
    let height = area.height.min(11);
    let popup =
        Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let text = vec![
        Line::from("q, Esc        quit (Esc closes this help first)"),
        Line::from("→, Tab        next range"),
        Line::from("←, Shift-Tab  previous range"),
        Line::from("1 2 3 4       today, 7 days, 30 days, range"),
        Line::from("[ ]           range tab: the range before / after"),
        Line::from("r             read new transcripts now"),
        Line::from("?             this help"),
        Line::from(""),
        Line::from("It refreshes by itself when transcripts change."),
    ];
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(" Help ")),
        popup,
    );
}

/// The screen as text (one line per row, trailing blanks kept): what snapshot tests compare.
pub(crate) fn snapshot(view: &DashboardView, width: u16, height: u16) -> String {
    frame_text(width, height, |frame| render(view, frame))
}

/// What `draw` puts on a `width` x `height` screen, as text (one line per row, trailing blanks kept):
/// every screen's `--snapshot`.
pub(crate) fn frame_text(width: u16, height: u16, draw: impl FnOnce(&mut Frame<'_>)) -> String {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let Ok(mut terminal) = ratatui::Terminal::new(backend) else { return String::new() };
    if terminal.draw(draw).is_err() {
        return String::new();
    }
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..height {
        for x in 0..width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> DashboardView {
        DashboardView {
            tab: Tab::Week,
            range_label: "2026-11-01 - 2026-11-07".into(),
            projects: vec![
                Row { label: "webshop".into(), minutes: 90, sessions: 3, tokens: 1_200_000 },
                Row { label: "infra".into(), minutes: 30, sessions: 1, tokens: 45_000 },
            ],
            bands: [70, 35, 15],
            tags: vec![Row { label: "acme".into(), minutes: 90, sessions: 3, tokens: 1_200_000 }],
            machines: vec![("laptop".into(), 120)],
            days: vec![("2026-11-02".parse().unwrap(), 60), ("2026-11-03".parse().unwrap(), 30)],
            destinations: vec![DestinationLine {
                name: "Toggl Track".into(),
                mode: "live".into(),
                days_synced: 4,
                days_waiting: 1,
                in_doubt: 0,
                last_run: Some("2026-11-07 12:00".into()),
                quota_left: Some("596".into()),
                running: Some("since 09:00".into()),
            }],
            timezone: "UTC".into(),
            help: false,
            color: false,
        }
    }

    #[test]
    fn bars_are_drawn_in_eighths() {
        assert_eq!(bar(0), "");
        assert_eq!(bar(8), "█");
        assert_eq!(bar(13), "█▋");
    }

    #[test]
    fn tabs_wrap_both_ways() {
        assert_eq!(Tab::Today.step(false), Tab::Range);
        assert_eq!(Tab::Range.step(true), Tab::Today);
        assert_eq!(Tab::Week.step(true), Tab::Month);
    }

    #[test]
    fn lines_are_shared_by_what_each_panel_holds() {
        assert_eq!(share_lines(5, [4, 4]), [3, 2], "two each, then one at a time, projects first");
        assert_eq!(share_lines(12, [2, 3]), [9, 3], "needs met: the rest to the projects");
        assert_eq!(share_lines(3, [4, 4]), [2, 2], "fewer lines than the minimum: never below it");
        assert_eq!(share_lines(0, [0, 0]), [1, 1]);
    }

    #[test]
    fn a_range_longer_than_the_chart_is_drawn_week_by_week_and_adds_up() {
        let days: Vec<(NaiveDate, i64)> = NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .iter_days()
            .take(30)
            .enumerate()
            .map(|(i, date)| (date, i as i64))
            .collect();
        assert_eq!(chart_rows(&days[..7], 7).len(), 7);
        let weeks = chart_rows(&days, 7);
        assert_eq!(
            weeks.iter().map(|w| w.0.as_str()).collect::<Vec<_>>(),
            vec!["wk 10-26", "wk 11-02", "wk 11-09", "wk 11-16", "wk 11-23", "wk 11-30"]
        );
        assert_eq!(weeks.iter().map(|w| w.1).sum::<i64>(), days.iter().map(|d| d.1).sum::<i64>());
    }

    #[test]
    fn rows_that_do_not_fit_are_counted_not_dropped() {
        let projects: Vec<Row> = (0..15)
            .map(|i| Row { label: format!("project-{i:02}"), minutes: 60 - i, sessions: 1, tokens: 1_000 })
            .collect();
        let text = snapshot(&DashboardView { projects, ..view() }, 80, 24);
        let shown = text.lines().filter(|line| line.starts_with("│project-")).count();
        let more: Vec<&str> = text.lines().filter(|line| line.starts_with("│+")).collect();
        assert_eq!(more.len(), 1, "{text}");
        let hidden = 15 - shown;
        let minutes: i64 = (shown..15).map(|i| 60 - i as i64).sum();
        let expected = format!("│+{hidden} more ({}:{:02})", minutes / 60, minutes % 60);
        assert!(more[0].starts_with(&expected), "{} for {expected}", more[0]);
    }

    /// Two machines or more: the Projects panel's bottom border shows each one's minutes (they add up to
    /// the panel's total) left of the headings; what does not fit is counted; one machine shows none.
    #[test]
    fn the_projects_panel_shows_the_machines_when_there_are_two() {
        let machines = vec![("desk".to_string(), 90), ("laptop".to_string(), 30)];
        let text = snapshot(&DashboardView { machines: machines.clone(), ..view() }, 80, 24);
        let bottom: Vec<&str> = text.lines().filter(|line| line.ends_with("tokens┘")).collect();
        assert_eq!(
            bottom,
            vec![
                "└ desk 1:30  laptop 0:30 ─────────────────────────────────   time  sess  tokens┘",
                "└─────────────────────────────────────────────────────────   time  sess  tokens┘",
            ]
        );
        assert_eq!(machines_line(&machines, 24), Some(" desk 1:30  laptop 0:30 ".to_string()));
        let three = [machines.clone(), vec![("nas".to_string(), 5)]].concat();
        assert_eq!(machines_line(&three, 34), Some(" desk 1:30  laptop 0:30  nas 0:05 ".to_string()));
        assert_eq!(machines_line(&three, 33), Some(" desk 1:30  +2 more (0:35) ".to_string()));
        assert_eq!(machines_line(&three, 26), Some(" +3 more (2:05) ".to_string()));
        assert_eq!(machines_line(&three, 15), None);
        assert_eq!(machines_line(&machines[..1], 80), None);
        let one = snapshot(&DashboardView { machines: machines[..1].to_vec(), ..view() }, 80, 24);
        assert_eq!(one, snapshot(&DashboardView { machines: Vec::new(), ..view() }, 80, 24));
    }

    #[test]
    fn any_terminal_size_draws_without_a_panic() {
        for width in [0, 1, 5, 12, 20, 39, 80] {
            for height in [0, 1, 3, 7, 12, 24] {
                for help in [false, true] {
                    let text = snapshot(&DashboardView { help, ..view() }, width, height);
                    assert_eq!(text.lines().count(), usize::from(height), "{width}x{height}");
                }
            }
        }
    }

    #[test]
    fn every_part_fits_80_by_24_and_160_by_48() {
        assert_eq!(snapshot(&view(), 80, 24), include_str!("../tests/e2e/snapshots/view-80x24.txt"));
        assert_eq!(
            snapshot(&DashboardView { help: true, ..view() }, 80, 24),
            include_str!("../tests/e2e/snapshots/view-help-80x24.txt")
        );
        assert_eq!(snapshot(&view(), 160, 48), include_str!("../tests/e2e/snapshots/view-160x48.txt"));
    }

    /// Below 80x24 (which the README promises) nothing is cut mid-word and no panel is a bare border:
    /// the label drops what does not fit, a panel with no room for a line inside is left out.
    #[test]
    fn a_small_terminal_cuts_no_word_and_draws_no_empty_panel() {
        for (width, height) in [(40, 12), (40, 9), (60, 14), (50, 20), (30, 8)] {
            let text = snapshot(&view(), width, height);
            let lines: Vec<&str> = text.lines().collect();
            let first = lines[0].trim_end();
            assert!(
                first.ends_with("Range") || first.ends_with(&view().range_label),
                "{width}x{height}: {first}"
            );
            for pair in lines.windows(2) {
                assert!(!(pair[0].starts_with('┌') && pair[1].starts_with('└')), "{width}x{height}:\n{text}");
            }
        }
    }
}
