//! Walks a template the way `sam package` does (metadata, then `AWS::Include` transforms, then
//! resources) and lists the local artifacts it references, resolving paths against the template's
//! folder and checking that they exist, so every path problem is reported before any upload.

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::table::{
    is_s3_protocol_url, is_s3_url, Handling, PropertyPath, Spec, METADATA_SPECS, RESOURCE_SPECS,
};
use super::{archive, Artifact, ArtifactError, ArtifactKind, ArtifactLocation, PathSegment, Shape};

/// A property that may name a local artifact, before its value is judged.
struct Candidate<'a> {
    resource_id: &'a str,
    resource_type: &'a str,
    property: String,
    pointer: Vec<PathSegment>,
    value: Option<&'a Value>,
}

/// Lists every local artifact `template` references, in the order sam packages them.
///
/// Relative paths are resolved against `template_dir`. Values sam leaves alone are skipped:
/// S3 URLs, intrinsic functions and other objects, resources with `InlineCode` or a
/// `PackageType` other than `Zip`, and omitted properties that sam does not default to the
/// template's folder. A path that does not exist is an error naming the resource and property.
pub fn find_artifacts(
    template: &Value,
    template_dir: &Path,
) -> Result<Vec<Artifact>, ArtifactError> {
    let dir = std::path::absolute(template_dir)
        .map(|dir| normalize(&dir))
        .map_err(|source| ArtifactError::Read {
            path: template_dir.to_path_buf(),
            source,
        })?;
    let mut found = Vec::new();
    for (candidate, spec) in metadata_candidates(template) {
        found.extend(judge(candidate, spec, &dir)?);
    }
    // sam stops after the metadata when there are no resources.
    if template.get("Resources").is_none() {
        return Ok(found);
    }
    walk_includes(template, &mut Vec::new(), &dir, &mut found)?;
    for (candidate, spec) in resource_candidates(template) {
        found.extend(judge(candidate, spec, &dir)?);
    }
    Ok(found)
}

fn metadata_candidates(template: &Value) -> Vec<(Candidate<'_>, &'static Spec)> {
    let Some(metadata) = template.get("Metadata").and_then(Value::as_object) else {
        return Vec::new();
    };
    METADATA_SPECS
        .iter()
        .filter_map(|spec| {
            let PropertyPath::Dotted(property) = spec.property else {
                return None;
            };
            let entry = metadata.get(spec.resource_type)?.as_object()?;
            let candidate = Candidate {
                resource_id: spec.resource_type,
                resource_type: spec.resource_type,
                property: property.to_owned(),
                pointer: keys(&["Metadata", spec.resource_type, property]),
                value: entry.get(property),
            };
            Some((candidate, spec))
        })
        .collect()
}

fn resource_candidates(template: &Value) -> Vec<(Candidate<'_>, &'static Spec)> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut candidates = Vec::new();
    for (id, resource) in resources {
        if id.starts_with("Fn::ForEach::") {
            continue;
        }
        let Some(resource_type) = resource.get("Type").and_then(Value::as_str) else {
            continue;
        };
        // sam exports a detached empty dict when Properties is missing, so nothing is rewritten.
        let Some(properties) = resource.get("Properties").and_then(Value::as_object) else {
            continue;
        };
        if !is_packageable(properties) {
            continue;
        }
        for spec in RESOURCE_SPECS
            .iter()
            .filter(|spec| spec.resource_type == resource_type)
        {
            let base = keys(&["Resources", id, "Properties"]);
            let found = match spec.property {
                PropertyPath::Dotted(path) => vec![dotted_candidate(
                    template,
                    id,
                    resource_type,
                    properties,
                    path,
                    base,
                )],
                PropertyPath::GraphQlCode => {
                    graphql_code_candidates(id, resource_type, properties, base)
                }
            };
            candidates.extend(found.into_iter().map(|candidate| (candidate, spec)));
        }
    }
    candidates
}

/// sam skips inline code and image functions for every zip exporter.
fn is_packageable(properties: &Map<String, Value>) -> bool {
    let inline = properties
        .get("InlineCode")
        .is_some_and(|code| !code.is_null());
    let zip = properties
        .get("PackageType")
        .is_none_or(|package_type| package_type == "Zip");
    !inline && zip
}

fn dotted_candidate<'a>(
    template: &'a Value,
    id: &'a str,
    resource_type: &'a str,
    properties: &'a Map<String, Value>,
    path: &str,
    mut pointer: Vec<PathSegment>,
) -> Candidate<'a> {
    let mut value = path
        .split('.')
        .try_fold(None::<&Value>, |node, key| {
            let parent = match node {
                None => properties,
                Some(node) => node.as_object()?,
            };
            parent.get(key).map(Some)
        })
        .flatten();
    // sam's `_apply_global_values`: a function without CodeUri takes Globals.Function.CodeUri.
    if resource_type == "AWS::Serverless::Function" && path == "CodeUri" && value.is_none() {
        value = template
            .pointer("/Globals/Function/CodeUri")
            .filter(|uri| !uri.is_null());
    }
    pointer.extend(path.split('.').map(|key| PathSegment::Key(key.to_owned())));
    Candidate {
        resource_id: id,
        resource_type,
        property: path.to_owned(),
        pointer,
        value,
    }
}

/// Every `CodeUri` under `Resolvers` and `Functions`, at any depth, like sam's
/// `graphql_api.find_all_paths_and_values`.
fn graphql_code_candidates<'a>(
    id: &'a str,
    resource_type: &'a str,
    properties: &'a Map<String, Value>,
    base: Vec<PathSegment>,
) -> Vec<Candidate<'a>> {
    fn collect<'a>(
        node: &'a Map<String, Value>,
        path: &mut Vec<&'a str>,
        out: &mut Vec<(Vec<&'a str>, &'a Value)>,
    ) {
        for (key, value) in node {
            path.push(key);
            if key == "CodeUri" {
                out.push((path.clone(), value));
            } else if let Some(child) = value.as_object() {
                collect(child, path, out);
            }
            path.pop();
        }
    }
    let mut found = Vec::new();
    for section in ["Resolvers", "Functions"] {
        if let Some(node) = properties.get(section).and_then(Value::as_object) {
            collect(node, &mut vec![section], &mut found);
        }
    }
    found
        .into_iter()
        .map(|(path, value)| {
            let mut pointer = base.clone();
            pointer.extend(path.iter().map(|key| PathSegment::Key((*key).to_owned())));
            Candidate {
                resource_id: id,
                resource_type,
                property: path.join("."),
                pointer,
                value: Some(value),
            }
        })
        .collect()
}

/// sam's `_export_global_artifacts_pass`: any `Fn::Transform` named `AWS::Include`, anywhere.
fn walk_includes(
    node: &Value,
    pointer: &mut Vec<PathSegment>,
    dir: &Path,
    found: &mut Vec<Artifact>,
) -> Result<(), ArtifactError> {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                pointer.push(PathSegment::Key(key.clone()));
                if key != "Fn::Transform" {
                    walk_includes(value, pointer, dir, found)?;
                } else if value.get("Name").is_some_and(|name| name == "AWS::Include") {
                    found.extend(include_artifact(value, pointer, dir)?);
                }
                pointer.pop();
            }
        }
        Value::Array(items) => {
            // sam only looks into objects held directly by arrays.
            for (index, item) in items
                .iter()
                .enumerate()
                .filter(|(_, item)| item.is_object())
            {
                pointer.push(PathSegment::Index(index));
                walk_includes(item, pointer, dir, found)?;
                pointer.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

fn include_artifact(
    transform: &Value,
    pointer: &[PathSegment],
    dir: &Path,
) -> Result<Option<Artifact>, ArtifactError> {
    let Some(location) = transform
        .pointer("/Parameters/Location")
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    if location.is_empty() || is_s3_protocol_url(location) {
        return Ok(None);
    }
    let mut pointer = pointer.to_vec();
    pointer.extend(keys(&["Parameters", "Location"]));
    let property = pointer
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(".");
    let candidate = Candidate {
        resource_id: "AWS::Include",
        resource_type: "AWS::Include",
        property,
        pointer,
        value: None,
    };
    let path = require_file(&candidate, resolve(dir, location))?;
    Ok(Some(artifact(
        candidate,
        Shape::S3Uri,
        ArtifactKind::File,
        path,
    )))
}

/// Decides what sam would do with one candidate value: skip it, or package a local path.
fn judge(candidate: Candidate, spec: &Spec, dir: &Path) -> Result<Option<Artifact>, ArtifactError> {
    let shape = spec.shape;
    match spec.handling {
        Handling::Upload {
            package_null,
            force_zip,
        } => {
            let path = match candidate.value {
                value if is_empty(value) => match package_null {
                    true => dir.to_path_buf(),
                    false => return Ok(None),
                },
                Some(Value::Object(_)) => return Ok(None),
                Some(Value::String(text)) if is_s3_protocol_url(text) => return Ok(None),
                Some(Value::String(text)) => resolve(dir, text),
                _ => return Err(not_a_path(&candidate)),
            };
            let kind = upload_kind(&candidate, &path, force_zip)?;
            Ok(Some(artifact(candidate, shape, kind, path)))
        }
        Handling::Template { nested } => {
            let path = match candidate.value {
                None | Some(Value::Null) | Some(Value::Object(_)) => return Ok(None),
                Some(Value::String(text)) if is_s3_url(text) => return Ok(None),
                Some(Value::String(text)) => require_file(&candidate, resolve(dir, text))?,
                _ => return Err(not_a_path(&candidate)),
            };
            let kind = if nested {
                ArtifactKind::NestedTemplate
            } else {
                ArtifactKind::File
            };
            Ok(Some(artifact(candidate, shape, kind, path)))
        }
    }
}

fn upload_kind(
    candidate: &Candidate,
    path: &Path,
    force_zip: bool,
) -> Result<ArtifactKind, ArtifactError> {
    if path.is_dir() {
        Ok(ArtifactKind::ZipDirectory)
    } else if !path.is_file() {
        Err(missing(candidate, path.to_path_buf()))
    } else if force_zip && !archive::is_zip_file(path) {
        Ok(ArtifactKind::ZipFile)
    } else {
        Ok(ArtifactKind::File)
    }
}

fn require_file(candidate: &Candidate, path: PathBuf) -> Result<PathBuf, ArtifactError> {
    match (path.is_file(), path.exists()) {
        (true, _) => Ok(path),
        (false, true) => Err(ArtifactError::NotATemplateFile {
            resource_id: candidate.resource_id.to_owned(),
            property: candidate.property.clone(),
            path,
        }),
        (false, false) => Err(missing(candidate, path)),
    }
}

/// Python truthiness, which sam uses to decide that a property was "not given".
fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Number(number)) => number.as_f64() == Some(0.0),
        Some(Value::Bool(true)) => false,
    }
}

fn artifact(
    candidate: Candidate,
    shape: Shape,
    kind: ArtifactKind,
    local_path: PathBuf,
) -> Artifact {
    Artifact {
        resource_type: candidate.resource_type.to_owned(),
        location: ArtifactLocation {
            resource_id: candidate.resource_id.to_owned(),
            property: candidate.property,
            pointer: candidate.pointer,
            shape,
        },
        kind,
        local_path,
    }
}

fn missing(candidate: &Candidate, path: PathBuf) -> ArtifactError {
    ArtifactError::MissingPath {
        resource_id: candidate.resource_id.to_owned(),
        property: candidate.property.clone(),
        path,
    }
}

fn not_a_path(candidate: &Candidate) -> ArtifactError {
    ArtifactError::NotAPath {
        resource_id: candidate.resource_id.to_owned(),
        property: candidate.property.clone(),
        value: candidate.value.map_or_else(String::new, Value::to_string),
    }
}

fn keys(names: &[&str]) -> Vec<PathSegment> {
    names
        .iter()
        .map(|name| PathSegment::Key((*name).to_owned()))
        .collect()
}

/// sam's `make_abs_path`: join relative paths to the template folder, then `normpath`.
fn resolve(dir: &Path, value: &str) -> PathBuf {
    normalize(&dir.join(value))
}

/// Lexical normalisation like Python's `os.path.normpath`: drops `.`, folds `..`.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    out
}
