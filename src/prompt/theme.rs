//! The prompt look of the SAM CLI (click): `Label [default]: `, `Label [Y/n]: `, labels in bold,
//! so a guided run reads the same as sam's recorded screens.

use std::fmt;

use console::Style;
use dialoguer::theme::Theme;

/// click's prompt layout, with the label bold on a colour terminal.
pub struct SamTheme {
    pub bold: bool,
}

impl SamTheme {
    /// The label, bold on a colour terminal. Prompts carry their own `[default]` (so that the
    /// answered line reads like click's); only the words before it are bold, as in sam.
    fn label(&self, prompt: &str) -> String {
        if !self.bold {
            return prompt.to_string();
        }
        let (indent, rest) = prompt.split_at(prompt.len() - prompt.trim_start().len());
        let (words, choices) = rest.split_at(rest.find(" [").unwrap_or(rest.len()));
        let bold = Style::new().bold().force_styling(true);
        format!("{indent}{}{choices}", bold.apply_to(words))
    }
}

/// click's prompt text: `Label [default]`.
pub fn with_default(label: &str, default: &str) -> String {
    format!("{label} [{default}]")
}

/// click's confirmation text: `Label [Y/n]` or `Label [y/N]`.
pub fn with_choices(label: &str, default: bool) -> String {
    format!("{label} {}", if default { "[Y/n]" } else { "[y/N]" })
}

impl Theme for SamTheme {
    fn format_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        write!(f, "{}: ", self.label(prompt))
    }

    fn format_input_prompt(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        _default: Option<&str>,
    ) -> fmt::Result {
        write!(f, "{}: ", self.label(prompt))
    }

    fn format_input_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> fmt::Result {
        write!(f, "{}: {sel}", self.label(prompt))
    }

    fn format_confirm_prompt(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        _default: Option<bool>,
    ) -> fmt::Result {
        write!(f, "{}: ", self.label(prompt))
    }

    fn format_confirm_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        selection: Option<bool>,
    ) -> fmt::Result {
        let answer = match selection {
            Some(true) => "y",
            Some(false) => "n",
            None => "",
        };
        write!(f, "{}: {answer}", self.label(prompt))
    }

    fn format_password_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        write!(f, "{}: ", self.label(prompt))
    }

    fn format_password_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
    ) -> fmt::Result {
        write!(f, "{}: ", self.label(prompt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(f: impl Fn(&SamTheme, &mut String) -> fmt::Result) -> String {
        let mut out = String::new();
        f(&SamTheme { bold: false }, &mut out).unwrap();
        out
    }

    #[test]
    fn prompts_read_like_click() {
        assert_eq!(
            render(|t, o| t.format_input_prompt(o, &with_default("\tStack Name", "sam-app"), None)),
            "\tStack Name [sam-app]: "
        );
        assert_eq!(
            render(|t, o| t.format_input_prompt_selection(
                o,
                &with_default("\tStack Name", "sam-app"),
                "app"
            )),
            "\tStack Name [sam-app]: app"
        );
        assert_eq!(
            render(|t, o| t.format_confirm_prompt(
                o,
                &with_choices("\tConfirm changes before deploy", false),
                None
            )),
            "\tConfirm changes before deploy [y/N]: "
        );
        assert_eq!(
            render(|t, o| t.format_confirm_prompt(
                o,
                &with_choices(
                    "\t Create managed ECR repositories for all functions?",
                    true
                ),
                None
            )),
            "\t Create managed ECR repositories for all functions? [Y/n]: "
        );
        assert_eq!(
            render(|t, o| t.format_password_prompt(o, "\tParameter Secret")),
            "\tParameter Secret: "
        );
    }

    #[test]
    fn bold_keeps_the_tab_and_the_default_outside_the_style() {
        let mut out = String::new();
        SamTheme { bold: true }
            .format_prompt(&mut out, "\tStack Name [sam-app]")
            .unwrap();
        assert!(out.starts_with("\t\u{1b}["), "{out:?}");
        assert!(out.ends_with("\u{1b}[0m [sam-app]: "), "{out:?}");
    }
}
