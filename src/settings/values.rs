//! Parsing of the multi-value options the SAM CLI accepts in several spellings (`--tags`,
//! list options, `--metadata`), from the command line or from samconfig; the quoting rules shared
//! with `--parameter-overrides` ([`super::overrides`]).

use super::{Refused, UsageError};

/// Splits on spaces outside double or single quotes; a backslash escapes the next character.
/// Quotes are kept (callers unquote the pieces they extract), as sam's regexes see them.
pub fn split_quoted(text: &str) -> Vec<String> {
    split_outside_quotes(text, char::is_whitespace)
}

/// Splits where `is_separator` holds outside double or single quotes (a backslash escapes the
/// next character); quotes are kept and empty pieces dropped.
fn split_outside_quotes(text: &str, is_separator: impl Fn(char) -> bool) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                current.extend(chars.next());
            }
            '"' | '\'' if quote == Some(c) => {
                quote = None;
                current.push(c);
            }
            '"' | '\'' if quote.is_none() => {
                quote = Some(c);
                current.push(c);
            }
            c if is_separator(c) && quote.is_none() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// sam's `_unquote_wrapped_quotes`: strips one pair of surrounding quotes, then un-escapes
/// `\ `, `\"` and `\'`.
pub fn unquote(text: &str) -> String {
    let inner = ['"', '\'']
        .iter()
        .find_map(|q| {
            (text.len() >= 2 && text.starts_with(*q) && text.ends_with(*q))
                .then(|| &text[1..text.len() - 1])
        })
        .unwrap_or(text);
    inner
        .replace("\\ ", " ")
        .replace("\\\"", "\"")
        .replace("\\'", "'")
}

/// One value of a `Key=Value` option: text as typed (parsed by the option's rules) or a pair
/// that is already split (a samconfig table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Text(String),
    Pair(String, String),
}

impl Item {
    /// Command-line values, as typed.
    pub fn texts(values: &[String]) -> Vec<Item> {
        values.iter().map(|v| Item::Text(v.clone())).collect()
    }
}

/// Parses `--tags` / `tags` into ordered Key=Value pairs, as sam's `CfnTags`: a value with one
/// `=` is one tag (its value may hold spaces), otherwise space-separated `K=V` words.
pub fn parse_tags(items: &[Item]) -> Result<Vec<(String, String)>, UsageError> {
    let mut tags: Vec<(String, String)> = Vec::new();
    let mut add = |key: &str, value: &str| {
        let (key, value) = (unquote(key), unquote(value));
        match tags.iter_mut().find(|(k, _)| *k == key) {
            Some(existing) => existing.1 = value,
            None => tags.push((key, value)),
        }
    };
    for item in items {
        let text = match item {
            Item::Pair(key, value) => {
                add(key, value);
                continue;
            }
            Item::Text(text) => text,
        };
        if let (1, Some((key, value))) = (text.matches('=').count(), text.split_once('=')) {
            add(key, value);
            continue;
        }
        for token in split_quoted(text) {
            let (key, value) = token.split_once('=').ok_or_else(|| {
                UsageError(format!(
                    "Invalid value for '--tags': {token} is not in valid format. It must look like 'KeyName1=string KeyName2=string'"
                ))
            })?;
            add(key, value);
        }
    }
    Ok(tags)
}

/// Parses `--metadata` as sam's `CfnMetadataType`: a flat JSON object, or `K=V,K2=V2` (commas
/// inside quotes kept). Values become strings, as S3 object metadata is.
pub fn parse_metadata(text: &str) -> Result<Vec<(String, String)>, UsageError> {
    let invalid = || {
        UsageError(format!(
            "Invalid value for '--metadata': {text} is not in valid format. It must look something like 'KeyName1=string,KeyName2=string or {{\"string\":\"string\"}}'"
        ))
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        let object = json.as_object().ok_or_else(invalid)?;
        return object
            .iter()
            .map(|(key, value)| match value {
                serde_json::Value::String(s) => Ok((key.clone(), s.clone())),
                serde_json::Value::Object(_) | serde_json::Value::Array(_) => Err(invalid()),
                scalar => Ok((key.clone(), scalar.to_string())),
            })
            .collect();
    }
    let mut pairs = Vec::new();
    for piece in split_outside_quotes(text, |c| c == ',') {
        let (key, value) = piece.split_once('=').ok_or_else(invalid)?;
        if key.trim().is_empty() {
            return Err(invalid());
        }
        pairs.push((unquote(key.trim()), unquote(value)));
    }
    Ok(pairs)
}

/// CloudFormation's rule for stack names, checked before anything reaches AWS: up to 128
/// characters, a letter first, then letters, digits and hyphens. Refused with exit status 1,
/// as sam exits when CloudFormation refuses the name.
pub fn check_stack_name(name: &str) -> Result<(), Refused> {
    const MAX: usize = 128;
    let length = name.chars().count();
    let problem = if length > MAX {
        format!("is {length} characters long; CloudFormation allows at most {MAX}")
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        "must start with a letter".to_string()
    } else if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
    {
        format!("contains {c:?}; only letters, digits and hyphens are allowed")
    } else {
        return Ok(());
    };
    let shown: String = name.chars().take(40).collect();
    let ellipsis = if length > 40 { "..." } else { "" };
    Err(Refused(format!(
        "Invalid stack name '{shown}{ellipsis}': it {problem}; change --stack-name (or stack_name in samconfig)"
    )))
}

/// Splits list options (capabilities, notification ARNs) given once or repeated, separated by
/// spaces or commas (sam splits on spaces only and sends `A,B` to CloudFormation as one invalid
/// value; neither a capability nor an SNS topic ARN can contain a comma).
pub fn split_list(items: &[String]) -> Vec<String> {
    items
        .iter()
        .flat_map(|i| i.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn metadata_in_both_of_sams_forms() {
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            parse_metadata("team=core,owner=\"a, b\"").unwrap(),
            [pair("team", "core"), pair("owner", "a, b")]
        );
        assert_eq!(
            parse_metadata(r#"{"team": "core", "n": 3}"#).unwrap(),
            [pair("team", "core"), pair("n", "3")]
        );
        assert!(parse_metadata("").unwrap().is_empty());
        for bad in [r#"{"a": {"b": 1}}"#, "[1]", "novalue", "=v"] {
            let e = parse_metadata(bad).unwrap_err().0;
            assert!(e.starts_with("Invalid value for '--metadata'"), "{e}");
        }
    }

    #[test]
    fn malformed_tags_are_usage_errors() {
        let e = parse_tags(&Item::texts(&strings(&["novalue"]))).unwrap_err();
        assert!(e.0.contains("'--tags'"));
    }

    #[test]
    fn stack_names_follow_cloudformation() {
        assert!(check_stack_name("sam-app").is_ok());
        assert!(check_stack_name(&format!("a{}", "b".repeat(127))).is_ok());
        assert_eq!(
            check_stack_name(&format!("a{}", "b".repeat(128))).unwrap_err().0,
            format!("Invalid stack name 'a{}...': it is 129 characters long; CloudFormation allows at most 128; change --stack-name (or stack_name in samconfig)", "b".repeat(39))
        );
        assert_eq!(
            check_stack_name("1app").unwrap_err().0,
            "Invalid stack name '1app': it must start with a letter; change --stack-name (or stack_name in samconfig)"
        );
        assert_eq!(
            check_stack_name("my_app").unwrap_err().0,
            "Invalid stack name 'my_app': it contains '_'; only letters, digits and hyphens are allowed; change --stack-name (or stack_name in samconfig)"
        );
        assert!(check_stack_name("").is_err());
    }

    #[test]
    fn tags_and_lists() {
        let tags = parse_tags(&Item::texts(&strings(&[
            r#"team=core "cost center"="a b""#,
            "env=prod",
            "Name=one tag with spaces",
        ])))
        .unwrap();
        assert_eq!(
            tags,
            [
                ("team", "core"),
                ("cost center", "a b"),
                ("env", "prod"),
                ("Name", "one tag with spaces")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let pairs = parse_tags(&[Item::Pair("k".into(), "v w".into())]).unwrap();
        assert_eq!(pairs, [("k".to_string(), "v w".to_string())]);
        assert_eq!(
            split_list(&strings(&[
                "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND",
                "X,Y",
                "Z, W,"
            ])),
            [
                "CAPABILITY_IAM",
                "CAPABILITY_AUTO_EXPAND",
                "X",
                "Y",
                "Z",
                "W"
            ]
        );
    }
}
