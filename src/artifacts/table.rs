//! Which properties of which resource types sam packages, and how: the table of SAM CLI's
//! `packageable_resources.py` (`RESOURCES_EXPORT_LIST`, `METADATA_EXPORTS`) and the nested-stack
//! exporters of `artifact_exporter.py`, plus sam's tests for "already in S3".

use std::sync::LazyLock;

use regex::Regex;

use super::Shape;

/// How a property is found inside a resource's `Properties`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum PropertyPath {
    /// A dotted path such as `CodeUri` or `Command.ScriptLocation`.
    Dotted(&'static str),
    /// Every `CodeUri` at any depth under `Resolvers` and `Functions` (`AWS::Serverless::GraphQLApi`).
    GraphQlCode,
}

/// What sam does with the value of a packageable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handling {
    /// Folders are zipped; files are uploaded as they are, or zipped alone when `force_zip` and
    /// not already a zip. An empty or omitted value means the template's folder when `package_null`.
    Upload { package_null: bool, force_zip: bool },
    /// A template file, skipped when omitted: packaged recursively first when `nested`
    /// (stacks, applications), uploaded as it is otherwise (stack sets).
    Template { nested: bool },
}

/// One packageable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Spec {
    pub resource_type: &'static str,
    pub property: PropertyPath,
    pub handling: Handling,
    pub shape: Shape,
}

const ZIP_OR_HERE: Handling = Handling::Upload {
    package_null: true,
    force_zip: true,
};
const AS_IS_OR_HERE: Handling = Handling::Upload {
    package_null: true,
    force_zip: false,
};
const AS_IS_IF_SET: Handling = Handling::Upload {
    package_null: false,
    force_zip: false,
};
const BUCKET_KEY_VERSION: Shape = Shape::S3Object {
    bucket: "Bucket",
    key: "Key",
    version: Some("Version"),
};
const LAMBDA_CODE: Shape = Shape::S3Object {
    bucket: "S3Bucket",
    key: "S3Key",
    version: Some("S3ObjectVersion"),
};

const fn spec(
    resource_type: &'static str,
    path: &'static str,
    handling: Handling,
    shape: Shape,
) -> Spec {
    Spec {
        resource_type,
        property: PropertyPath::Dotted(path),
        handling,
        shape,
    }
}

/// Packageable resource properties, in sam's order.
pub(super) const RESOURCE_SPECS: &[Spec] = &[
    spec(
        "AWS::Serverless::Function",
        "CodeUri",
        ZIP_OR_HERE,
        Shape::S3Uri,
    ),
    spec(
        "AWS::Serverless::Api",
        "DefinitionUri",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::Serverless::HttpApi",
        "DefinitionUri",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::Serverless::StateMachine",
        "DefinitionUri",
        AS_IS_IF_SET,
        BUCKET_KEY_VERSION,
    ),
    spec(
        "AWS::AppSync::GraphQLSchema",
        "DefinitionS3Location",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::AppSync::Resolver",
        "RequestMappingTemplateS3Location",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::AppSync::Resolver",
        "ResponseMappingTemplateS3Location",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::AppSync::Resolver",
        "CodeS3Location",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::AppSync::FunctionConfiguration",
        "RequestMappingTemplateS3Location",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::AppSync::FunctionConfiguration",
        "ResponseMappingTemplateS3Location",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::AppSync::FunctionConfiguration",
        "CodeS3Location",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::ApiGateway::RestApi",
        "BodyS3Location",
        AS_IS_IF_SET,
        BUCKET_KEY_VERSION,
    ),
    spec(
        "AWS::ApiGatewayV2::Api",
        "BodyS3Location",
        AS_IS_IF_SET,
        BUCKET_KEY_VERSION,
    ),
    spec(
        "AWS::StepFunctions::StateMachine",
        "DefinitionS3Location",
        AS_IS_IF_SET,
        BUCKET_KEY_VERSION,
    ),
    spec("AWS::Lambda::Function", "Code", ZIP_OR_HERE, LAMBDA_CODE),
    spec(
        "AWS::ElasticBeanstalk::ApplicationVersion",
        "SourceBundle",
        AS_IS_OR_HERE,
        Shape::S3Object {
            bucket: "S3Bucket",
            key: "S3Key",
            version: None,
        },
    ),
    spec(
        "AWS::Serverless::LayerVersion",
        "ContentUri",
        ZIP_OR_HERE,
        Shape::S3Uri,
    ),
    spec(
        "AWS::Lambda::LayerVersion",
        "Content",
        ZIP_OR_HERE,
        LAMBDA_CODE,
    ),
    spec(
        "AWS::Glue::Job",
        "Command.ScriptLocation",
        AS_IS_OR_HERE,
        Shape::S3Uri,
    ),
    spec(
        "AWS::CloudFormation::ModuleVersion",
        "ModulePackage",
        AS_IS_OR_HERE,
        Shape::S3Uri,
    ),
    spec(
        "AWS::CloudFormation::ResourceVersion",
        "SchemaHandlerPackage",
        AS_IS_OR_HERE,
        Shape::S3Uri,
    ),
    spec(
        "AWS::Serverless::GraphQLApi",
        "SchemaUri",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    // The code paths are found by key, so they are never "omitted"; an empty one means here.
    Spec {
        resource_type: "AWS::Serverless::GraphQLApi",
        property: PropertyPath::GraphQlCode,
        handling: AS_IS_OR_HERE,
        shape: Shape::S3Uri,
    },
    spec(
        "AWS::CloudFormation::Stack",
        "TemplateURL",
        Handling::Template { nested: true },
        Shape::PathStyleUrl,
    ),
    spec(
        "AWS::Serverless::Application",
        "Location",
        Handling::Template { nested: true },
        Shape::PathStyleUrl,
    ),
    spec(
        "AWS::CloudFormation::StackSet",
        "TemplateURL",
        Handling::Template { nested: false },
        Shape::PathStyleUrl,
    ),
];

/// Packageable entries of the template's top-level `Metadata` (sam's `METADATA_EXPORTS`).
pub(super) const METADATA_SPECS: &[Spec] = &[
    spec(
        "AWS::ServerlessRepo::Application",
        "LicenseUrl",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
    spec(
        "AWS::ServerlessRepo::Application",
        "ReadmeUrl",
        AS_IS_IF_SET,
        Shape::S3Uri,
    ),
];

/// sam's `is_s3_protocol_url` (a successful `parse_s3_url`): `s3://bucket/…` or `https://s3…`.
/// Values that pass are already uploaded and left alone.
pub(super) fn is_s3_protocol_url(value: &str) -> bool {
    if value.starts_with("https://s3") {
        return true;
    }
    value
        .strip_prefix("s3://")
        .and_then(|rest| rest.find('/'))
        .is_some_and(|slash| slash > 0)
}

/// sam's `is_s3_url`: any S3 URL form (path style, virtual hosted, access point, `s3://`).
/// Used for template locations, which may be given as HTTPS URLs.
pub(super) fn is_s3_url(value: &str) -> bool {
    static S3_URL: LazyLock<Regex> = LazyLock::new(|| {
        let region = "[a-zA-Z0-9-]+";
        let domain = r"\.amazonaws\.com(\.cn)?";
        let forms = [
            format!(r"http(s)?://s3(.dualstack)?(\.{region})?{domain}/.+/.+"),
            format!(r"http(s)?://.+\.s3((.|-){region})?{domain}/.+"),
            format!(r"http(s)?://.+-\d+\.s3-accesspoint\.{region}{domain}/.+/.+"),
            "s3://.+/.+".to_owned(),
        ];
        let alternation = forms.map(|form| format!("(?:{form})")).join("|");
        // A constant pattern: the tests below prove it compiles.
        Regex::new(&format!("^(?:{alternation})")).expect("constant S3 URL regex")
    });
    S3_URL.is_match(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_protocol_urls_are_sams() {
        assert!(is_s3_protocol_url("s3://bucket/key.zip"));
        assert!(is_s3_protocol_url("s3://bucket/"));
        assert!(is_s3_protocol_url(
            "https://s3.us-west-2.amazonaws.com/bucket/key"
        ));
        assert!(!is_s3_protocol_url("s3://bucket"));
        assert!(!is_s3_protocol_url("s3:///key"));
        assert!(!is_s3_protocol_url("src/hello"));
        assert!(!is_s3_protocol_url("https://example.com/key"));
    }

    #[test]
    fn s3_urls_cover_every_form_sam_knows() {
        for url in [
            "https://s3.amazonaws.com/examplebucket/exampletemplate.yml",
            "https://s3.us-west-2.amazonaws.com/bucket/key",
            "https://s3.dualstack.us-west-2.amazonaws.com/bucket/key",
            "https://s3.cn-north-1.amazonaws.com.cn/bucket/key",
            "https://bucket.s3.eu-west-1.amazonaws.com/key",
            "https://bucket.s3-eu-west-1.amazonaws.com/key",
            "https://bucket.s3.amazonaws.com/key",
            "https://ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com/a/b",
            "s3://bucket/key",
        ] {
            assert!(is_s3_url(url), "{url}");
        }
        for not_s3 in [
            "https://example.com/t.yaml",
            "child/template.yaml",
            "s3://bucket",
            "xs3://b/k",
        ] {
            assert!(!is_s3_url(not_s3), "{not_s3}");
        }
    }

    #[test]
    fn table_has_one_entry_per_type_and_property() {
        let mut seen = std::collections::HashSet::new();
        for spec in RESOURCE_SPECS.iter().chain(METADATA_SPECS) {
            assert!(seen.insert((spec.resource_type, spec.property)), "{spec:?}");
        }
        assert_eq!(seen.len(), 28);
    }
}
