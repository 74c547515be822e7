//! The template module: everything samrs needs to know about a SAM/CloudFormation template without
//! talking to AWS. It reads YAML or JSON into one `serde_json::Value` shape (short-form tags turned
//! into long form, as CloudFormation reads them), writes that shape back out, and finds the image
//! functions the SAM CLI would give managed ECR repositories, following its rules exactly.

mod functions;
mod globals;
mod intrinsics;
pub mod language_extensions;
mod metadata;
mod parse;
#[cfg(test)]
mod real_world_tests;
mod signing;

use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

pub use functions::{
    image_functions, image_functions_without_uri, image_location, is_ecr_url, repository_entry,
    ImageFunction, ImageLocation,
};
pub use parse::parse_str;
pub use signing::{code_signed_resources, CodeSigned};

/// Why a template could not be read or understood. Each message is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file could not be read at all.
    #[error("cannot read template {}: {source} (check the path, or pass --template-file)", path.display())]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The text is not valid YAML/JSON, or uses something CloudFormation does not accept.
    #[error("{origin}: {}{message}", Position(*line, *column))]
    Syntax {
        /// The file (or other source) the text came from.
        origin: String,
        /// 1-based line of the problem, 0 when unknown.
        line: usize,
        /// 1-based column of the problem, 0 when unknown.
        column: usize,
        /// What is wrong, with a hint where one helps.
        message: String,
    },
    /// The document parsed but is not shaped like a template (for example, no `Resources`).
    #[error("{origin} {problem}")]
    Shape {
        /// The file (or other source) the text came from.
        origin: String,
        /// What is missing or wrong, as a sentence continuing the file name.
        problem: String,
    },
    /// The template is well formed but SAM would reject it (for example, an unsupported global).
    #[error("{origin}: {message}")]
    Invalid {
        /// The file the problem is in.
        origin: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Renders "line L, column C: " when the position is known.
struct Position(usize, usize);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position(0, _) => Ok(()),
            Position(line, 0) => write!(f, "line {line}: "),
            Position(line, column) => write!(f, "line {line}, column {column}: "),
        }
    }
}

/// The syntax a template file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML, possibly with short-form tags.
    Yaml,
    /// JSON.
    Json,
}

/// A template read from disk.
#[derive(Debug, Clone)]
pub struct Template {
    /// Where it was read from (nested templates are found relative to it).
    pub path: PathBuf,
    /// The syntax it was written in.
    pub format: Format,
    /// The parsed document, intrinsics in long form.
    pub value: Value,
}

impl Template {
    /// The language extensions expanded, when they are on and the template uses them, with the
    /// parameter values they were resolved with.
    pub fn expand_language_extensions(
        &self,
        enabled: bool,
        overrides: &[(String, String)],
        region: &str,
    ) -> Result<Option<language_extensions::Expansion>, TemplateError> {
        if !enabled || !language_extensions::uses_language_extensions(&self.value) {
            return Ok(None);
        }
        let values = language_extensions::parameter_values(overrides, region);
        language_extensions::expand(&self.value, &values)
            .map(Some)
            .map_err(|e| self.language_extensions_error(e))
    }

    /// sam's `PackageFailedError` for a template it cannot expand: the file and the reason.
    pub fn language_extensions_error(
        &self,
        error: language_extensions::ExpansionError,
    ) -> TemplateError {
        TemplateError::Invalid {
            origin: self.path.display().to_string(),
            message: format!("cannot expand AWS::LanguageExtensions: {error}"),
        }
    }
}

/// Reads and parses a template file.
pub fn load(path: &Path) -> Result<Template, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let format = if parse::looks_like_json(&text) {
        Format::Json
    } else {
        Format::Yaml
    };
    let origin = path.display().to_string();
    let value = parse_str(&text, &origin)?;
    check_logical_ids(&value, &origin)?;
    check_resources(&value, &origin)?;
    Ok(Template {
        path: path.to_path_buf(),
        format,
        value,
    })
}

/// CloudFormation's rule for the names in a template's sections: letters and digits only, at
/// most 255 of them. Checked before anything is uploaded, so the user hears it first.
fn check_logical_ids(value: &Value, origin: &str) -> Result<(), TemplateError> {
    const MAX: usize = 255;
    for section in [
        "Parameters",
        "Mappings",
        "Conditions",
        "Resources",
        "Outputs",
    ] {
        let Some(entries) = value.get(section).and_then(Value::as_object) else {
            continue;
        };
        for id in entries
            .keys()
            .filter(|id| !is_expanded_by_cloudformation(id))
        {
            let length = id.chars().count();
            let problem = if length > MAX {
                format!(
                    "is {length} characters long; CloudFormation allows at most {MAX}: shorten it"
                )
            } else if let Some(c) = id.chars().find(|c| !c.is_ascii_alphanumeric()) {
                format!("contains {c:?}; CloudFormation allows only letters and digits: rename it")
            } else if id.is_empty() {
                "is empty: give it a name".to_string()
            } else {
                continue;
            };
            let shown: String = id.chars().take(40).collect();
            let ellipsis = if length > 40 { "..." } else { "" };
            return Err(TemplateError::Invalid {
                origin: origin.to_string(),
                message: format!("logical ID '{shown}{ellipsis}' in {section} {problem}"),
            });
        }
    }
    Ok(())
}

/// A section key CloudFormation replaces before it reads the section: `Fn::ForEach::` loops
/// (AWS::LanguageExtensions) expand into valid names, and a `Fn::Transform` entry (an
/// `AWS::Include` snippet) into the entries it includes.
fn is_expanded_by_cloudformation(key: &str) -> bool {
    key.starts_with("Fn::ForEach::") || key == "Fn::Transform"
}

/// What CloudFormation requires of the Resources section itself: at least one resource, each a
/// mapping with a `Type`.
fn check_resources(value: &Value, origin: &str) -> Result<(), TemplateError> {
    let invalid = |message: String| TemplateError::Invalid {
        origin: origin.to_string(),
        message,
    };
    let Some(resources) = value.get("Resources").and_then(Value::as_object) else {
        return Ok(());
    };
    if resources.is_empty() {
        return Err(invalid(
            "the Resources section is empty; CloudFormation needs at least one resource".into(),
        ));
    }
    for (id, resource) in resources {
        if is_expanded_by_cloudformation(id) {
            continue;
        }
        match resource.get("Type") {
            _ if !resource.is_object() => {
                return Err(invalid(format!(
                    "resource {id} is not a mapping; give it a Type (and Properties)"
                )))
            }
            Some(Value::String(_)) => {}
            Some(_) => {
                return Err(invalid(format!(
                    "the Type of resource {id} must be text, such as AWS::Serverless::Function"
                )))
            }
            None => {
                return Err(invalid(format!(
                    "resource {id} has no Type; add one, such as Type: AWS::Serverless::Function"
                )))
            }
        }
    }
    Ok(())
}

/// Writes a template as YAML, intrinsics in long form (which CloudFormation accepts).
pub fn to_yaml(value: &Value) -> String {
    // A JSON value has only maps, lists and scalars, all of which YAML can express.
    serde_yaml::to_string(value).expect("a JSON value always serialises to YAML")
}

/// Writes a template as pretty JSON indented by two spaces.
pub fn to_json(value: &Value) -> String {
    // Serialising a `Value` to a string has no failure path (keys are always strings).
    serde_json::to_string_pretty(value).expect("a JSON value always serialises to JSON")
}

/// What a guided prompt needs to know about one template parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamInfo {
    /// The `Default`, as text; lists are joined with commas.
    pub default: Option<String>,
    /// Whether `NoEcho` is set, so the value must not be shown.
    pub no_echo: bool,
}

/// The template's parameters in the order they are declared.
pub fn parameter_names(value: &Value) -> Vec<(String, ParamInfo)> {
    let Some(parameters) = value.get("Parameters").and_then(Value::as_object) else {
        return Vec::new();
    };
    parameters
        .iter()
        .map(|(name, spec)| {
            let default = spec.get("Default").and_then(scalar_text);
            let no_echo = match spec.get("NoEcho") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
                _ => false,
            };
            (name.clone(), ParamInfo { default, no_echo })
        })
        .collect()
}

/// The text CloudFormation would see for a scalar (or a list of scalars, comma-joined).
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.iter().map(scalar_text).collect();
            parts.map(|p| p.join(","))
        }
        Value::Null | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn load_names_a_missing_file() {
        let err = load(Path::new("/nonexistent/template.yaml")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("cannot read template /nonexistent/template.yaml: "),
            "{text}"
        );
        assert!(matches!(err, TemplateError::Read { .. }));
    }

    #[test]
    fn load_detects_format() {
        let dir = tempfile::tempdir().unwrap();
        let json_path = dir.path().join("t.template");
        std::fs::write(
            &json_path,
            r#"  {"Resources": {"A": {"Type": "AWS::SNS::Topic"}}}"#,
        )
        .unwrap();
        let yaml_path = dir.path().join("t.yaml");
        std::fs::write(&yaml_path, "Resources:\n  A:\n    Type: AWS::SNS::Topic\n").unwrap();
        let json = load(&json_path).unwrap();
        let yaml = load(&yaml_path).unwrap();
        assert_eq!(json.format, Format::Json);
        assert_eq!(yaml.format, Format::Yaml);
        assert_eq!(json.value, yaml.value);
    }

    #[test]
    fn logical_ids_follow_cloudformation() {
        let check = |id: &str| {
            let value = json!({"Resources": {id: {"Type": "AWS::SNS::Topic"}}});
            check_logical_ids(&value, "t.yaml").map_err(|e| e.to_string())
        };
        assert!(check(&"A".repeat(255)).is_ok());
        assert!(check("Fn::ForEach::Topics").is_ok());
        assert!(check("Fn::Transform").is_ok(), "an AWS::Include snippet");
        assert_eq!(
            check(&"A".repeat(256)).unwrap_err(),
            format!("t.yaml: logical ID '{}...' in Resources is 256 characters long; CloudFormation allows at most 255: shorten it", "A".repeat(40))
        );
        assert_eq!(
            check("My-Topic").unwrap_err(),
            "t.yaml: logical ID 'My-Topic' in Resources contains '-'; CloudFormation allows only letters and digits: rename it"
        );
        assert!(check("").unwrap_err().ends_with("is empty: give it a name"));
    }

    #[test]
    fn resources_need_a_type() {
        let check = |resources: Value| {
            check_resources(&json!({ "Resources": resources }), "t.yaml").map_err(|e| e.to_string())
        };
        assert!(check(json!({"A": {"Type": "AWS::SNS::Topic"}})).is_ok());
        assert!(check(json!({
            "A": {"Type": "AWS::SNS::Topic"},
            "Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}
        }))
        .is_ok());
        assert_eq!(
            check(json!({})).unwrap_err(),
            "t.yaml: the Resources section is empty; CloudFormation needs at least one resource"
        );
        assert_eq!(
            check(json!({"A": 5})).unwrap_err(),
            "t.yaml: resource A is not a mapping; give it a Type (and Properties)"
        );
        assert_eq!(
            check(json!({"A": {"Properties": {}}})).unwrap_err(),
            "t.yaml: resource A has no Type; add one, such as Type: AWS::Serverless::Function"
        );
        assert!(check(json!({"A": {"Type": ["x"]}}))
            .unwrap_err()
            .contains("must be text"));
    }

    #[test]
    fn json_output_is_two_space_pretty() {
        let value = json!({"Resources": {"A": {"Type": "AWS::SNS::Topic"}}});
        let expected = "{\n  \"Resources\": {\n    \"A\": {\n      \"Type\": \"AWS::SNS::Topic\"\n    }\n  }\n}";
        assert_eq!(to_json(&value), expected);
    }

    #[test]
    fn yaml_output_keeps_text_that_looks_like_numbers() {
        let value = json!({"Resources": {}, "Account": "012345678901", "Flag": "true", "N": 5});
        let back = parse_str(&to_yaml(&value), "out.yaml").unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn parameters_in_order_with_defaults_and_no_echo() {
        let value = json!({"Parameters": {
            "Stage": {"Type": "String", "Default": "dev"},
            "Secret": {"Type": "String", "NoEcho": true},
            "Size": {"Type": "Number", "Default": 5},
            "Subnets": {"Type": "CommaDelimitedList", "Default": ["a", "b"]},
            "Token": {"Type": "String", "NoEcho": "True"}
        }, "Resources": {}});
        let params = parameter_names(&value);
        let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Stage", "Secret", "Size", "Subnets", "Token"]);
        assert_eq!(
            params[0].1,
            ParamInfo {
                default: Some("dev".into()),
                no_echo: false
            }
        );
        assert_eq!(
            params[1].1,
            ParamInfo {
                default: None,
                no_echo: true
            }
        );
        assert_eq!(params[2].1.default.as_deref(), Some("5"));
        assert_eq!(params[3].1.default.as_deref(), Some("a,b"));
        assert!(params[4].1.no_echo);
    }

    #[test]
    fn real_world_no_echo_parameter() {
        let path = Path::new(
            "/work/shared/real-world/templates/aws-samples__serverless-patterns__eventbridge-webhooks__1-stripe__template.yml",
        );
        let template = load(path).unwrap();
        let params = parameter_names(&template.value);
        assert!(params.iter().any(|(_, info)| info.no_echo), "{params:?}");
    }
}
