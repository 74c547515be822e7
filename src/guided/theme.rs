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
    fn label(&self, prompt: &str) -> String {
        // sam indents labels with a tab and bolds only the words: keep the tab outside the style.
        let (indent, words) = prompt.split_at(prompt.len() - prompt.trim_start().len());
        if self.bold {
            format!(
                "{indent}{}",
                Style::new().bold().force_styling(true).apply_to(words)
            )
        } else {
            prompt.to_string()
        }
    }
}

impl Theme for SamTheme {
    fn format_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        write!(f, "{}: ", self.label(prompt))
    }

    fn format_input_prompt(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        default: Option<&str>,
    ) -> fmt::Result {
        match default {
            Some(default) => write!(f, "{} [{default}]: ", self.label(prompt)),
            None => write!(f, "{}: ", self.label(prompt)),
        }
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
        default: Option<bool>,
    ) -> fmt::Result {
        let choices = match default {
            Some(true) => "[Y/n]",
            Some(false) => "[y/N]",
            None => "[y/n]",
        };
        write!(f, "{} {choices}: ", self.label(prompt))
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
            render(|t, o| t.format_input_prompt(o, "\tStack Name", Some("sam-app"))),
            "\tStack Name [sam-app]: "
        );
        assert_eq!(
            render(|t, o| t.format_confirm_prompt(
                o,
                "\tConfirm changes before deploy",
                Some(false)
            )),
            "\tConfirm changes before deploy [y/N]: "
        );
        assert_eq!(
            render(|t, o| t.format_confirm_prompt(
                o,
                "\t Create managed ECR repositories for all functions?",
                Some(true)
            )),
            "\t Create managed ECR repositories for all functions? [Y/n]: "
        );
        assert_eq!(
            render(|t, o| t.format_password_prompt(o, "\tParameter Secret")),
            "\tParameter Secret: "
        );
    }

    #[test]
    fn bold_keeps_the_tab_outside_the_style() {
        let mut out = String::new();
        SamTheme { bold: true }
            .format_prompt(&mut out, "\tStack Name")
            .unwrap();
        assert!(out.starts_with("\t\u{1b}["), "{out:?}");
    }
}
