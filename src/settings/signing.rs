//! `--signing-profiles`: the AWS Signer profile of each function and layer whose zip is signed.
//! The option's format is sam's: `Fn=ProfileName:ProfileOwner Layer=ProfileName`, values
//! optionally quoted.

use std::sync::OnceLock;

use indexmap::IndexMap;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// The signing profile of one function or layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningProfile {
    pub profile_name: String,
    /// The account owning the profile; empty for the caller's own (sam's `profile_owner`).
    pub profile_owner: String,
}

/// Signing profiles by function or layer logical id, in the order given.
pub type SigningProfiles = IndexMap<String, SigningProfile>;

/// sam's `SigningProfilesOptionType` pattern: ` Name=value` pairs, the value quoted or not.
fn pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r#"(?: )([A-Za-z0-9"]+)=("(?:\\.|[^"\\]+)*"|(?:\\.|[^ "\\]+)+)"#)
            .expect("the signing profiles pattern is valid")
    })
}

/// Parses `--signing-profiles` / `signing_profiles` items with sam's rules and messages (the
/// text after click's "Invalid value for '--signing-profiles': ").
pub fn parse_signing_profiles(items: &[String]) -> Result<SigningProfiles, String> {
    let mut profiles = SigningProfiles::new();
    for item in items.iter().filter(|i| !i.trim().is_empty()) {
        let text = format!(" {}", item.trim());
        let mut found = false;
        for captures in pattern().captures_iter(&text) {
            found = true;
            let value = super::values::unquote(&captures[2]);
            let (name, owner) = match value.split(':').collect::<Vec<_>>()[..] {
                [name] => (name.to_string(), String::new()),
                [name, owner] => (name.to_string(), owner.to_string()),
                _ => (String::new(), String::new()),
            };
            if name.is_empty() {
                return Err("Signer profile option has invalid format, it should look like this MyFunction=MySigningProfile or MyFunction=MySigningProfile:MySigningProfileOwner".into());
            }
            profiles.insert(
                super::values::unquote(&captures[1]),
                SigningProfile {
                    profile_name: name,
                    profile_owner: owner,
                },
            );
        }
        if !found {
            return Err(format!(
                "('{item}',) is not a valid code sign config, it should look like this 'MyFunction=SigningProfile'"
            ));
        }
    }
    Ok(profiles)
}

/// The samconfig value sam's guided deploy saves: `Fn="name:owner" Layer="name"`.
pub fn format_signing_profiles(profiles: &SigningProfiles) -> String {
    profiles
        .iter()
        .map(|(resource, profile)| {
            let value = if profile.profile_owner.is_empty() {
                profile.profile_name.clone()
            } else {
                format!("{}:{}", profile.profile_name, profile.profile_owner)
            };
            format!("{resource}=\"{}\"", value.replace('"', "\\\""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn profile(name: &str, owner: &str) -> SigningProfile {
        SigningProfile {
            profile_name: name.into(),
            profile_owner: owner.into(),
        }
    }

    #[test]
    fn sams_forms_parse() {
        let got = parse_signing_profiles(&strings(&[
            r#"HelloFunction="MyProfile:123456789012" MyLayer=LayerProfile"#,
            "Other=Plain",
        ]))
        .unwrap();
        assert_eq!(got["HelloFunction"], profile("MyProfile", "123456789012"));
        assert_eq!(got["MyLayer"], profile("LayerProfile", ""));
        assert_eq!(got["Other"], profile("Plain", ""));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            ["HelloFunction", "MyLayer", "Other"]
        );
        assert!(parse_signing_profiles(&strings(&[""])).unwrap().is_empty());
    }

    #[test]
    fn malformed_profiles_get_sams_messages() {
        assert_eq!(
            parse_signing_profiles(&strings(&["nothing"])).unwrap_err(),
            "('nothing',) is not a valid code sign config, it should look like this 'MyFunction=SigningProfile'"
        );
        assert!(parse_signing_profiles(&strings(&["Fn=a:b:c"]))
            .unwrap_err()
            .starts_with("Signer profile option has invalid format"));
        assert!(parse_signing_profiles(&strings(&["Fn=:owner"]))
            .unwrap_err()
            .starts_with("Signer profile option has invalid format"));
    }

    #[test]
    fn saved_form_reads_back() {
        let mut profiles = SigningProfiles::new();
        profiles.insert("Fn".into(), profile("P", "123456789012"));
        profiles.insert("Layer".into(), profile("L", ""));
        let text = format_signing_profiles(&profiles);
        assert_eq!(text, r#"Fn="P:123456789012" Layer="L""#);
        assert_eq!(parse_signing_profiles(&[text]).unwrap(), profiles);
    }
}
