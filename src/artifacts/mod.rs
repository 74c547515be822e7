//! The pure half of `sam package`: find the local files and folders a template points at, zip
//! them the same way every time, and rewrite the template to point at their S3 copies in the
//! exact shape sam writes. Uploading is someone else's job; nothing here talks to AWS or prints.
//!
//! The resource types, property paths and rules mirror SAM CLI's
//! `samcli/lib/package/packageable_resources.py` and `artifact_exporter.py` (see `table.rs`).

mod apply;
mod archive;
mod find;
mod table;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

pub use apply::{apply_uploads, path_style_url, s3_key};
pub use archive::{md5_hex, sha256_base64, zip_directory, zip_file};
pub use find::find_artifacts;

/// What must be done to a local path before it can be uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// A folder: zip it with [`zip_directory`] and upload the zip.
    ZipDirectory,
    /// A file Lambda needs as a zip (sam's `FORCE_ZIP`): zip it alone with [`zip_file`].
    ZipFile,
    /// A file uploaded as it is (a definition, a script, an existing zip).
    File,
    /// A child template: package it with the same functions, upload the result, then write its URL.
    NestedTemplate,
}

/// One step from a JSON value to a child: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    /// A key of an object.
    Key(String),
    /// An index into an array.
    Index(usize),
}

/// The shape in which an uploaded object's location is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `"s3://bucket/key"`.
    S3Uri,
    /// `{<bucket>: "bucket", <key>: "key"}`, plus `<version>` when the type has one and a version is known.
    S3Object {
        /// Name of the bucket field, e.g. `S3Bucket`.
        bucket: &'static str,
        /// Name of the key field, e.g. `S3Key`.
        key: &'static str,
        /// Name of the version field, e.g. `S3ObjectVersion`, if the type has one.
        version: Option<&'static str>,
    },
    /// A path-style HTTPS URL, as CloudFormation requires for `TemplateURL` (see [`path_style_url`]).
    PathStyleUrl,
}

/// Where an artifact's value lives in the template and how its replacement is written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArtifactLocation {
    /// Logical id of the resource; for metadata and `AWS::Include`, the type name, as sam reports it.
    pub resource_id: String,
    /// The property as users know it: `CodeUri`, `Command.ScriptLocation`, `Resolvers.Query.R1.CodeUri`.
    pub property: String,
    /// The full path from the template root to the value (it may not exist yet when the value was omitted).
    pub pointer: Vec<PathSegment>,
    /// How the uploaded location is written there.
    pub shape: Shape,
}

/// A local artifact found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Where it is referenced and how it is rewritten.
    pub location: ArtifactLocation,
    /// The CloudFormation type of the referencing resource (or `AWS::Include`, or the metadata type).
    pub resource_type: String,
    /// What to do with the local path before uploading.
    pub kind: ArtifactKind,
    /// The absolute, normalised local path.
    pub local_path: PathBuf,
}

impl Artifact {
    /// The extension sam appends to the S3 key: `template` for templates, none otherwise.
    pub fn key_extension(&self) -> Option<&'static str> {
        match self.location.shape {
            Shape::PathStyleUrl => Some("template"),
            Shape::S3Uri | Shape::S3Object { .. } => None,
        }
    }
}

/// Where an artifact was uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The bucket.
    pub bucket: String,
    /// The full object key, prefix included (see [`s3_key`]).
    pub key: String,
    /// The object version, if the bucket is versioned and the caller wants it pinned.
    /// sam never writes one, so pass `None` for byte-identical templates.
    pub version: Option<String>,
    /// The S3 endpoint that path-style URLs start with (`https://s3.<region>.amazonaws.com`, or
    /// the endpoint override).
    pub url_base: String,
}

/// Why the artifacts of a template could not be found, zipped or written back.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// A local path named by the template does not exist.
    #[error(
        "{property} of resource {resource_id} refers to {}, which does not exist; run `sam build` first or fix {property}",
        path.display()
    )]
    MissingPath {
        /// The referencing resource.
        resource_id: String,
        /// The property holding the path.
        property: String,
        /// The resolved path.
        path: PathBuf,
    },
    /// A template or include location is not a file.
    #[error(
        "{property} of resource {resource_id} must be an S3 URL or a template file, but {} is not a file; fix {property}",
        path.display()
    )]
    NotATemplateFile {
        /// The referencing resource.
        resource_id: String,
        /// The property holding the path.
        property: String,
        /// The resolved path.
        path: PathBuf,
    },
    /// The value is neither a path, an S3 URL nor an intrinsic function.
    #[error("{property} of resource {resource_id} is {value}, which is not a path; use a local path or an s3:// URL")]
    NotAPath {
        /// The referencing resource.
        resource_id: String,
        /// The property holding the value.
        property: String,
        /// The value, as JSON.
        value: String,
    },
    /// A file or folder could not be read while zipping.
    #[error("cannot read {}: {source}; fix its permissions or remove it", path.display())]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The zip archive could not be written.
    #[error("cannot add {} to the zip archive: {source}", path.display())]
    Zip {
        /// The file being added.
        path: PathBuf,
        /// The underlying error.
        source: zip::result::ZipError,
    },
    /// An upload's location no longer exists in the template it is written to.
    #[error("cannot write the S3 location of {property} of resource {resource_id}: the template no longer has that property; find the artifacts in the same template you rewrite")]
    Unwritable {
        /// The referencing resource.
        resource_id: String,
        /// The property.
        property: String,
    },
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Key(key) => f.write_str(key),
            PathSegment::Index(index) => write!(f, "{index}"),
        }
    }
}
