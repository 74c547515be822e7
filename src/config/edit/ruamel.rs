//! How sam's YAML writer (ruamel.yaml 0.19 in round-trip mode, with its defaults: lines folded
//! past 80 columns, mappings indented by 2, sequences not indented, unicode written as is) puts a
//! samconfig value after its key, so that a file samrs saves is the file sam would have saved.
//! A port of the parts of ruamel's `Emitter` that samconfig's values reach: the choice between
//! plain, single-quoted and double-quoted scalars (`analyze_scalar`, `choose_scalar_style`, the
//! YAML 1.2 resolver) and the three writers with their line folding.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::ConfigValue;

/// ruamel's `best_width`.
const BEST_WIDTH: usize = 80;
/// ruamel's `best_map_indent`: a nested mapping's keys, and a folded value's continuation
/// lines, are this much right of their key.
pub(super) const INDENT: usize = 2;

/// The lines of `prefix` (a key and its colon, e.g. `"      stack_name:"`, whose key starts at
/// column `key_indent`) followed by `value` as ruamel writes it, and `comment` (with the spaces
/// before it) after the value's first line when it is a block, or its last line when it is a
/// scalar. Lists are block sequences whose dashes line up with the key, mappings are indented
/// by [`INDENT`], empty ones are `[]` and `{}`.
pub(super) fn entry(
    prefix: &str,
    key_indent: usize,
    value: &ConfigValue,
    comment: &str,
) -> Vec<String> {
    let inline = |text: &str| vec![format!("{prefix} {text}{comment}")];
    let mut lines = match value {
        ConfigValue::String(s) => {
            let mut emitter = Emitter::after(prefix, key_indent + INDENT);
            emitter.scalar(s, false);
            let mut lines = emitter.lines();
            if let Some(last) = lines.last_mut() {
                last.push_str(comment);
            }
            return lines;
        }
        ConfigValue::Bool(b) => return inline(if *b { "true" } else { "false" }),
        ConfigValue::Int(_) | ConfigValue::Float(_) => return inline(&value.to_string()),
        ConfigValue::List(items) if items.is_empty() => return inline("[]"),
        ConfigValue::Map(entries) if entries.is_empty() => return inline("{}"),
        ConfigValue::List(_) | ConfigValue::Map(_) => vec![format!("{prefix}{comment}")],
    };
    let child = " ".repeat(key_indent + INDENT);
    match value {
        ConfigValue::List(items) => {
            for item in items {
                let dash = format!("{}-", " ".repeat(key_indent));
                let mut emitter = Emitter::after(&dash, key_indent + INDENT);
                emitter.scalar(item, false);
                lines.extend(emitter.lines());
            }
        }
        ConfigValue::Map(entries) => {
            for (key, item) in entries {
                let mut emitter = Emitter::at(&child);
                emitter.scalar(key, true);
                emitter.indicator(":", false);
                emitter.indent = key_indent + 2 * INDENT;
                emitter.scalar(item, false);
                lines.extend(emitter.lines());
            }
        }
        _ => {}
    }
    lines
}

/// A mapping key as ruamel writes it (plain when it can be, never folded).
pub(super) fn key(text: &str) -> String {
    let mut emitter = Emitter::at("");
    emitter.scalar(text, true);
    emitter.out
}

/// ruamel's emitter state while it writes one value.
struct Emitter {
    out: String,
    column: usize,
    indent: usize,
    /// The last character written is whitespace (no space is needed before the next token).
    whitespace: bool,
    /// Only indentation has been written on the current line.
    indention: bool,
}

impl Emitter {
    /// Right after `prefix` (a key and its colon, or a dash), whose continuation lines are
    /// indented to `indent`.
    fn after(prefix: &str, indent: usize) -> Emitter {
        Emitter {
            out: prefix.to_string(),
            column: prefix.chars().count(),
            indent,
            whitespace: false,
            indention: false,
        }
    }

    /// At the start of a line, after the indentation `spaces`.
    fn at(spaces: &str) -> Emitter {
        Emitter {
            whitespace: true,
            indention: true,
            ..Emitter::after(spaces, spaces.len())
        }
    }

    fn lines(self) -> Vec<String> {
        self.out.split('\n').map(str::to_string).collect()
    }

    fn write(&mut self, data: &str) {
        self.column += data.chars().count();
        self.out.push_str(data);
    }

    fn indicator(&mut self, indicator: &str, need_whitespace: bool) {
        if !self.whitespace && need_whitespace {
            self.write(" ");
        }
        self.write(indicator);
        self.whitespace = false;
        self.indention = false;
    }

    fn line_break(&mut self) {
        self.out.push('\n');
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
    }

    fn write_indent(&mut self) {
        if !self.indention
            || self.column > self.indent
            || (self.column == self.indent && !self.whitespace)
        {
            self.line_break();
        }
        if self.column < self.indent {
            self.whitespace = true;
            let spaces = " ".repeat(self.indent - self.column);
            self.write(&spaces);
        }
    }

    /// A string in the style ruamel chooses for it (`simple_key`: it is a mapping key, which is
    /// never folded).
    fn scalar(&mut self, text: &str, simple_key: bool) {
        let analysis = Analysis::of(text);
        let split = !simple_key;
        let plain_allowed = analysis.allow_block_plain
            && resolves_to_string(text)
            && !(simple_key && (analysis.empty || analysis.multiline));
        if plain_allowed {
            self.plain(text, split);
        } else if text.contains(['\'', '\n']) {
            self.double_quoted(text, split);
        } else if analysis.allow_single_quoted && !(simple_key && analysis.multiline) {
            self.single_quoted(text, split);
        } else {
            self.double_quoted(text, split);
        }
    }

    fn plain(&mut self, text: &str, split: bool) {
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        let mut start = 0;
        for end in 0..=chars.len() {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column >= BEST_WIDTH && split {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write(&collect(&chars[start..end]));
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    self.write_breaks(&chars[start..end]);
                    self.whitespace = false;
                    self.indention = false;
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_break(c)) {
                let data = collect(&chars[start..end]);
                if data.chars().count() + self.column > BEST_WIDTH && self.column > self.indent {
                    // Words longer than the line get a line of their own.
                    self.write_indent();
                }
                self.write(&data);
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
        }
    }

    /// Line breaks inside a scalar: a first `\n` is doubled (a single one would read as a
    /// space), then the indentation.
    fn write_breaks(&mut self, breaks: &[char]) {
        if breaks.first() == Some(&'\n') {
            self.line_break();
        }
        for &br in breaks {
            if br == '\n' {
                self.line_break();
            } else {
                self.out.push(br);
                self.whitespace = true;
                self.indention = true;
                self.column = 0;
            }
        }
        self.write_indent();
    }

    fn single_quoted(&mut self, text: &str, split: bool) {
        self.indicator("'", true);
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        let mut start = 0;
        for end in 0..=chars.len() {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end
                        && self.column > BEST_WIDTH
                        && split
                        && start != 0
                        && end != chars.len()
                    {
                        self.write_indent();
                    } else {
                        self.write(&collect(&chars[start..end]));
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    self.write_breaks(&chars[start..end]);
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || c == '\'' || is_break(c)) && start < end {
                self.write(&collect(&chars[start..end]));
                start = end;
            }
            if ch == Some('\'') {
                self.write("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
        }
        self.indicator("'", false);
    }

    fn double_quoted(&mut self, text: &str, split: bool) {
        self.indicator("\"", true);
        let chars: Vec<char> = text.chars().collect();
        let mut start = 0;
        for end in 0..=chars.len() {
            let ch = chars.get(end).copied();
            if ch.is_none_or(|c| "\"\\\u{85}\u{2028}\u{2029}\u{feff}".contains(c) || !printable(c))
            {
                if start < end {
                    self.write(&collect(&chars[start..end]));
                    start = end;
                }
                if let Some(c) = ch {
                    self.write(&escape(c));
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < chars.len()
                && (ch == Some(' ') || start >= end)
                && self.column as isize + end as isize - start as isize > BEST_WIDTH as isize
                && split
            {
                let need_backslash = needs_backslash(&chars, start, end);
                let mut data = collect(&chars[start.min(end)..end]);
                if need_backslash {
                    data.push('\\');
                }
                if start < end {
                    start = end;
                }
                self.write(&data);
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if chars.get(start) == Some(&' ') {
                    if need_backslash {
                        self.write("\\");
                    } else {
                        // The line break reads as the space.
                        start += 1;
                    }
                }
            }
        }
        self.indicator("\"", false);
    }
}

/// Whether a double-quoted scalar folded at `end` needs a `\` at the end of the line (ruamel's
/// test: the next word is followed by a single space and holds no quote).
fn needs_backslash(chars: &[char], start: usize, end: usize) -> bool {
    let Some(space) = chars[end..].iter().position(|&c| c == ' ').map(|i| i + end) else {
        return true;
    };
    let space = chars[end..space]
        .iter()
        .position(|&c| c == '\n')
        .map_or(space, |i| i + end);
    let next = chars.get(space + 1).copied();
    if chars[space] == '\n' && next != Some(' ') {
        return true;
    }
    let word = &chars[end..space];
    let Some(next) = next else {
        return true;
    };
    !(!word.contains(&'"')
        && !word.contains(&'\'')
        && next != ' '
        && next != '\n'
        && !(end >= 1 && chars[end - 1] == ' ' && chars[end] == ' ')
        && start != end)
}

fn collect(chars: &[char]) -> String {
    chars.iter().collect()
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Characters a YAML file may hold unescaped (ruamel allows unicode).
fn printable(c: char) -> bool {
    matches!(c, '\x20'..='\x7e' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// ruamel's escape of a character in a double-quoted scalar.
fn escape(c: char) -> String {
    let short = match c {
        '\0' => "0",
        '\x07' => "a",
        '\x08' => "b",
        '\t' => "t",
        '\n' => "n",
        '\x0b' => "v",
        '\x0c' => "f",
        '\r' => "r",
        '\x1b' => "e",
        '"' => "\"",
        '\\' => "\\",
        '\u{85}' => "N",
        '\u{a0}' => "_",
        '\u{2028}' => "L",
        '\u{2029}' => "P",
        _ => "",
    };
    let code = u32::from(c);
    match (short, code) {
        ("", 0..=0xff) => format!("\\x{code:02X}"),
        ("", 0x100..=0xffff) => format!("\\u{code:04X}"),
        ("", _) => format!("\\U{code:08X}"),
        (short, _) => format!("\\{short}"),
    }
}

/// Whether plain `text` reads back as a string under ruamel's YAML 1.2 resolver (not as a
/// boolean, number, null, timestamp, merge or value key), which is when ruamel may leave it
/// unquoted.
fn resolves_to_string(text: &str) -> bool {
    static OTHER_TYPES: LazyLock<Regex> = LazyLock::new(|| {
        let patterns = [
            r"true|True|TRUE|false|False|FALSE",
            r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?",
            r"[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)",
            r"[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?",
            r"[-+]?\.(?:inf|Inf|INF)",
            r"\.(?:nan|NaN|NAN)",
            r"[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+",
            r"<<",
            r"~|null|Null|NULL|",
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
            r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?",
            r"=",
        ];
        let alternatives = patterns.map(|p| format!("(?:{p})")).join("|");
        Regex::new(&format!("^(?:{alternatives})$")).expect("the resolver's patterns are valid")
    });
    !OTHER_TYPES.is_match(text)
}

/// What ruamel's `analyze_scalar` finds out about a string (the parts that decide its style).
struct Analysis {
    empty: bool,
    multiline: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

impl Analysis {
    fn of(text: &str) -> Analysis {
        let chars: Vec<char> = text.chars().collect();
        if chars.is_empty() {
            return Analysis {
                empty: true,
                multiline: false,
                allow_block_plain: true,
                allow_single_quoted: true,
            };
        }
        let space_or_break = |c: char| matches!(c, '\0' | ' ' | '\t' | '\r') || is_break(c);
        let mut block_indicators = text.starts_with("---") || text.starts_with("...");
        let (mut line_breaks, mut special) = (false, false);
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let mut followed_by_whitespace = chars.len() == 1 || space_or_break(chars[1]);
        for (index, &ch) in chars.iter().enumerate() {
            if index == 0 {
                if "#,[]{}&*!|>'\"%@`".contains(ch)
                    || (ch == '-' && followed_by_whitespace)
                    || ("?:".contains(ch) && followed_by_whitespace)
                {
                    block_indicators = true;
                }
            } else if (ch == ':' && followed_by_whitespace) || (ch == '#' && preceded_by_whitespace)
            {
                block_indicators = true;
            }
            if is_break(ch) {
                line_breaks = true;
            }
            if !(ch == '\n' || printable(ch) && ch != '\u{feff}') {
                special = true;
            }
            let last = index == chars.len() - 1;
            if ch == ' ' {
                leading_space |= index == 0;
                trailing_space |= last;
                break_space |= previous_break;
                (previous_space, previous_break) = (true, false);
            } else if is_break(ch) {
                leading_break |= index == 0;
                trailing_break |= last;
                space_break |= previous_space;
                (previous_space, previous_break) = (false, true);
            } else {
                (previous_space, previous_break) = (false, false);
            }
            preceded_by_whitespace = space_or_break(ch);
            followed_by_whitespace = chars.get(index + 2).is_none_or(|&c| space_or_break(c));
        }
        let mut allow_block_plain = true;
        let mut allow_single_quoted = true;
        if leading_space || leading_break || trailing_space || trailing_break {
            allow_block_plain = false;
        }
        if break_space || special || space_break {
            allow_block_plain = false;
            allow_single_quoted = false;
        }
        if line_breaks || block_indicators {
            allow_block_plain = false;
        }
        Analysis {
            empty: false,
            multiline: line_breaks,
            allow_block_plain,
            allow_single_quoted,
        }
    }
}
