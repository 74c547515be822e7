//! Everything samrs prints goes through [`Ui`]: human text (with colours only on a terminal and
//! without `NO_COLOR`), sam-shaped tables, and JSON for scripts.
//!
//! In text mode the human output goes to stdout, as the SAM CLI's does (people grep it); with
//! `--output json` stdout carries only the JSON document and the human progress moves to stderr.
//! Write errors (a closed pipe) are ignored rather than panicking.
//!
//! The steps of a command also report facts and phases here ([`Ui::record`], [`Ui::phase`]):
//! the [`Journal`] they fill is the `--output json` document.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use console::Style;

use crate::cli::OutputFormat;
use crate::journal::{Command, Ending, Fact, Journal, Phase};

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
    /// `--no-progressbar` turns bars off even on a terminal.
    bars: bool,
}

impl Ui {
    pub fn new(format: OutputFormat) -> Self {
        let human_is_tty = match format {
            OutputFormat::Text => std::io::stdout().is_terminal(),
            OutputFormat::Json => std::io::stderr().is_terminal(),
        };
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let width = if human_is_tty {
            console::Term::stdout()
                .size_checked()
                .map_or(100, |(_, w)| usize::from(w))
        } else {
            100
        };
        Ui {
            format,
            colour: human_is_tty && !no_colour,
            width,
            journal: Arc::default(),
            bars: true,
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
            journal: Arc::clone(&self.journal),
            ..Ui::new(format)
        }
    }

    /// A plain-text Ui of a fixed width, for tests and pipes.
    pub fn plain(width: usize) -> Self {
        Ui {
            format: OutputFormat::Text,
            colour: false,
            width,
            journal: Arc::default(),
            bars: false,
        }
    }

    /// Whether progress bars are drawn: stderr is a terminal (plain lines in CI and logs).
    pub fn progress_bars(&self) -> bool {
        self.bars && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
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
            OutputFormat::Json => writeln!(std::io::stderr().lock(), "{text}"),
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

    /// A warning that must be seen even in JSON mode: always on stderr.
    pub fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{}", self.paint(text, Tone::Warn));
    }

    /// Notes a fact for the `--output json` document.
    pub fn record(&self, fact: Fact) {
        if let Ok(mut journal) = self.journal.lock() {
            journal.record(fact);
        }
    }

    /// Runs one phase of a command, timing it for the document (and naming it when it fails).
    pub async fn phase<T>(
        &self,
        phase: Phase,
        work: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        if let Ok(mut journal) = self.journal.lock() {
            journal.phase_started(phase, Instant::now());
        }
        let result = work.await;
        if let Ok(mut journal) = self.journal.lock() {
            journal.phase_ended(phase, Instant::now(), result.is_ok());
        }
        result
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

/// A table laid out like the SAM CLI's `pprint_column_names`: the width is the terminal's (at
/// least 100) rounded down to a multiple of the column count; columns are equal and text wraps.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<(Vec<String>, Tone)>,
    /// Tone of the rules and column names (sam: yellow, green for outputs).
    pub frame: Tone,
    /// Rows whose cells are preformatted lines (the outputs table): no wrapping of whitespace.
    pub keep_whitespace: bool,
}

const MIN_WIDTH: usize = 100;
const MARGIN: usize = 2;

impl Table {
    pub fn new(title: &str, columns: &[&str]) -> Self {
        Table {
            title: title.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            frame: Tone::Warn,
            keep_whitespace: false,
        }
    }

    pub fn row(&mut self, cells: Vec<String>, tone: Tone) {
        self.rows.push((cells, tone));
    }

    /// Column widths for a terminal width: sam's geometry.
    fn geometry(&self, terminal_width: usize) -> (usize, Vec<usize>) {
        let count = self.columns.len().max(1);
        let width = terminal_width.max(MIN_WIDTH);
        let width = width - width % count;
        let usable = width - 1 - MARGIN;
        let per_column = usable / count;
        let widths = (0..count)
            .map(|i| {
                if i + 1 == count {
                    per_column - 1
                } else {
                    per_column
                }
            })
            .collect();
        (usable, widths)
    }

    /// Title, rule, column names, rule.
    pub fn header_lines(&self, terminal_width: usize) -> Vec<(String, Tone)> {
        let (usable, widths) = self.geometry(terminal_width);
        let rule = "-".repeat(usable);
        vec![
            (format!("\n{}", self.title), Tone::Strong),
            (rule.clone(), self.frame),
            (format_row(&self.columns, &widths), self.frame),
            (rule, self.frame),
        ]
    }

    /// One row, wrapped into as many lines as its longest cell needs.
    pub fn row_lines(
        &self,
        cells: &[String],
        tone: Tone,
        terminal_width: usize,
    ) -> Vec<(String, Tone)> {
        let (_, widths) = self.geometry(terminal_width);
        let wrap_width = widths[0].saturating_sub(MARGIN).max(1);
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .map(|cell| wrap(cell, wrap_width, self.keep_whitespace))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(0).max(1);
        (0..height)
            .map(|line| {
                let parts: Vec<String> = wrapped
                    .iter()
                    .map(|w| w.get(line).cloned().unwrap_or_default())
                    .collect();
                (format_row(&parts, &widths), tone)
            })
            .collect()
    }

    pub fn footer_line(&self, terminal_width: usize) -> (String, Tone) {
        ("-".repeat(self.geometry(terminal_width).0), self.frame)
    }

    /// The lines of the whole table, each with its tone.
    pub fn render(&self, terminal_width: usize) -> Vec<(String, Tone)> {
        let mut lines = self.header_lines(terminal_width);
        for (cells, tone) in &self.rows {
            lines.extend(self.row_lines(cells, *tone, terminal_width));
        }
        lines.push(self.footer_line(terminal_width));
        lines
    }
}

fn format_row(cells: &[String], widths: &[usize]) -> String {
    cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{cell:<width$}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Python's `textwrap.wrap`: words split after hyphens or, when longer than the width, anywhere
/// (`AWS::CloudFormation::S` / `tack`); empty text gives no lines.
fn wrap(text: &str, width: usize, keep_whitespace: bool) -> Vec<String> {
    let options = textwrap::Options::new(width)
        .break_words(true)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::HyphenSplitter);
    let source = if keep_whitespace {
        text.to_string()
    } else {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    textwrap::wrap(&source, options)
        .into_iter()
        .map(|line| line.into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(table: &Table, width: usize) -> Vec<String> {
        table.render(width).into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn changeset_table_matches_sam_at_100_columns() {
        let mut table = Table::new(
            "CloudFormation stack changeset",
            &[
                "Operation",
                "LogicalResourceId",
                "ResourceType",
                "Replacement",
            ],
        );
        table.row(
            vec![
                "+ Add".into(),
                "TestFunction".into(),
                "AWS::Lambda::Function".into(),
                "N/A".into(),
            ],
            Tone::Good,
        );
        let lines = text(&table, 80);
        assert_eq!(lines[1], "-".repeat(97));
        assert_eq!(
            lines[2],
            "Operation                LogicalResourceId        ResourceType             Replacement            "
        );
        assert_eq!(
            lines[4],
            "+ Add                    TestFunction             AWS::Lambda::Function    N/A                    "
        );
        assert_eq!(lines.len(), 6);
    }

    #[test]
    fn long_words_wrap_like_sam() {
        let mut table = Table::new(
            "events",
            &[
                "ResourceStatus",
                "ResourceType",
                "LogicalResourceId",
                "ResourceStatusReason",
            ],
        );
        table.row(
            vec![
                "CREATE_IN_PROGRESS".into(),
                "AWS::CloudFormation::Stack".into(),
                "helloworldstack".into(),
                "User Initiated".into(),
            ],
            Tone::Warn,
        );
        let lines = text(&table, 100);
        assert_eq!(
            lines[4],
            "CREATE_IN_PROGRESS       AWS::CloudFormation::S   helloworldstack          User Initiated         "
        );
        assert_eq!(lines[5].trim_end(), "                         tack");
    }

    #[test]
    fn wider_terminals_widen_columns() {
        let table = Table::new("t", &["A", "B", "C"]);
        let lines = text(&table, 151);
        // 151 -> 150 (multiple of 3) -> usable 147 -> 49 per column.
        assert_eq!(lines[1].len(), 147);
        assert_eq!(lines[2].len(), 49 + 1 + 49 + 1 + 48);
    }
}
