//! `--on-failure`: what a failed deploy of the main stack leaves, in sam's words (what samrs does
//! with it is [`crate::plan::failure`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `--on-failure`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OnFailure {
    #[default]
    Rollback,
    Delete,
    DoNothing,
}

impl FromStr for OnFailure {
    type Err = String;

    /// sam's choices, case-sensitive as click's `Choice`, with click's message.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "ROLLBACK" => Ok(OnFailure::Rollback),
            "DELETE" => Ok(OnFailure::Delete),
            "DO_NOTHING" => Ok(OnFailure::DoNothing),
            other => Err(format!(
                "Invalid value for '--on-failure': '{other}' is not one of 'ROLLBACK', 'DELETE', 'DO_NOTHING'."
            )),
        }
    }
}

impl fmt::Display for OnFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnFailure::Rollback => "ROLLBACK",
            OnFailure::Delete => "DELETE",
            OnFailure::DoNothing => "DO_NOTHING",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sams_choices_parse_and_others_get_clicks_message() {
        assert_eq!("DELETE".parse(), Ok(OnFailure::Delete));
        assert_eq!("DO_NOTHING".parse(), Ok(OnFailure::DoNothing));
        assert_eq!("ROLLBACK".parse(), Ok(OnFailure::Rollback));
        assert_eq!(
            "delete".parse::<OnFailure>().unwrap_err(),
            "Invalid value for '--on-failure': 'delete' is not one of 'ROLLBACK', 'DELETE', 'DO_NOTHING'."
        );
        assert_eq!(OnFailure::DoNothing.to_string(), "DO_NOTHING");
    }
}
