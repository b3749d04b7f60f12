//! `claude-tracker completions <shell>` and `claude-tracker man`: generated from the command line's own
//! definition (clap_complete, clap_mangen), so they never fall behind it.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;

/// Prints the completion script for `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut script);
    let mut script = String::from_utf8(script)?;
    if shell == clap_complete::Shell::Bash {
        script = bash_labels_fixed(&script);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(script.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The name completions and the man page are made for.
const BIN: &str = "claude-tracker";

/// clap_complete's bash script (4.6) sets `cmd="claude__tracker__subcmd__report"` but labels that case
/// `claude__subcmd__tracker__subcmd__report)` (its `-` mangled two ways), so in a real bash
/// nothing after a subcommand matched and bash offered file names. The labels are written as `cmd` is.
fn bash_labels_fixed(script: &str) -> String {
    let wrong = format!("{}__subcmd__", BIN.replace('-', "__subcmd__"));
    let right = format!("{}__subcmd__", BIN.replace('-', "__"));
    script.replace(&wrong, &right)
}

/// Prints the man page.
pub(crate) fn man() -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(man_page()?.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The man page: clap_mangen's sections, except that its command list names a page per command
/// (`claude-tracker-ingest(1)`) that nobody installs. Here each command is written as it is typed, and
/// the list ends with where a command's options are.
fn man_page() -> Result<String> {
    let mut command = Cli::command();
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    // Each section clap_mangen renders starts with roff's preamble: the page keeps the first only.
    let preamble = roff::Roff::new().render();
    let mut page = preamble.clone();
    let mut add = |section: &[u8]| -> Result<()> {
        let text = std::str::from_utf8(section)?;
        page.push_str(text.strip_prefix(preamble.as_str()).unwrap_or(text));
        Ok(())
    };
    let mut section = Vec::new();
    for render in [
        clap_mangen::Man::render_title,
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
        clap_mangen::Man::render_options_section,
    ] {
        section.clear();
        render(&man, &mut section)?;
        add(&section)?;
    }
    add(commands_section(&command).render().as_bytes())?;
    section.clear();
    man.render_version_section(&mut section)?;
    add(&section)?;
    Ok(page)
}

/// The commands, in clap_mangen's order and words, each as typed.
fn commands_section(command: &clap::Command) -> roff::Roff {
    use roff::roman;
    let mut roff = roff::Roff::new();
    roff.control("SH", [command.get_subcommand_help_heading().unwrap_or("SUBCOMMANDS")]);
    let mut commands: Vec<_> = command.get_subcommands().filter(|c| !c.is_hide_set()).collect();
    commands.sort_by_key(|c| (c.get_display_order(), c.get_name()));
    for sub in commands {
        roff.control("TP", []);
        roff.text([roman(format!("{} {}", command.get_name(), sub.get_name()))]);
        if let Some(about) = sub.get_about().or_else(|| sub.get_long_about()) {
            for line in about.to_string().lines() {
                roff.text([roman(line)]);
            }
        }
    }
    roff.control("PP", []);
    roff.text([roman(format!("A command's options: {} COMMAND --help.", command.get_name()))]);
    roff
}
