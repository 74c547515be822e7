//! Questions at the terminal, with the SAM CLI's (click's) look: `Label [default]: ` and
//! `Label [y/N]: `, labels bold on a colour terminal. Used by guided deploys, the change set
//! confirmation and `samrs delete`.

mod theme;

use anyhow::Context;
use dialoguer::{Confirm, Input, Password};

use theme::{with_choices, with_default, SamTheme};

/// One question at a time, with sam's look.
pub struct Prompter {
    theme: SamTheme,
}

impl Prompter {
    /// `bold`: labels in bold (a colour terminal).
    pub fn new(bold: bool) -> Self {
        Prompter {
            theme: SamTheme { bold },
        }
    }

    pub fn text(&self, label: &str, default: Option<&str>) -> anyhow::Result<String> {
        let input = Input::<String>::with_theme(&self.theme);
        let input = match default {
            Some(default) => input
                .with_prompt(with_default(label, default))
                .default(default.to_string())
                .show_default(false),
            None => input.with_prompt(label).allow_empty(true),
        };
        input
            .interact_text()
            .with_context(|| format!("No answer to '{}'", label.trim()))
    }

    pub fn secret(&self, label: &str) -> anyhow::Result<String> {
        Password::with_theme(&self.theme)
            .with_prompt(label)
            .allow_empty_password(true)
            .interact()
            .with_context(|| format!("No answer to '{}'", label.trim()))
    }

    pub fn confirm(&self, label: &str, default: bool) -> anyhow::Result<bool> {
        Confirm::with_theme(&self.theme)
            .with_prompt(with_choices(label, default))
            .default(default)
            .wait_for_newline(true)
            .interact()
            .with_context(|| format!("No answer to '{}'", label.trim()))
    }
}
