//! Property tests of the two parsers every user input goes through: the template parser
//! (`samrs::template::parse_str`, then the image-function walk) and the samconfig reader
//! (`samrs::config::parse_str`, then the settings merge). Whatever the text, each must return Ok
//! or an error whose message is one line, and never panic. Inputs are token soups (the
//! characters and words YAML, JSON, TOML and CloudFormation give meaning to) and random edits of
//! valid documents, which reach deeper than random bytes. The case count is small for CI; a
//! longer session is `PROPTEST_CASES=200000 cargo test --test it parser_properties`.

use std::path::Path;

use proptest::prelude::*;
use samrs::cli::DeployArgs;
use samrs::template::{Format, Template};

/// Pieces of templates: YAML and JSON syntax, short-form tags, sections and odd scalars.
const TEMPLATE_TOKENS: &[&str] = &[
    "Resources:",
    "Parameters:",
    "Outputs:",
    "Globals:",
    "Conditions:",
    "Mappings:",
    "Transform: AWS::Serverless-2016-10-31",
    "Function:",
    "Fn:",
    "Child:",
    "Topic:",
    "Type:",
    " AWS::Serverless::Function",
    " AWS::Lambda::Function",
    " AWS::CloudFormation::Stack",
    " AWS::Serverless::Application",
    "Properties:",
    "PackageType: Image",
    "ImageUri:",
    " app:latest",
    " 123456789012.dkr.ecr.us-east-1.amazonaws.com/r:v1",
    "Metadata:",
    "DockerContext: .",
    "DockerTag: v1",
    "Location: child.yaml",
    "TemplateURL: ./c.yaml",
    "CodeUri: src/",
    "Architectures: [arm64]",
    "Default: x",
    "Value:",
    "!Ref",
    "!GetAtt",
    "!Sub",
    "!If",
    "!Join",
    "!Select",
    "!Split",
    "!FindInMap",
    "!Condition",
    "!Equals",
    "!Not",
    "!GetAZs",
    "!Base64",
    "!Cidr",
    "!ImportValue",
    "!Transform",
    "!Bogus",
    "!!str",
    "!!binary",
    "!!map",
    "!<tag:x>",
    "Fn::GetAtt",
    "Fn::Sub",
    "Ref",
    "Fn::ForEach::X",
    "${AWS::Region}",
    "${Stage}",
    "Stage",
    "A.Arn",
    ".",
    "..",
    "\n",
    "\n  ",
    "\n    ",
    "\n      ",
    "\t",
    " ",
    ": ",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    "\"",
    "\\",
    "#",
    "&a ",
    "*a",
    "<<: ",
    "<<: *a",
    "---",
    "...",
    "|",
    ">",
    "?",
    "~",
    "null",
    "true",
    "no",
    "0",
    "-1",
    "1e999",
    "1.5",
    "0x1F",
    ".inf",
    "012345678901",
    "%YAML 1.2",
    "\u{feff}",
    "é",
    "\u{1}",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "{\"Resources\": {",
    "\"Type\": \"X\"",
    "}}",
];

/// Pieces of samconfig files, TOML and YAML.
const CONFIG_TOKENS: &[&str] = &[
    "version = 0.1",
    "version: 0.1",
    "version = \"0.1\"",
    "version = true",
    "[default]",
    "[default.deploy]",
    "[default.deploy.parameters]",
    "[default.global.parameters]",
    "[[default.deploy.parameters]]",
    "[prod.deploy.parameters]",
    "default:",
    "deploy:",
    "parameters:",
    "global:",
    "stack_name",
    "region",
    "resolve_s3",
    "confirm_changeset",
    "capabilities",
    "parameter_overrides",
    "image_repositories",
    "image_repository",
    "resolve_image_repos",
    "s3_bucket",
    "tags",
    "image_repos_keep_last",
    "fail_on_empty_changeset",
    "template_file",
    " = ",
    ": ",
    "=",
    "\"app\"",
    "\"my_app\"",
    "\"\"",
    "'x'",
    "\"\"\"",
    "true",
    "false",
    "\"maybe\"",
    "3",
    "-1",
    "0.1",
    "1979-05-27",
    "inf",
    "nan",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"Fn=123456789012.dkr.ecr.us-east-1.amazonaws.com/r\"",
    "\"Fn\"",
    "\"K=\\\"v\\\" K2=v2\"",
    "\"CAPABILITY_IAM CAPABILITY_AUTO_EXPAND\"",
    "\n",
    "\n  ",
    "\n    ",
    "\t",
    " ",
    "#",
    "- ",
    "&a ",
    "*a",
    "<<: *a",
    "~",
    "null",
    "\\",
    "é",
    "\u{0}",
];

/// Valid documents the edits start from.
const TEMPLATE_SEEDS: &[&str] = &[
    "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nParameters:\n  Stage:\n    Type: String\n    Default: dev\nGlobals:\n  Function:\n    Timeout: 10\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageUri: !Sub 'app:${Stage}'\n    Metadata:\n      DockerContext: ./app\n      DockerTag: v1\n  Child:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child.yaml\nOutputs:\n  Arn:\n    Value: !GetAtt Fn.Arn\n",
    "{\n  \"Resources\": {\n    \"Fn\": {\n      \"Type\": \"AWS::Lambda::Function\",\n      \"Properties\": {\"PackageType\": \"Image\", \"Code\": {\"ImageUri\": {\"Fn::Sub\": \"${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/r:v1\"}}}\n    }\n  },\n  \"Outputs\": {\"O\": {\"Value\": {\"Ref\": \"Fn\"}}}\n}\n",
];

const CONFIG_SEEDS: &[&str] = &[
    "version = 0.1\n[default.global.parameters]\nregion = \"eu-west-1\"\n[default.deploy.parameters]\nstack_name = \"app\"\nresolve_s3 = true\ncapabilities = \"CAPABILITY_IAM\"\nparameter_overrides = \"Stage=\\\"dev\\\"\"\nimage_repositories = [\"Fn=123456789012.dkr.ecr.us-east-1.amazonaws.com/r\"]\nconfirm_changeset = true\n",
    "version: 0.1\nbase: &base\n  region: eu-west-1\ndefault:\n  deploy:\n    parameters:\n      <<: *base\n      stack_name: app\n      parameter_overrides:\n        Stage: dev\n      tags: team=core\n",
];

fn soup(tokens: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(tokens), 0..80).prop_map(|parts| parts.concat())
}

/// One edit of a document: delete, insert a token, or repeat a slice.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Repeat(usize, usize),
}

fn edits(tokens: &'static [&'static str]) -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), prop::sample::select(tokens)).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), 1..40usize).prop_map(|(at, n)| Edit::Repeat(at, n)),
    ];
    prop::collection::vec(edit, 1..6)
}

/// Applies edits at character boundaries, so the text stays a `str`.
fn edited(seed: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for edit in edits {
        let at = |i: usize| {
            if chars.is_empty() {
                0
            } else {
                i % (chars.len() + 1)
            }
        };
        match *edit {
            Edit::Delete(i, n) => {
                let start = at(i);
                let end = (start + n).min(chars.len());
                chars.drain(start..end);
            }
            Edit::Insert(i, token) => {
                let start = at(i);
                chars.splice(start..start, token.chars());
            }
            Edit::Repeat(i, n) => {
                let start = at(i);
                let end = (start + n).min(chars.len());
                let slice: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, slice);
            }
        }
    }
    chars.into_iter().collect()
}

fn template_input() -> impl Strategy<Value = String> {
    prop_oneof![
        soup(TEMPLATE_TOKENS),
        any::<String>(),
        (prop::sample::select(TEMPLATE_SEEDS), edits(TEMPLATE_TOKENS))
            .prop_map(|(seed, e)| edited(seed, &e)),
    ]
}

fn config_input() -> impl Strategy<Value = String> {
    prop_oneof![
        soup(CONFIG_TOKENS),
        any::<String>(),
        (prop::sample::select(CONFIG_SEEDS), edits(CONFIG_TOKENS))
            .prop_map(|(seed, e)| edited(seed, &e)),
    ]
}

fn assert_one_line(what: &str, message: &str, input: &str) {
    assert!(
        !message.contains('\n') && !message.contains('\r') && !message.is_empty(),
        "{what} error is not one line: {message:?}\ninput: {input:?}"
    );
}

/// The template parser, then what a deploy does next with a parsed template.
fn check_template(text: &str) {
    match samrs::template::parse_str(text, "template.yaml") {
        Ok(value) => {
            let template = Template {
                path: "/nonexistent/template.yaml".into(),
                format: Format::Yaml,
                value,
            };
            if let Err(e) = samrs::template::image_functions(&template) {
                assert_one_line("image_functions", &e.to_string(), text);
            }
            samrs::template::image_functions_without_uri(&template.value);
            samrs::template::parameter_names(&template.value);
        }
        Err(e) => assert_one_line("parse_str", &e.to_string(), text),
    }
}

/// The samconfig reader in both syntaxes, then the merge under (absent) flags.
fn check_config(text: &str) {
    for name in ["samconfig.toml", "samconfig.yaml"] {
        match samrs::config::parse_str(Path::new(name), text) {
            Ok(config) => {
                let values = config.parameters("default", "deploy");
                let merged = samrs::settings::merge(
                    &DeployArgs::default(),
                    &values,
                    Path::new("/work"),
                    None,
                );
                if let Err(e) = merged {
                    assert_one_line("settings::merge", &e.to_string(), text);
                }
            }
            Err(e) => assert_one_line("config::parse_str", &e.to_string(), text),
        }
    }
}

/// Cases per property unless PROPTEST_CASES says otherwise: about a second each in a debug build.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_template_text_parses_or_fails_in_one_line(text in template_input()) {
        check_template(&text);
    }

    #[test]
    fn any_samconfig_text_parses_or_fails_in_one_line(text in config_input()) {
        check_config(&text);
    }
}
