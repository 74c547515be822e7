//! What `samrs completions SHELL` and `samrs man` print, generated from the clap definitions in
//! [`super`], so completions and the man page always list the flags samrs really takes.

use std::io;

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

use super::Cli;
use crate::help::{self, Topic};

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "samrs", &mut script);
    script
}

/// The man page samrs(1) in roff: the program's sections, then one section per command with
/// its description, synopsis, options (under the headings of its `--help`) and examples, then
/// the environment variables and exit statuses (one page, so `man samrs` shows everything).
pub fn man_page() -> io::Result<Vec<u8>> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut page = Vec::new();
    let man = Man::new(command.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut heading = Roff::default();
        heading.control(
            "SH",
            [format!("SAMRS {}", sub.get_name().to_uppercase()).as_str()],
        );
        heading.to_writer(&mut page)?;
        let sub_man = Man::new(sub.clone());
        let mut sections = Vec::new();
        sub_man.render_description_section(&mut sections)?;
        sub_man.render_synopsis_section(&mut sections)?;
        sub_man.render_options_section(&mut sections)?;
        if let Some(topic) = Topic::ALL.into_iter().find(|t| t.name() == sub.get_name()) {
            examples_section(topic).to_writer(&mut sections)?;
        }
        // The command's own sections become subsections of its section.
        let sections = format!("\n{}", String::from_utf8_lossy(&sections));
        page.extend_from_slice(&sections.replace("\n.SH ", "\n.SS ").as_bytes()[1..]);
    }
    closing_sections().to_writer(&mut page)?;
    // Every rendered piece starts with the same roff preamble: keep the first one only.
    let mut preamble = Vec::new();
    Roff::default().to_writer(&mut preamble)?;
    let preamble = String::from_utf8_lossy(&preamble);
    let body = String::from_utf8_lossy(&page).replace(preamble.as_ref(), "");
    Ok(format!("{preamble}{body}").into_bytes())
}

/// A command's EXAMPLES, as a subsection of its section.
fn examples_section(topic: Topic) -> Roff {
    let mut roff = Roff::default();
    roff.control("SS", ["EXAMPLES"]);
    for example in topic.examples() {
        roff.control("PP", []);
        roff.text([roman(example.what)]);
        roff.control("RS", ["4"]);
        roff.text([bold(example.command)]);
        roff.control("RE", []);
    }
    roff
}

/// ENVIRONMENT and EXIT STATUS: what a script needs from the page that clap does not know, the
/// same lists `--help` shows.
fn closing_sections() -> Roff {
    let mut roff = Roff::default();
    roff.control("SH", ["ENVIRONMENT"]);
    for variable in help::ENVIRONMENT {
        roff.control("TP", []);
        roff.text([bold(variable.names.join(", "))]);
        let only = if variable.deploy_only {
            " (samrs deploy only)"
        } else {
            ""
        };
        roff.text([roman(format!("{}{only}", variable.meaning))]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for status in help::EXIT_STATUSES {
        roff.control("TP", []);
        roff.text([bold(status.code.to_string())]);
        roff.text([roman(status.meaning_for(Topic::Deploy))]);
    }
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("generated text is UTF-8")
    }

    #[test]
    fn every_shell_gets_a_script_that_knows_the_commands_and_flags() {
        for (shell, marker) in [
            (Shell::Bash, "complete -F _samrs"),
            (Shell::Zsh, "#compdef samrs"),
            (Shell::Fish, "complete -c samrs"),
            (
                Shell::PowerShell,
                "Register-ArgumentCompleter -Native -CommandName 'samrs'",
            ),
            (Shell::Elvish, "set edit:completion:arg-completer[samrs]"),
        ] {
            let script = text(completions(shell));
            assert!(script.contains(marker), "{shell}: no {marker:?}");
            for word in [
                "deploy",
                "delete",
                "stack-name",
                "resolve-image-repos",
                "no-prompts",
            ] {
                assert!(script.contains(word), "{shell}: no {word}");
            }
        }
    }

    #[test]
    fn the_man_page_has_a_section_per_command_with_its_options() {
        let page = text(man_page().unwrap());
        assert!(page.contains("\n.TH samrs 1 "), "{page}");
        assert_eq!(page.matches(".ds Aq").count(), 2, "one preamble: {page}");
        for line in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH \"SAMRS DEPLOY\"",
            ".SH \"SAMRS DELETE\"",
            ".SH \"SAMRS COMPLETIONS\"",
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SS \"REQUIRED OPTIONS\"",
            ".SS \"DELETE OPTIONS\"",
            ".SS \"SAMRS-ONLY OPTIONS\"",
            ".SS EXAMPLES",
            "\\fBsamrs deploy\\fR",
            "\\fB\\-\\-stack\\-name\\fR",
            "\\fB\\-\\-orphans\\fR",
        ] {
            assert!(page.contains(line), "no {line:?} in\n{page}");
        }
        // Only the page's own sections are top-level: a command's are subsections of its own.
        assert_eq!(page.matches(".SH SYNOPSIS").count(), 1, "{page}");
        assert!(
            !page.contains("samrs-deploy(1)"),
            "no separate pages to refer to"
        );
    }

    #[test]
    fn the_man_page_has_the_examples_environment_and_exit_statuses_of_the_help() {
        let page = text(man_page().unwrap());
        // How roff's text lines spell these characters.
        let roff = |text: &str| text.replace('-', "\\-").replace('\'', "\\*(Aq");
        for topic in Topic::ALL {
            let section = format!(".SH \"SAMRS {}\"", topic.name().to_uppercase());
            let start = page.find(&section).expect("a section per command");
            let end = page[start + 1..]
                .find("\n.SH ")
                .map_or(page.len(), |e| start + 1 + e);
            for example in topic.examples() {
                assert!(
                    page[start..end].contains(&roff(example.command)),
                    "{} not in its section:\n{}",
                    example.command,
                    &page[start..end]
                );
            }
        }
        let environment = &page[page.find(".SH ENVIRONMENT").unwrap()..];
        for variable in help::ENVIRONMENT {
            let entry = format!(
                ".TP\n\\fB{}\\fR\n{}",
                roff(&variable.names.join(", ")),
                roff(variable.meaning)
            );
            assert!(
                environment.contains(&entry),
                "no {entry:?} in\n{environment}"
            );
        }
        for status in help::EXIT_STATUSES {
            assert!(
                page.contains(&format!(".TP\n\\fB{}\\fR\n", status.code)),
                "{}",
                status.code
            );
        }
    }
}
