//! Parsing of the multi-value options the SAM CLI accepts in several spellings:
//! `--parameter-overrides` (`K=V` or `ParameterKey=K,ParameterValue=V`, quoted values) and
//! `--tags` (`K=V`), from the command line or from a samconfig string.

use super::UsageError;

/// Splits on spaces outside double or single quotes; a backslash escapes the next character.
/// Quotes are kept (callers unquote the pieces they extract), as sam's regexes see them.
pub fn split_quoted(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '"' | '\'' if quote == Some(c) => {
                quote = None;
                current.push(c);
            }
            '"' | '\'' if quote.is_none() => {
                quote = Some(c);
                current.push(c);
            }
            c if c.is_whitespace() && quote.is_none() => {
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

/// sam's `_unquote`: strips one pair of surrounding quotes, then un-escapes `\"` and `\ `.
pub fn unquote(text: &str) -> String {
    let inner = ['"', '\'']
        .iter()
        .find_map(|q| {
            (text.len() >= 2 && text.starts_with(*q) && text.ends_with(*q))
                .then(|| &text[1..text.len() - 1])
        })
        .unwrap_or(text);
    inner.replace("\\\"", "\"").replace("\\ ", " ")
}

/// Parses parameter overrides in both of sam's forms. Later keys win, as in sam's dict.
pub fn parse_parameter_overrides(items: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for token in items.iter().flat_map(|i| split_quoted(i)) {
        let (key, value) = if let Some(rest) = token.strip_prefix("ParameterKey=") {
            let (key, value) = rest.split_once(",ParameterValue=").ok_or_else(|| {
                UsageError(format!(
                    "Invalid value for '--parameter-overrides': {token} is not in valid format. It must look like 'ParameterKey=KeyPairName,ParameterValue=MyKey ParameterKey=InstanceType,ParameterValue=t1.micro' or 'KeyPairName=MyKey InstanceType=t1.micro'"
                ))
            })?;
            (key, value)
        } else {
            token.split_once('=').ok_or_else(|| {
                UsageError(format!(
                    "Invalid value for '--parameter-overrides': {token} is not in valid format. It must look like 'ParameterKey=KeyPairName,ParameterValue=MyKey ParameterKey=InstanceType,ParameterValue=t1.micro' or 'KeyPairName=MyKey InstanceType=t1.micro'"
                ))
            })?
        };
        let key = unquote(key);
        let value = unquote(value);
        if let Some(existing) = pairs.iter_mut().find(|(k, _)| *k == key) {
            existing.1 = value;
        } else {
            pairs.push((key, value));
        }
    }
    Ok(pairs)
}

/// Parses `--tags` / `tags` into ordered Key=Value pairs.
pub fn parse_tags(items: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for token in items.iter().flat_map(|i| split_quoted(i)) {
        let (key, value) = token.split_once('=').ok_or_else(|| {
            UsageError(format!(
                "Invalid value for '--tags': {token} is not in valid format. It must look like 'KeyName1=string KeyName2=string'"
            ))
        })?;
        let (key, value) = (unquote(key), unquote(value));
        if let Some(existing) = tags.iter_mut().find(|(k, _)| *k == key) {
            existing.1 = value;
        } else {
            tags.push((key, value));
        }
    }
    Ok(tags)
}

/// CloudFormation's rule for stack names, checked before anything reaches AWS: up to 128
/// characters, a letter first, then letters, digits and hyphens.
pub fn check_stack_name(name: &str) -> Result<(), UsageError> {
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
    Err(UsageError(format!(
        "Invalid stack name '{shown}{ellipsis}': it {problem}; change --stack-name (or stack_name in samconfig)"
    )))
}

/// Splits space-separated list options (capabilities, notification ARNs) given once or repeated.
pub fn split_list(items: &[String]) -> Vec<String> {
    items
        .iter()
        .flat_map(|i| i.split_whitespace())
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
    fn both_override_forms_and_quotes() {
        let got = parse_parameter_overrides(&strings(&[
            "ParameterKey=KeyPairName,ParameterValue=MyKey ParameterKey=InstanceType,ParameterValue=t1.micro",
            r#"Stage="dev" Name="a b" Empty="""#,
        ]))
        .unwrap();
        assert_eq!(
            got,
            [
                ("KeyPairName", "MyKey"),
                ("InstanceType", "t1.micro"),
                ("Stage", "dev"),
                ("Name", "a b"),
                ("Empty", "")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn samconfig_escaped_quotes_and_later_wins() {
        let got = parse_parameter_overrides(&strings(&[r#"Msg="say \"hi\"" A=1 A=2"#])).unwrap();
        assert_eq!(got[0], ("Msg".into(), "say \"hi\"".into()));
        assert_eq!(got[1], ("A".into(), "2".into()));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn values_may_contain_equals_and_commas() {
        let got = parse_parameter_overrides(&strings(&["Url=https://x/?a=b,c"])).unwrap();
        assert_eq!(got, [("Url".to_string(), "https://x/?a=b,c".to_string())]);
    }

    #[test]
    fn malformed_overrides_and_tags_are_usage_errors() {
        let e = parse_parameter_overrides(&strings(&["NoEquals"])).unwrap_err();
        assert!(e
            .0
            .starts_with("Invalid value for '--parameter-overrides': NoEquals"));
        let e = parse_tags(&strings(&["novalue"])).unwrap_err();
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
        let tags = parse_tags(&strings(&[r#"team=core "cost center"="a b""#, "env=prod"])).unwrap();
        assert_eq!(
            tags,
            [("team", "core"), ("cost center", "a b"), ("env", "prod")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(
            split_list(&strings(&["CAPABILITY_IAM CAPABILITY_AUTO_EXPAND", "X"])),
            ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND", "X"]
        );
    }
}
