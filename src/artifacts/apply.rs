//! Writes uploaded locations back into a template in the shape sam writes for each property,
//! and names S3 objects and template URLs the way sam's `S3Uploader` does, so a template
//! packaged by samrs is the same as one packaged by sam.

use serde_json::{Map, Value};

use super::{ArtifactError, ArtifactLocation, PathSegment, Shape, Uploaded};

/// Replaces each located value with its uploaded location, in the location's [`Shape`].
///
/// Missing intermediate objects are created, as sam's `set_value_from_jmespath` does (a Glue job
/// without `Command` gets `Command: {ScriptLocation: …}`). Fails only when the template no longer
/// has the path the location was found at.
pub fn apply_uploads(
    template: &mut Value,
    uploads: &[(ArtifactLocation, Uploaded)],
) -> Result<(), ArtifactError> {
    for (location, uploaded) in uploads {
        let slot = slot(template, &location.pointer).ok_or_else(|| ArtifactError::Unwritable {
            resource_id: location.resource_id.clone(),
            property: location.property.clone(),
        })?;
        *slot = render(location.shape, uploaded);
    }
    Ok(())
}

/// The S3 key sam gives an artifact: `[prefix/]md5[.extension]` (`get_uploaded_s3_object_name`
/// plus `S3Uploader.upload`). An empty prefix counts as none; the prefix is used verbatim otherwise.
pub fn s3_key(prefix: Option<&str>, md5: &str, extension: Option<&str>) -> String {
    let name = match extension {
        Some(extension) => format!("{md5}.{extension}"),
        None => md5.to_owned(),
    };
    match prefix.filter(|prefix| !prefix.is_empty()) {
        Some(prefix) => format!("{prefix}/{name}"),
        None => name,
    }
}

/// The path-style URL sam writes for templates: boto3's S3 endpoint for the region, then
/// `/bucket/key`, then `?versionId=…` when a version is known. In `us-east-1` boto3 uses the
/// global endpoint `https://s3.amazonaws.com`; China regions end in `.amazonaws.com.cn`.
pub fn path_style_url(url_base: &str, bucket: &str, key: &str, version: Option<&str>) -> String {
    let endpoint = url_base.trim_end_matches('/');
    match version {
        Some(version) => format!("{endpoint}/{bucket}/{key}?versionId={version}"),
        None => format!("{endpoint}/{bucket}/{key}"),
    }
}

fn render(shape: Shape, uploaded: &Uploaded) -> Value {
    match shape {
        Shape::S3Uri => Value::String(format!("s3://{}/{}", uploaded.bucket, uploaded.key)),
        Shape::S3Object {
            bucket,
            key,
            version,
        } => {
            let mut object = Map::new();
            object.insert(bucket.to_owned(), Value::String(uploaded.bucket.clone()));
            object.insert(key.to_owned(), Value::String(uploaded.key.clone()));
            if let (Some(field), Some(value)) = (version, &uploaded.version) {
                object.insert(field.to_owned(), Value::String(value.clone()));
            }
            Value::Object(object)
        }
        Shape::PathStyleUrl => Value::String(path_style_url(
            &uploaded.url_base,
            &uploaded.bucket,
            &uploaded.key,
            uploaded.version.as_deref(),
        )),
    }
}

/// The value at `pointer`, creating missing (or null) objects on the way.
fn slot<'a>(root: &'a mut Value, pointer: &[PathSegment]) -> Option<&'a mut Value> {
    pointer
        .iter()
        .try_fold(root, |node, segment| match segment {
            PathSegment::Key(key) => {
                if node.is_null() {
                    *node = Value::Object(Map::new());
                }
                Some(
                    node.as_object_mut()?
                        .entry(key.clone())
                        .or_insert(Value::Null),
                )
            }
            PathSegment::Index(index) => node.as_array_mut()?.get_mut(*index),
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn uploaded(version: Option<&str>) -> Uploaded {
        Uploaded {
            bucket: "my-bucket".into(),
            key: "app/0123456789abcdef0123456789abcdef".into(),
            version: version.map(str::to_owned),
            url_base: crate::aws::default_s3_url("eu-west-1"),
        }
    }

    fn location(pointer: &[&str], shape: Shape) -> ArtifactLocation {
        ArtifactLocation {
            resource_id: "Fn".into(),
            property: pointer
                .last()
                .map_or_else(String::new, |key| (*key).to_owned()),
            pointer: pointer
                .iter()
                .map(|key| PathSegment::Key((*key).to_owned()))
                .collect(),
            shape,
        }
    }

    #[test]
    fn s3_key_vectors() {
        let md5 = "5c5883ae070a85b3333a03ea3467d33b";
        assert_eq!(s3_key(None, md5, None), md5);
        assert_eq!(s3_key(Some(""), md5, None), md5);
        assert_eq!(
            s3_key(Some("my-app"), md5, None),
            "my-app/5c5883ae070a85b3333a03ea3467d33b"
        );
        assert_eq!(
            s3_key(Some("my-app/dev"), md5, Some("template")),
            "my-app/dev/5c5883ae070a85b3333a03ea3467d33b.template"
        );
        assert_eq!(
            s3_key(None, md5, Some("zip")),
            "5c5883ae070a85b3333a03ea3467d33b.zip"
        );
        // sam does not trim a trailing slash from the prefix.
        assert_eq!(
            s3_key(Some("app/"), md5, None),
            "app//5c5883ae070a85b3333a03ea3467d33b"
        );
    }

    #[test]
    fn path_style_urls_follow_boto3_endpoints() {
        use crate::aws::default_s3_url;
        assert_eq!(
            path_style_url(&default_s3_url("us-east-1"), "b", "k.template", None),
            "https://s3.amazonaws.com/b/k.template"
        );
        assert_eq!(
            path_style_url(
                &default_s3_url("eu-west-1"),
                "b",
                "p/k.template",
                Some("v1")
            ),
            "https://s3.eu-west-1.amazonaws.com/b/p/k.template?versionId=v1"
        );
        assert_eq!(
            path_style_url(&default_s3_url("cn-north-1"), "b", "k.template", None),
            "https://s3.cn-north-1.amazonaws.com.cn/b/k.template"
        );
        assert_eq!(
            path_style_url("http://127.0.0.1:5101/", "b", "k", None),
            "http://127.0.0.1:5101/b/k"
        );
    }

    #[test]
    fn each_shape_is_written_as_sam_writes_it() {
        let mut template = json!({"P": {"A": "src", "B": "code.zip", "C": "child.yaml"}});
        let lambda = Shape::S3Object {
            bucket: "S3Bucket",
            key: "S3Key",
            version: Some("S3ObjectVersion"),
        };
        let uploads = [
            (
                location(&["P", "A"], Shape::S3Uri),
                uploaded(Some("ignored")),
            ),
            (location(&["P", "B"], lambda), uploaded(Some("v7"))),
            (location(&["P", "C"], Shape::PathStyleUrl), uploaded(None)),
        ];
        apply_uploads(&mut template, &uploads).unwrap();
        assert_eq!(
            template,
            json!({"P": {
                "A": "s3://my-bucket/app/0123456789abcdef0123456789abcdef",
                "B": {"S3Bucket": "my-bucket", "S3Key": "app/0123456789abcdef0123456789abcdef", "S3ObjectVersion": "v7"},
                "C": "https://s3.eu-west-1.amazonaws.com/my-bucket/app/0123456789abcdef0123456789abcdef"
            }})
        );
    }

    #[test]
    fn a_version_is_dropped_where_the_type_has_no_field_for_it() {
        let mut template = json!({"SourceBundle": "app.zip"});
        let shape = Shape::S3Object {
            bucket: "S3Bucket",
            key: "S3Key",
            version: None,
        };
        apply_uploads(
            &mut template,
            &[(location(&["SourceBundle"], shape), uploaded(Some("v1")))],
        )
        .unwrap();
        assert_eq!(
            template,
            json!({"SourceBundle": {"S3Bucket": "my-bucket", "S3Key": "app/0123456789abcdef0123456789abcdef"}})
        );
    }

    #[test]
    fn missing_objects_are_created_and_non_objects_refused() {
        let mut template = json!({"Properties": {}});
        let glue = location(&["Properties", "Command", "ScriptLocation"], Shape::S3Uri);
        apply_uploads(&mut template, &[(glue.clone(), uploaded(None))]).unwrap();
        assert_eq!(
            template,
            json!({"Properties": {"Command": {"ScriptLocation": "s3://my-bucket/app/0123456789abcdef0123456789abcdef"}}})
        );

        let mut template = json!({"Properties": {"Command": "python"}});
        let error = apply_uploads(&mut template, &[(glue, uploaded(None))]).unwrap_err();
        assert!(
            matches!(error, ArtifactError::Unwritable { ref property, .. } if property == "ScriptLocation")
        );
    }
}
