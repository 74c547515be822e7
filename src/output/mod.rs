//! Everything samrs prints goes through [`Ui`]: human text (with colours only on a terminal and
//! without `NO_COLOR`), sam-shaped tables, and JSON for scripts.
//!
//! In text mode the human output goes to stdout, as the SAM CLI's does (people grep it); with
//! `--output json` stdout carries only the JSON document (with `--output markdown` only the
//! changes as Markdown) and the human progress moves to stderr.
//! Write errors (a closed pipe) are ignored rather than panicking.
//!
//! The commands tell the [`Ui`] what they do as [`Event`]s (it is their [`Reporter`]): it words
//! and draws them ([`render`]), keeps the facts and phases in the [`Journal`] that is the
//! `--output json` document, and asks their questions at the terminal.

// The UI: the one module that writes to the terminal and reads it.
#![allow(clippy::disallowed_methods)]

pub mod journal;
pub mod plan;
mod push;
mod render;
mod table;
pub mod waiting;

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use console::Style;

use crate::events::{Event, Question, Reporter};
use crate::prompt::Prompter;
use crate::settings::{Environment, OutputFormat};
use journal::{Command, Ending, Journal};
pub use table::Table;

/// One plain line on stderr: an error, or what Ctrl-C says (also before any [`Ui`] exists).
pub fn error(text: &str) {
    // A closed stderr is no reason to fail differently.
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Bytes to stdout as they are (completions, the man page). A reader that stopped early
/// (`samrs man | head`) is no failure.
pub fn print_bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// Where `--debug`'s lines go: stderr, as `timestamp | message`.
pub fn debug_sink() -> crate::debug::Sink {
    Box::new(|message| {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S,%3f");
        error(&format!("{now} | {message}"));
    })
}

/// Colours used for table rows and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Warn,
    Bad,
    Strong,
}

/// The terminal (or pipe) samrs writes to.
#[derive(Debug, Clone)]
pub struct Ui {
    format: OutputFormat,
    colour: bool,
    width: usize,
    journal: Arc<Mutex<Journal>>,
    /// What is being drawn over several events: the events table, the push bars.
    drawing: Arc<Mutex<Drawing>>,
    /// `--no-progressbar` turns bars off even on a terminal.
    bars: bool,
    /// `--no-prompts`: every question is answered yes.
    assume_yes: bool,
    /// `NO_COLOR` and `CI`, as set when the run started.
    terminal: Terminal,
}

/// What the environment says about drawing.
#[derive(Debug, Clone, Copy)]
struct Terminal {
    /// `NO_COLOR`: no colours, even on a terminal.
    no_colour: bool,
    /// `CI`: plain lines for logs, no progress bars.
    ci: bool,
    /// How long an AWS call goes unanswered before the UI says what samrs waits for.
    slow_call: Duration,
}

/// What is drawn over several events.
#[derive(Debug, Default)]
struct Drawing {
    /// The stack events table of the operation running, and whether its header is out.
    events_table: Option<(Table, bool)>,
    bars: push::Bars,
}

impl Ui {
    pub fn new(format: OutputFormat, env: &Environment) -> Self {
        Ui::drawing_for(
            format,
            Terminal {
                no_colour: env.var("NO_COLOR").is_some(),
                ci: env.var("CI").is_some(),
                slow_call: env.slow_call_threshold(),
            },
        )
    }

    fn drawing_for(format: OutputFormat, terminal: Terminal) -> Self {
        let human_is_tty = match format {
            OutputFormat::Text => std::io::stdout().is_terminal(),
            OutputFormat::Json | OutputFormat::Markdown => std::io::stderr().is_terminal(),
        };
        let width = if human_is_tty {
            console::Term::stdout()
                .size_checked()
                .map_or(100, |(_, w)| usize::from(w))
        } else {
            100
        };
        Ui {
            format,
            colour: human_is_tty && !terminal.no_colour,
            width,
            journal: Arc::default(),
            drawing: Arc::default(),
            bars: true,
            assume_yes: false,
            terminal,
        }
    }

    /// The same Ui answering yes to every question (`samrs delete --no-prompts`).
    pub fn answering_yes(self) -> Self {
        Ui {
            assume_yes: true,
            ..self
        }
    }

    /// The same Ui without progress bars (`--no-progressbar`): pushes and uploads report in
    /// plain lines.
    pub fn without_progress_bars(self) -> Self {
        Ui {
            bars: false,
            ..self
        }
    }

    /// The same run's Ui in another format (samconfig's `output`): what was recorded so far
    /// stays in the one journal.
    pub fn with_format(&self, format: OutputFormat) -> Self {
        Ui {
            bars: self.bars,
            assume_yes: self.assume_yes,
            journal: Arc::clone(&self.journal),
            drawing: Arc::clone(&self.drawing),
            ..Ui::drawing_for(format, self.terminal)
        }
    }

    /// Whether progress bars are drawn: stderr is a terminal (plain lines in CI and logs).
    pub fn progress_bars(&self) -> bool {
        self.bars && std::io::stderr().is_terminal() && !self.terminal.ci
    }

    /// Whether colours and bold are drawn (a terminal without NO_COLOR).
    pub fn colour_enabled(&self) -> bool {
        self.colour
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Whether prompts can be shown: a person is at a terminal on stdin.
    pub fn can_prompt(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn paint(&self, text: &str, tone: Tone) -> String {
        if !self.colour {
            return text.to_string();
        }
        let style = match tone {
            Tone::Plain => return text.to_string(),
            Tone::Good => Style::new().green(),
            Tone::Warn => Style::new().yellow(),
            Tone::Bad => Style::new().red(),
            Tone::Strong => Style::new().bold(),
        };
        style.force_styling(true).apply_to(text).to_string()
    }

    fn write_human(&self, text: &str) {
        let result = match self.format {
            OutputFormat::Text => writeln!(std::io::stdout().lock(), "{text}"),
            OutputFormat::Json | OutputFormat::Markdown => {
                writeln!(std::io::stderr().lock(), "{text}")
            }
        };
        // A closed pipe (`samrs deploy | head`) is not an error of the deploy.
        let _ = result;
    }

    /// One line of human output.
    pub fn line(&self, text: &str) {
        self.write_human(text);
    }

    /// One line in a tone (colour on a terminal only).
    pub fn say(&self, text: &str, tone: Tone) {
        self.write_human(&self.paint(text, tone));
    }

    /// With `--output markdown`: Markdown for a pull-request comment, on stdout.
    fn markdown(&self, text: &str) {
        if self.format == OutputFormat::Markdown {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }

    /// A warning that must be seen even in JSON mode: always on stderr.
    pub fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{}", self.paint(text, Tone::Warn));
    }

    /// With `--output json`: the document of the run, alone on one line of stdout.
    pub fn print_document(&self, command: Command, ending: &Ending) {
        if self.format != OutputFormat::Json {
            return;
        }
        let document = match self.journal.lock() {
            Ok(journal) => journal.document(command, ending, Instant::now()),
            Err(poisoned) => poisoned
                .into_inner()
                .document(command, ending, Instant::now()),
        };
        let _ = writeln!(std::io::stdout().lock(), "{document}");
    }

    /// Prints a table with the SAM CLI's geometry.
    pub fn table(&self, table: &Table) {
        self.print_lines(table.render(self.width));
    }

    /// The top of a table whose rows arrive over time (stack events).
    pub fn table_header(&self, table: &Table) {
        self.print_lines(table.header_lines(self.width));
    }

    pub fn table_row(&self, table: &Table, cells: Vec<String>, tone: Tone) {
        self.print_lines(table.row_lines(&cells, tone, self.width));
    }

    pub fn table_footer(&self, table: &Table) {
        self.print_lines(vec![table.footer_line(self.width)]);
    }

    fn print_lines(&self, lines: Vec<(String, Tone)>) {
        for (text, tone) in lines {
            self.write_human(&self.paint(&text, tone));
        }
    }
}

impl Reporter for Ui {
    fn event(&self, event: Event) {
        self.render(&event);
        let Ok(mut journal) = self.journal.lock() else {
            return;
        };
        match event {
            Event::PhaseStarted(phase) => journal.phase_started(phase, Instant::now()),
            Event::PhaseEnded { phase, ok } => journal.phase_ended(phase, Instant::now(), ok),
            Event::Fact(fact) => journal.record(fact),
            _ => {}
        }
    }

    fn can_ask(&self) -> bool {
        self.can_prompt()
    }

    fn ask(&self, question: Question) -> anyhow::Result<bool> {
        if self.assume_yes {
            return Ok(true);
        }
        if !self.can_prompt() {
            anyhow::bail!("samrs delete asks before deleting and needs a terminal for that: pass --no-prompts to delete without asking");
        }
        let label = match question {
            Question::ConfirmChangeSet => {
                self.say("\nPreviewing CloudFormation changeset before deployment\n======================================================", Tone::Warn);
                "Deploy this changeset?".to_string()
            }
            Question::DeleteStack { stack, region } => format!(
                "\tAre you sure you want to delete the stack {stack} in the region {region} ?"
            ),
            Question::DeleteS3Folder { prefix } => format!(
                "\tAre you sure you want to delete the folder {prefix} in S3 which contains the artifacts?"
            ),
            Question::DeleteTemplateFile { name } => {
                format!("\tDo you want to delete the template file {name} in S3?")
            }
            Question::DeleteRepository { name } => format!(
                "\tECR repository {name} may not be empty. Do you want to delete the repository and all the images in it ?"
            ),
            Question::DeleteCompanion { stack, region } => format!(
                "\tDo you want to delete the ECR companion stack {stack} in the region {region} ?"
            ),
            Question::KeepBlockingResources { stack, resources } => format!(
                "\tStack {stack} is in DELETE_FAILED because of {}. Keep these resources and finish deleting the stack?",
                resources.join("; ")
            ),
            Question::DeleteOrphans { count } => format!(
                "\tDelete the {count} orphaned companion stacks and their repositories listed above?"
            ),
        };
        Prompter::new(self.colour).confirm(&label, false)
    }
}
