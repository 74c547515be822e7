//! Tables with the SAM CLI's geometry (`pprint_column_names`).

use super::Tone;

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
