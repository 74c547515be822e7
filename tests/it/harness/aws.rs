//! What the emulator holds, read back for assertions: SDK clients built against moto (one tokio
//! runtime shared by all tests, so plain `#[test]`s can call them through [`block_on`]), and small
//! synchronous helpers returning plain Rust values. Lambda and the registry are read over raw HTTP
//! because the crate has no SDK for them.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudformation::config::Credentials;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;

use super::emulator::{Emulator, ACCOUNT_ID, REGISTRY_PASSWORD, REGISTRY_USER};
use super::http::{basic_auth, request};

/// The region every test runs in.
pub const REGION: &str = "us-east-1";

/// Runs `future` on the runtime all tests share (SDK clients keep connections tied to a runtime).
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("build the tests' tokio runtime")
        })
        .block_on(future)
}

/// SDK clients pointed at the emulator, with its dummy credentials.
pub(super) struct Clients {
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
    ecr: aws_sdk_ecr::Client,
    sts: aws_sdk_sts::Client,
}

impl Clients {
    pub(super) fn new(endpoint: &str) -> Clients {
        let config = block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .endpoint_url(endpoint)
                .region(Region::new(REGION))
                .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
                .load(),
        );
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        Clients {
            cfn: aws_sdk_cloudformation::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            ecr: aws_sdk_ecr::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
        }
    }
}

/// One resource of a stack, as DescribeStackResources reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: String,
    pub status: String,
}

impl Emulator {
    /// CloudFormation client against the emulator.
    pub fn cfn(&self) -> &aws_sdk_cloudformation::Client {
        &self.clients.cfn
    }

    /// S3 client against the emulator (path-style addressing).
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.clients.s3
    }

    /// ECR client against the emulator.
    pub fn ecr(&self) -> &aws_sdk_ecr::Client {
        &self.clients.ecr
    }

    /// STS client against the emulator.
    pub fn sts(&self) -> &aws_sdk_sts::Client {
        &self.clients.sts
    }

    /// The stack's status (`CREATE_COMPLETE`, ...), or None when no stack has that name.
    pub fn stack_status(&self, stack: &str) -> Option<String> {
        match block_on(self.cfn().describe_stacks().stack_name(stack).send()) {
            Ok(out) => out
                .stacks()
                .first()
                .and_then(|s| s.stack_status())
                .map(|s| s.as_str().to_owned()),
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.message())
                    .is_some_and(|m| m.contains("does not exist")) =>
            {
                None
            }
            Err(e) => panic!("DescribeStacks {stack}: {e:?}"),
        }
    }

    /// The stack's resources, in the order CloudFormation lists them.
    pub fn stack_resources(&self, stack: &str) -> Vec<Resource> {
        let out = block_on(
            self.cfn()
                .describe_stack_resources()
                .stack_name(stack)
                .send(),
        )
        .unwrap_or_else(|e| panic!("DescribeStackResources {stack}: {e:?}"));
        out.stack_resources()
            .iter()
            .map(|r| Resource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// The stack's outputs, key to value.
    pub fn stack_outputs(&self, stack: &str) -> BTreeMap<String, String> {
        let out = block_on(self.cfn().describe_stacks().stack_name(stack).send())
            .unwrap_or_else(|e| panic!("DescribeStacks {stack}: {e:?}"));
        let stack = out
            .stacks()
            .first()
            .unwrap_or_else(|| panic!("no stack {stack}"));
        stack
            .outputs()
            .iter()
            .map(|o| {
                (
                    o.output_key().unwrap_or_default().to_owned(),
                    o.output_value().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Every object key in `bucket`, sorted.
    pub fn list_objects(&self, bucket: &str) -> Vec<String> {
        let pages = block_on(
            self.s3()
                .list_objects_v2()
                .bucket(bucket)
                .into_paginator()
                .send()
                .try_collect(),
        )
        .unwrap_or_else(|e| panic!("ListObjectsV2 {bucket}: {e:?}"));
        let mut keys: Vec<String> = pages
            .iter()
            .flat_map(|p| p.contents())
            .filter_map(|o| o.key())
            .map(str::to_owned)
            .collect();
        keys.sort();
        keys
    }

    /// Names of all ECR repositories, sorted.
    pub fn repositories(&self) -> Vec<String> {
        let repos = block_on(
            self.ecr()
                .describe_repositories()
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .unwrap_or_else(|e| panic!("DescribeRepositories: {e:?}"));
        let mut names: Vec<String> = repos
            .iter()
            .filter_map(|r| r.repository_name())
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    /// The repository's policy text, or None when it has none.
    pub fn repository_policy(&self, repo: &str) -> Option<String> {
        match block_on(
            self.ecr()
                .get_repository_policy()
                .repository_name(repo)
                .send(),
        ) {
            Ok(out) => out.policy_text().map(str::to_owned),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_repository_policy_not_found_exception()) =>
            {
                None
            }
            Err(e) => panic!("GetRepositoryPolicy {repo}: {e:?}"),
        }
    }

    /// Puts an image (a manifest with no layers) into a repository, as ECR sees it: images that
    /// must survive (or go with) a repository.
    pub fn put_image(&self, repo: &str, tag: &str) {
        let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
        block_on(
            self.ecr()
                .put_image()
                .repository_name(repo)
                .image_manifest(manifest)
                .image_tag(tag)
                .send(),
        )
        .unwrap_or_else(|e| panic!("PutImage into {repo}: {e:?}"));
    }

    /// The tags of the images ECR lists in a repository (none when it does not exist).
    pub fn image_tags(&self, repo: &str) -> Vec<String> {
        block_on(self.ecr().list_images().repository_name(repo).send())
            .map(|out| {
                out.image_ids()
                    .iter()
                    .filter_map(|i| i.image_tag().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The repository's tags, key to value.
    pub fn repository_tags(&self, repo: &str) -> BTreeMap<String, String> {
        let arn = format!("arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/{repo}");
        let out = block_on(
            self.ecr()
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send(),
        )
        .unwrap_or_else(|e| panic!("ListTagsForResource {arn}: {e:?}"));
        out.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }

    /// Lambda's GetFunction answer (`Configuration`, `Code`, ...), or None when there is no such
    /// function. moto routes unsigned requests by the credential scope, so a fake one names Lambda.
    pub fn lambda_function(&self, name: &str) -> Option<serde_json::Value> {
        let scope = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20240101/{REGION}/lambda/aws4_request, SignedHeaders=host, Signature=0"
        );
        let response = request(
            self.moto_port,
            "GET",
            &format!("/2015-03-31/functions/{name}"),
            &[("Authorization", &scope)],
            b"",
        );
        match response.status {
            200 => Some(response.json()),
            404 => None,
            status => panic!(
                "Lambda GetFunction {name}: HTTP {status}: {}",
                response.body
            ),
        }
    }

    /// Sets an SSM Parameter Store `String` parameter (over moto's JSON API: the crate has no SSM
    /// SDK; moto routes unsigned requests by the credential scope).
    pub fn put_ssm_parameter(&self, name: &str, value: &str) {
        let scope = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20240101/{REGION}/ssm/aws4_request, SignedHeaders=host, Signature=0"
        );
        let body =
            serde_json::json!({"Name": name, "Value": value, "Type": "String", "Overwrite": true});
        let response = request(
            self.moto_port,
            "POST",
            "/",
            &[
                ("Authorization", &scope),
                ("X-Amz-Target", "AmazonSSM.PutParameter"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            body.to_string().as_bytes(),
        );
        assert_eq!(
            response.status, 200,
            "PutParameter {name}: {}",
            response.body
        );
    }

    /// The names and statuses of a stack's change sets.
    pub fn change_sets(&self, stack: &str) -> Vec<(String, String)> {
        let out = block_on(self.cfn().list_change_sets().stack_name(stack).send())
            .unwrap_or_else(|e| panic!("ListChangeSets {stack}: {e:?}"));
        out.summaries()
            .iter()
            .map(|c| {
                (
                    c.change_set_name().unwrap_or_default().to_owned(),
                    c.status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Tags of `repo` in the registry (empty when the registry does not know the repository).
    pub fn registry_tags(&self, repo: &str) -> Vec<String> {
        let auth = basic_auth(REGISTRY_USER, REGISTRY_PASSWORD);
        let response = request(
            self.registry_port,
            "GET",
            &format!("/v2/{repo}/tags/list"),
            &[("Authorization", &auth)],
            b"",
        );
        match response.status {
            200 => {
                let tags = response.json()["tags"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                tags.iter()
                    .filter_map(|t| t.as_str())
                    .map(str::to_owned)
                    .collect()
            }
            404 => Vec::new(),
            status => panic!(
                "registry GET /v2/{repo}/tags/list: HTTP {status}: {}",
                response.body
            ),
        }
    }

    /// The manifest `repo:reference` in the registry: its digest (sha256 of the bytes served)
    /// and its JSON.
    pub fn registry_manifest(&self, repo: &str, reference: &str) -> (String, serde_json::Value) {
        use sha2::Digest;
        let accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
        let response = self.registry_get(&format!("/v2/{repo}/manifests/{reference}"), accept);
        let hex: String = sha2::Sha256::digest(&response.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        (format!("sha256:{hex}"), response.json())
    }

    /// The bytes of blob `digest` of `repo` in the registry.
    pub fn registry_blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        self.registry_get(&format!("/v2/{repo}/blobs/{digest}"), "*/*")
            .bytes
    }

    fn registry_get(&self, path: &str, accept: &str) -> super::http::Response {
        let auth = basic_auth(REGISTRY_USER, REGISTRY_PASSWORD);
        let response = request(
            self.registry_port,
            "GET",
            path,
            &[("Authorization", &auth), ("Accept", accept)],
            b"",
        );
        assert_eq!(
            response.status, 200,
            "registry GET {path}: {}",
            response.body
        );
        response
    }
}
