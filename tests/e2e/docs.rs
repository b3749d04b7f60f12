//! `completions <shell>` and `man`: the binary prints exactly what clap_complete and clap_mangen make of
//! the command line's definition.

use clap::CommandFactory;

use crate::support::World;

#[test]
fn completions_for_every_shell_come_from_the_command_line_itself() {
    let world = World::new();
    for (name, shell) in [
        ("bash", clap_complete::Shell::Bash),
        ("zsh", clap_complete::Shell::Zsh),
        ("fish", clap_complete::Shell::Fish),
    ] {
        let mut expected = Vec::new();
        clap_complete::generate(
            shell,
            &mut claude_tracker::cli::Cli::command(),
            "claude-tracker",
            &mut expected,
        );
        let printed = world.ok(&["completions", name]);
        assert_eq!(printed, String::from_utf8(expected).unwrap(), "{name}");
        assert!(printed.contains("dashboard") && printed.contains("watch"), "{name}: every command");
    }
}

#[test]
fn the_man_page_is_the_command_lines_own() {
    let world = World::new();
    let mut expected = Vec::new();
    clap_mangen::Man::new(claude_tracker::cli::Cli::command()).render(&mut expected).unwrap();
    let printed = world.ok(&["man"]);
    assert_eq!(printed, String::from_utf8(expected).unwrap());
    assert!(printed.starts_with(".ie \\n(.g .ds Aq \\(aq"), "roff");
}
