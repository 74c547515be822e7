//! Typed reads of samconfig values. click converts a samconfig value with the option's type and
//! refuses one that does not fit (`confirm_changeset = "maybe"`, `capabilities = 3`); these do the
//! same, with one-line messages naming the key, so a typo never silently becomes the default.

use indexmap::IndexMap;

use super::values::Item;
use super::UsageError;
use crate::config::ConfigValue;

/// The values of one command's samconfig table.
pub type Values = IndexMap<String, ConfigValue>;

/// A string option; `None` when absent or empty. Numbers are read as their text, as click does.
pub fn string(cfg: &Values, key: &str) -> Option<String> {
    cfg.get(key)
        .and_then(ConfigValue::as_string)
        .filter(|s| !s.is_empty())
}

/// A boolean flag with click's spellings; anything else is an error.
pub fn boolean(cfg: &Values, key: &str) -> Result<Option<bool>, UsageError> {
    let Some(value) = cfg.get(key) else {
        return Ok(None);
    };
    value.as_bool().map(Some).ok_or_else(|| {
        UsageError(format!(
            "{key} in samconfig must be true or false, not {}",
            shown(value)
        ))
    })
}

/// A whole number that is at least zero.
pub fn whole_number(cfg: &Values, key: &str) -> Result<Option<u32>, UsageError> {
    let Some(value) = cfg.get(key) else {
        return Ok(None);
    };
    let text = value.as_string().unwrap_or_default();
    text.trim().parse::<u32>().map(Some).map_err(|_| {
        UsageError(format!(
            "{key} in samconfig must be a whole number, not {}",
            shown(value)
        ))
    })
}

/// A list option: a TOML array as is, a string as one item (split later by the option's own
/// rules, which respect quotes). A number or boolean is an error: no list option takes one.
pub fn list(cfg: &Values, key: &str) -> Result<Vec<String>, UsageError> {
    match cfg.get(key) {
        None => Ok(Vec::new()),
        Some(ConfigValue::List(items)) => Ok(items.clone()),
        Some(map @ ConfigValue::Map(_)) => Ok(map.as_list()),
        Some(ConfigValue::String(s)) => Ok(vec![s.clone()]),
        Some(other) => Err(UsageError(format!(
            "{key} in samconfig must be a string or a list of strings, not {}",
            shown(other)
        ))),
    }
}

/// A `Key=Value` option (tags, parameter overrides): strings and array items as text, a table's
/// entries as pairs already split (so a value with spaces stays one value).
pub fn items(cfg: &Values, key: &str) -> Result<Vec<Item>, UsageError> {
    match cfg.get(key) {
        Some(ConfigValue::Map(pairs)) => Ok(pairs
            .iter()
            .map(|(k, v)| Item::Pair(k.clone(), v.clone()))
            .collect()),
        _ => Ok(Item::texts(&list(cfg, key)?)),
    }
}

/// A value as the user wrote it: strings quoted, other scalars bare.
fn shown(value: &ConfigValue) -> String {
    match value {
        ConfigValue::String(s) => format!("{s:?}"),
        ConfigValue::Bool(b) => b.to_string(),
        ConfigValue::List(_) => "a list".to_string(),
        ConfigValue::Map(_) => "a table".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, ConfigValue)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn booleans_take_clicks_spellings_and_refuse_the_rest() {
        let cfg = values(&[
            ("a", ConfigValue::String("yes".into())),
            ("b", ConfigValue::String("maybe".into())),
            ("c", ConfigValue::Int(3)),
        ]);
        assert_eq!(boolean(&cfg, "a"), Ok(Some(true)));
        assert_eq!(boolean(&cfg, "missing"), Ok(None));
        assert_eq!(
            boolean(&cfg, "b").unwrap_err().0,
            "b in samconfig must be true or false, not \"maybe\""
        );
        assert_eq!(
            boolean(&cfg, "c").unwrap_err().0,
            "c in samconfig must be true or false, not 3"
        );
    }

    #[test]
    fn lists_take_strings_and_arrays_only() {
        let cfg = values(&[
            ("caps", ConfigValue::String("CAPABILITY_IAM X".into())),
            ("arr", ConfigValue::List(vec!["a".into()])),
            ("num", ConfigValue::Int(3)),
            ("flag", ConfigValue::Bool(true)),
        ]);
        assert_eq!(list(&cfg, "caps").unwrap(), ["CAPABILITY_IAM X"]);
        assert_eq!(list(&cfg, "arr").unwrap(), ["a"]);
        assert!(list(&cfg, "missing").unwrap().is_empty());
        assert_eq!(
            list(&cfg, "num").unwrap_err().0,
            "num in samconfig must be a string or a list of strings, not 3"
        );
        assert_eq!(
            list(&cfg, "flag").unwrap_err().0,
            "flag in samconfig must be a string or a list of strings, not true"
        );
    }

    #[test]
    fn whole_numbers() {
        let cfg = values(&[
            ("n", ConfigValue::Int(10)),
            ("neg", ConfigValue::Int(-1)),
            ("s", ConfigValue::String("many".into())),
        ]);
        assert_eq!(whole_number(&cfg, "n"), Ok(Some(10)));
        assert_eq!(
            whole_number(&cfg, "neg").unwrap_err().0,
            "neg in samconfig must be a whole number, not -1"
        );
        assert_eq!(
            whole_number(&cfg, "s").unwrap_err().0,
            "s in samconfig must be a whole number, not \"many\""
        );
    }
}
