//! Finds the image functions the SAM CLI would give managed ECR repositories. This follows
//! `SamLocalStackProvider.get_stacks` and `SamFunctionProvider._extract_functions` in aws-sam-cli:
//! the root stack first, then local nested stacks depth-first in resource order; `Globals` and
//! CDK asset metadata applied; functions whose `ImageUri` already is an ECR image and that have no
//! `Metadata.DockerContext` left out, since SAM neither builds them nor creates repositories.

use indexmap::IndexMap;
use regex::Regex;
use serde_json::{Map, Value};
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use super::intrinsics::{parameter_values, ParameterValues, Resolver};
use super::metadata::{normalize_cdk_asset, resource_id, truthy};
use super::{globals, Template, TemplateError};

const SERVERLESS_FUNCTION: &str = "AWS::Serverless::Function";
const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";
const SERVERLESS_APPLICATION: &str = "AWS::Serverless::Application";
pub(super) const CLOUDFORMATION_STACK: &str = "AWS::CloudFormation::Stack";

/// Nested stacks deeper than this are taken to be a template that includes itself.
const MAX_NESTING: usize = 32;

/// `samcli/lib/package/ecr_utils.py` `ECR_URL`, matched at the start of the string.
static ECR_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:(?:[a-zA-Z0-9][\w-]*)\.dkr\.ecr\.(?:[a-zA-Z0-9][\w-]*)\.amazonaws\.com(\.cn)?",
        r"|localhost(?::\d{1,5})?|127\.0\.0\.1(?::\d{1,5})?)/",
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
    ))
    .expect("the ECR URL pattern is a valid regex")
});

/// An image function found in a template tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFunction {
    /// Stack ids and the function id joined by `/` (`Child/Fn`); the key SAM uses for repositories.
    /// For CDK templates the ids are the construct ids from `aws:cdk:path`.
    pub full_path: String,
    /// The function's logical ID in its own template.
    pub logical_id: String,
    /// `ImageUri` (`Code.ImageUri` for `AWS::Lambda::Function`) after local resolution; `None`
    /// when absent, empty or not resolvable without a deployed stack.
    pub image_uri: Option<String>,
    /// `Metadata.DockerTag`, resolved.
    pub docker_tag: Option<String>,
    /// `Metadata.DockerContext` (or the CDK asset path), resolved.
    pub docker_context: Option<String>,
    /// `Architectures` after Globals, `["x86_64"]` when unset or unresolvable.
    pub architectures: Vec<String>,
    /// The template file the function is defined in.
    pub template_path: PathBuf,
}

impl ImageFunction {
    /// Where a pushed image of this function goes in the templates.
    pub fn location(&self) -> ImageLocation {
        image_location(&self.template_path, &self.logical_id)
    }
}

/// Where a pushed image goes in the templates: the template file and the function's logical id.
pub type ImageLocation = (PathBuf, String);

/// The key of a function in a template file, the same however the path was spelled.
pub fn image_location(template_path: &Path, logical_id: &str) -> ImageLocation {
    let path = std::fs::canonicalize(template_path).unwrap_or_else(|_| template_path.to_path_buf());
    (path, logical_id.to_string())
}

/// The entry of a function → repository URI mapping (`--image-repositories`) for the function
/// at `full_path`, among `functions` (every function's full path): by full path, or for a nested
/// function by its logical id when that id is not itself another function's full path.
pub fn repository_entry<'a, S: AsRef<str>>(
    mapping: &'a IndexMap<String, String>,
    functions: &[S],
    full_path: &str,
) -> Option<(&'a str, &'a String)> {
    let by_key = |key: &str| mapping.get_key_value(key).map(|(k, v)| (k.as_str(), v));
    by_key(full_path).or_else(|| {
        let (_, logical_id) = full_path.rsplit_once('/')?;
        if functions.iter().any(|f| f.as_ref() == logical_id) {
            None
        } else {
            by_key(logical_id)
        }
    })
}

/// Whether `s` starts with an ECR (or local registry) image reference, exactly as SAM's `is_ecr_url`.
pub fn is_ecr_url(s: &str) -> bool {
    ECR_URL.is_match(s)
}

/// The logical IDs of the template's image functions that have no `ImageUri` at all (after
/// Globals): `sam build` writes one, so such a template has not been built, and there is
/// nothing to deploy. Only the template's own resources are checked, not nested stacks.
pub fn image_functions_without_uri(template: &Value) -> Vec<String> {
    let globals = template
        .pointer("/Globals/Function")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, resource)| {
            let kind = resource.get("Type").and_then(Value::as_str);
            let properties = match kind {
                Some(SERVERLESS_FUNCTION) => globals::merge_into(&globals, resource),
                Some(LAMBDA_FUNCTION) => resource.get("Properties").cloned().unwrap_or_default(),
                _ => return false,
            };
            let uri = match kind {
                Some(LAMBDA_FUNCTION) => properties.pointer("/Code/ImageUri"),
                _ => properties.get("ImageUri"),
            };
            properties.get("PackageType").and_then(Value::as_str) == Some("Image")
                && uri.is_none_or(|u| u.is_null() || u.as_str() == Some(""))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The image functions of `root` and its local nested stacks, in the order SAM lists them.
pub fn image_functions(root: &Template) -> Result<Vec<ImageFunction>, TemplateError> {
    let mut found = Vec::new();
    let stack = Stack {
        path: root.path.clone(),
        stack_path: String::new(),
        parameters: ParameterValues::new(),
    };
    walk(&stack, &root.value, 0, &mut found)?;
    Ok(found)
}

/// One stack in the tree: its file, its path of stack ids, and the parameters its parent passes.
struct Stack {
    path: PathBuf,
    stack_path: String,
    parameters: ParameterValues,
}

fn walk(
    stack: &Stack,
    template: &Value,
    depth: usize,
    found: &mut Vec<ImageFunction>,
) -> Result<(), TemplateError> {
    let origin = stack.path.display().to_string();
    let function_globals = globals::function_globals(template, &origin)?;
    let parameters = parameter_values(template, &stack.parameters);
    let resolver = Resolver::new(template, &parameters);
    let empty = Map::new();
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut children = Vec::new();
    for (logical_id, resource) in resources {
        let kind = resource
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match kind {
            SERVERLESS_FUNCTION | LAMBDA_FUNCTION => {
                let properties = match kind {
                    SERVERLESS_FUNCTION => globals::merge_into(&function_globals, resource),
                    _ => resource
                        .get("Properties")
                        .cloned()
                        .unwrap_or_else(|| Value::Object(Map::new())),
                };
                if let Some(function) =
                    image_function(stack, logical_id, resource, properties, &resolver)
                {
                    upsert(found, function);
                }
            }
            SERVERLESS_APPLICATION | CLOUDFORMATION_STACK => {
                children.extend(local_child(stack, logical_id, resource, &resolver));
            }
            _ => {}
        }
    }
    for child in children {
        if depth >= MAX_NESTING {
            return Err(TemplateError::Invalid {
                origin,
                message: format!(
                    "nested stacks go deeper than {MAX_NESTING} levels at {}; does a template include itself?",
                    child.stack_path
                ),
            });
        }
        let template = super::load(&child.path).map_err(|err| match err {
            TemplateError::Read { path, source } => TemplateError::Invalid {
                origin: origin.clone(),
                message: format!(
                    "nested stack {} points to {}, which cannot be read ({source}); fix its Location/TemplateURL",
                    child.stack_path,
                    path.display()
                ),
            },
            other => other,
        })?;
        walk(&child, &template.value, depth + 1, found)?;
    }
    Ok(())
}

/// SAM keys functions by full path, so a repeat replaces the earlier entry where it stood.
fn upsert(found: &mut Vec<ImageFunction>, function: ImageFunction) {
    match found.iter_mut().find(|f| f.full_path == function.full_path) {
        Some(existing) => *existing = function,
        None => found.push(function),
    }
}

fn image_function(
    stack: &Stack,
    logical_id: &str,
    resource: &Value,
    properties: Value,
    resolver: &Resolver,
) -> Option<ImageFunction> {
    let kind = resource
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (properties, metadata) =
        normalize_cdk_asset(logical_id, properties, resource.get("Metadata"));
    let package_type = properties
        .get("PackageType")
        .and_then(|v| resolver.resolve_text(v));
    if package_type.as_deref() != Some("Image") {
        return None;
    }
    let raw_uri = match kind {
        LAMBDA_FUNCTION => properties.get("Code").and_then(|code| code.get("ImageUri")),
        _ => properties.get("ImageUri"),
    };
    let image_uri = raw_uri
        .and_then(|v| resolver.resolve_text(v))
        .filter(|uri| !uri.is_empty());
    let wants_build = metadata
        .get("DockerContext")
        .is_some_and(|v| truthy(&resolver.resolve(v).unwrap_or_else(|| v.clone())));
    if image_uri.as_deref().is_some_and(is_ecr_url) && !wants_build {
        return None;
    }
    let metadata_text = |key: &str| metadata.get(key).and_then(|v| resolver.resolve_text(v));
    let function_id = resource_id(logical_id, kind, &metadata);
    Some(ImageFunction {
        full_path: join_path(&stack.stack_path, &function_id),
        logical_id: logical_id.to_string(),
        image_uri,
        docker_tag: metadata_text("DockerTag"),
        docker_context: metadata_text("DockerContext"),
        architectures: architectures(&properties, resolver),
        template_path: stack.path.clone(),
    })
}

fn architectures(properties: &Value, resolver: &Resolver) -> Vec<String> {
    let resolved = properties
        .get("Architectures")
        .and_then(|v| resolver.resolve(v));
    let listed: Option<Vec<String>> = match resolved {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => None,
    };
    listed
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| vec!["x86_64".to_string()])
}

/// A nested stack whose template is a local file, as `SamLocalStackProvider` follows them.
fn local_child(
    parent: &Stack,
    logical_id: &str,
    resource: &Value,
    resolver: &Resolver,
) -> Option<Stack> {
    let kind = resource.get("Type").and_then(Value::as_str)?;
    let properties = resource.get("Properties")?;
    let key = if kind == SERVERLESS_APPLICATION {
        "Location"
    } else {
        "TemplateURL"
    };
    let location = match resolver.resolve(properties.get(key)?)? {
        Value::String(location) => location,
        _ => return None,
    };
    if ["s3://", "http://", "https://"]
        .iter()
        .any(|p| location.starts_with(p))
    {
        return None;
    }
    let path = match location.strip_prefix("file://") {
        Some(local) => PathBuf::from(local),
        None => relative_to(&parent.path, &location),
    };
    let parameters = properties
        .get("Parameters")
        .and_then(Value::as_object)
        .map(|given| {
            given
                .iter()
                .map(|(k, v)| (k.clone(), resolver.resolve_text(v)))
                .collect()
        })
        .unwrap_or_default();
    let metadata = resource
        .get("Metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let stack_path = join_path(
        &parent.stack_path,
        &resource_id(logical_id, kind, &metadata),
    );
    Some(Stack {
        path,
        stack_path,
        parameters,
    })
}

/// `os.path.normpath(os.path.join(os.path.dirname(template), location))`, absolute paths kept.
fn relative_to(template: &Path, location: &str) -> PathBuf {
    let location = Path::new(location);
    if location.is_absolute() {
        return location.to_path_buf();
    }
    let joined = template.parent().unwrap_or(Path::new("")).join(location);
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(normal.components().next_back(), Some(Component::Normal(_))) =>
            {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

fn join_path(stack_path: &str, id: &str) -> String {
    if stack_path.is_empty() {
        id.to_string()
    } else {
        format!("{stack_path}/{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{load, parse_str};

    fn functions_of(text: &str) -> Vec<ImageFunction> {
        let value = parse_str(text, "template.yaml").unwrap();
        image_functions(&Template {
            path: "template.yaml".into(),
            format: super::super::Format::Yaml,
            value,
        })
        .unwrap()
    }

    #[test]
    fn ecr_url_regex_matches_sam() {
        assert!(is_ecr_url(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/testfunction:v1"
        ));
        assert!(is_ecr_url(
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/repo"
        ));
        assert!(is_ecr_url("localhost:5000/repo"));
        assert!(is_ecr_url("127.0.0.1/a/b-c"));
        assert!(!is_ecr_url("123456789012.dkr.ecr.us-east-1.localhost/repo"));
        assert!(!is_ecr_url("emulation-python3.9:latest"));
        assert!(!is_ecr_url("public.ecr.aws/lambda/python:3.12"));
        assert!(!is_ecr_url(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/UPPER"
        ));
        assert!(!is_ecr_url(""));
    }

    #[test]
    fn emulator_sample_with_ecr_uris() {
        let template = load(Path::new(
            "/work/shared/emulator/sam-example/template-ecr.yaml",
        ))
        .unwrap();
        let found = image_functions(&template).unwrap();
        let paths: Vec<&str> = found.iter().map(|f| f.full_path.as_str()).collect();
        assert_eq!(paths, ["TestFunction", "TestFunction2"]);
        assert_eq!(found[0].docker_tag.as_deref(), Some("python3.12-v1"));
        assert_eq!(found[0].docker_context.as_deref(), Some("./testfunction"));
        assert_eq!(
            found[0].image_uri.as_deref(),
            Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/testfunction:v1")
        );
        let v2 = load(Path::new(
            "/work/shared/emulator/sam-example/template-ecr-v2.yaml",
        ))
        .unwrap();
        let v2: Vec<String> = image_functions(&v2)
            .unwrap()
            .into_iter()
            .map(|f| f.full_path)
            .collect();
        assert_eq!(v2, ["TestFunction", "TestFunction4"]);
        let local = load(Path::new(
            "/work/shared/emulator/sam-example/template-local.yaml",
        ))
        .unwrap();
        let local = image_functions(&local).unwrap();
        assert_eq!(local.len(), 2);
        assert_eq!(
            local[1].image_uri.as_deref(),
            Some("testfunction2:python3.12-v1")
        );
    }

    #[test]
    fn image_functions_without_an_image_uri() {
        let template = crate::template::parse_str(
            "Globals:\n  Function:\n    Timeout: 3\nResources:\n  \
             NoUri:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n    Metadata:\n      DockerContext: ./app\n  \
             Param:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageUri: !Ref Image\n  \
             Zip:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n  \
             Plain:\n    Type: AWS::Lambda::Function\n    Properties:\n      PackageType: Image\n      Code: {}\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(image_functions_without_uri(&template), ["NoUri", "Plain"]);
    }

    #[test]
    fn globals_architectures_and_zip_functions() {
        let found = functions_of(
            "Globals:\n  Function:\n    Architectures: [arm64]\nResources:\n  \
             Img:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n  \
             Zip:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n  \
             Plain:\n    Type: AWS::Lambda::Function\n    Properties:\n      PackageType: Image\n      Code:\n        ImageUri: app:1\n",
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].architectures, ["arm64"]);
        assert_eq!(found[0].image_uri, None);
        // Globals apply to Serverless functions only.
        assert_eq!(found[1].architectures, ["x86_64"]);
        assert_eq!(found[1].image_uri.as_deref(), Some("app:1"));
    }

    #[test]
    fn sub_to_placeholder_ecr_is_skipped_but_urlsuffix_is_not() {
        let found = functions_of(
            "Resources:\n  \
             A:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      \
             ImageUri: !Sub '${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/a:1'\n  \
             B:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      \
             ImageUri: !Sub '${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/b:1'\n",
        );
        let paths: Vec<&str> = found.iter().map(|f| f.full_path.as_str()).collect();
        assert_eq!(paths, ["B"]);
        assert_eq!(
            found[0].image_uri.as_deref(),
            Some("123456789012.dkr.ecr.us-east-1.localhost/b:1")
        );
    }

    #[test]
    fn nested_paths_are_normalised_like_python() {
        assert_eq!(
            relative_to(Path::new("a/template.yaml"), "./child/t.yaml"),
            PathBuf::from("a/child/t.yaml")
        );
        assert_eq!(
            relative_to(Path::new("a/b/t.yaml"), "../c/t.yaml"),
            PathBuf::from("a/c/t.yaml")
        );
        assert_eq!(
            relative_to(Path::new("t.yaml"), "/abs/t.yaml"),
            PathBuf::from("/abs/t.yaml")
        );
        assert_eq!(
            relative_to(Path::new("t.yaml"), "../up.yaml"),
            PathBuf::from("../up.yaml")
        );
    }

    #[test]
    fn missing_nested_template_names_resource_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("template.yaml");
        std::fs::write(&root, "Resources:\n  Child:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: nope/t.yaml\n").unwrap();
        let err = image_functions(&load(&root).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nested stack Child points to"), "{err}");
        assert!(err.contains("nope/t.yaml"), "{err}");
    }

    #[test]
    fn self_including_template_stops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("template.yaml");
        std::fs::write(&root, "Resources:\n  Me:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./template.yaml\n").unwrap();
        let err = image_functions(&load(&root).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("deeper than 32 levels"), "{err}");
    }
}
