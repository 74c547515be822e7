//! What `samrs deploy --help`, `samrs delete --help` and the man page teach beyond each flag's
//! own line: the option groups of sam's help (and samrs's own), examples, the environment
//! variables samrs reads and its exit statuses. Plain data and plain text, one source for the
//! clap help ([`crate::cli`]) and the man page ([`crate::cli::docs`]), so the two cannot drift.

/// A command whose help this module writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Deploy,
    Delete,
}

impl Topic {
    pub const ALL: [Topic; 2] = [Topic::Deploy, Topic::Delete];

    /// The subcommand's name.
    pub fn name(self) -> &'static str {
        match self {
            Topic::Deploy => "deploy",
            Topic::Delete => "delete",
        }
    }

    /// The option groups, in the order the help shows them.
    pub fn groups(self) -> &'static [OptionGroup] {
        match self {
            Topic::Deploy => DEPLOY_GROUPS,
            Topic::Delete => DELETE_GROUPS,
        }
    }

    pub fn examples(self) -> &'static [Example] {
        match self {
            Topic::Deploy => DEPLOY_EXAMPLES,
            Topic::Delete => DELETE_EXAMPLES,
        }
    }

    /// The environment variables this command reads.
    pub fn environment(self) -> impl Iterator<Item = &'static Variable> {
        ENVIRONMENT
            .iter()
            .filter(move |v| self == Topic::Deploy || !v.deploy_only)
    }
}

/// A heading of the help and the long options under it (`--help` and `--version` included).
#[derive(Debug)]
pub struct OptionGroup {
    pub heading: &'static str,
    pub options: &'static [&'static str],
    /// Whether sam has these options (else they are samrs's own).
    pub from_sam: bool,
}

const fn sam(heading: &'static str, options: &'static [&'static str]) -> OptionGroup {
    OptionGroup {
        heading,
        options,
        from_sam: true,
    }
}

const fn own(heading: &'static str, options: &'static [&'static str]) -> OptionGroup {
    OptionGroup {
        heading,
        options,
        from_sam: false,
    }
}

/// The heading of samrs's own options that no sam heading fits.
pub const SAMRS_ONLY: &str = "samrs-only Options";
/// `--help` and `--version`, where sam puts `--help`.
const OTHER: &str = "Other Options";

/// `sam deploy --help` of SAM CLI 1.170, heading by heading, with samrs's own options under
/// headings of their own, next to the sam heading they extend.
const DEPLOY_GROUPS: &[OptionGroup] = &[
    sam(
        "Required Options",
        &[
            "--stack-name",
            "--capabilities",
            "--resolve-s3",
            "--no-resolve-s3",
        ],
    ),
    sam("Interactive Options", &["--guided"]),
    sam("AWS Credential Options", &["--region", "--profile"]),
    sam(
        "Infrastructure Options",
        &[
            "--parameter-overrides",
            "--s3-bucket",
            "--s3-prefix",
            "--resolve-image-repos",
            "--image-repository",
            "--image-repositories",
            "--role-arn",
            "--kms-key-id",
            "--notification-arns",
            "--tags",
            "--metadata",
        ],
    ),
    own(
        "Managed Repository Options (samrs-only)",
        &[
            "--image-repos-keep-last",
            "--image-repos-expire-untagged-days",
            "--image-repos-scan-on-push",
            "--image-repos-immutable-tags",
            "--image-repos-kms-key",
        ],
    ),
    sam(
        "Deployment Options",
        &[
            "--no-execute-changeset",
            "--fail-on-empty-changeset",
            "--no-fail-on-empty-changeset",
            "--confirm-changeset",
            "--no-confirm-changeset",
            "--disable-rollback",
            "--no-disable-rollback",
            "--on-failure",
            "--force-upload",
            "--max-wait-duration",
            "--express",
            "--no-express",
        ],
    ),
    sam(
        "Configuration Options",
        &["--config-env", "--config-file", "--save-params"],
    ),
    sam(
        "Additional Options",
        &[
            "--language-extensions",
            "--no-language-extensions",
            "--no-progressbar",
            "--output",
            "--signing-profiles",
            "--template-file",
            "--use-json",
        ],
    ),
    own(
        SAMRS_ONLY,
        &["--dry-run", "--plan-out", "--wait-for-cleanup"],
    ),
    sam("Beta Options", &["--beta-features", "--no-beta-features"]),
    sam(OTHER, &["--debug", "--help", "--version"]),
];

/// `sam delete --help` of SAM CLI 1.170, heading by heading, then samrs's own options.
const DELETE_GROUPS: &[OptionGroup] = &[
    sam(
        "Delete Options",
        &[
            "--stack-name",
            "--no-prompts",
            "--s3-bucket",
            "--s3-prefix",
            "--express",
            "--no-express",
        ],
    ),
    sam("AWS Credential Options", &["--region", "--profile"]),
    sam(
        "Configuration Options",
        &["--config-file", "--config-env", "--save-params"],
    ),
    own(SAMRS_ONLY, &["--orphans", "--output"]),
    sam("Beta Options", &["--beta-features", "--no-beta-features"]),
    sam(OTHER, &["--debug", "--help", "--version"]),
];

/// A command line to copy, and what it does.
#[derive(Debug)]
pub struct Example {
    pub what: &'static str,
    /// Words separated by single spaces, no quoting: each is one argument.
    pub command: &'static str,
}

const DEPLOY_EXAMPLES: &[Example] = &[
    Example {
        what: "Deploy from CI: create the artifacts bucket and the image repositories when needed, ask nothing, succeed when nothing changed:",
        command: "samrs deploy --stack-name my-app --capabilities CAPABILITY_IAM --resolve-s3 --resolve-image-repos --no-confirm-changeset --no-fail-on-empty-changeset",
    },
    Example {
        what: "Answer sam's questions once and save the answers to samconfig.toml:",
        command: "samrs deploy --guided",
    },
    Example {
        what: "Show what a deploy would change, as one JSON document for a script, changing nothing:",
        command: "samrs deploy --stack-name my-app --capabilities CAPABILITY_IAM --resolve-s3 --dry-run --output json",
    },
    Example {
        what: "Post what a deploy would change, property by property, as a Markdown table in a pull request:",
        command: "samrs deploy --stack-name my-app --capabilities CAPABILITY_IAM --resolve-s3 --dry-run --output markdown",
    },
    Example {
        what: "Make the change set and save the plan for review (nothing is deployed); `samrs apply plan.json` carries it out as reviewed:",
        command: "samrs deploy --stack-name my-app --capabilities CAPABILITY_IAM --resolve-s3 --resolve-image-repos --plan-out plan.json",
    },
];

const DELETE_EXAMPLES: &[Example] = &[
    Example {
        what: "Delete a stack, its artifacts and its companion stack without asking:",
        command: "samrs delete --stack-name my-app --no-prompts",
    },
    Example {
        what: "Delete the companion stacks whose application stack is gone, after one question:",
        command: "samrs delete --orphans --region eu-west-1",
    },
];

/// An environment variable samrs reads (or a few read together), and what it changes.
#[derive(Debug)]
pub struct Variable {
    /// The names; `<SERVICE>` stands for any suffix.
    pub names: &'static [&'static str],
    /// One line.
    pub meaning: &'static str,
    /// Only `samrs deploy` reads it.
    pub deploy_only: bool,
}

impl Variable {
    /// Whether `name` is one of this entry's names.
    pub fn covers(&self, name: &str) -> bool {
        self.names
            .iter()
            .any(|pattern| match pattern.split_once('<') {
                Some((prefix, _)) => name.starts_with(prefix) && name.len() > prefix.len(),
                None => *pattern == name,
            })
    }
}

const fn both(names: &'static [&'static str], meaning: &'static str) -> Variable {
    Variable {
        names,
        meaning,
        deploy_only: false,
    }
}

const fn deploy(names: &'static [&'static str], meaning: &'static str) -> Variable {
    Variable {
        names,
        meaning,
        deploy_only: true,
    }
}

/// Every environment variable samrs reads, itself or through the AWS SDK, AWS-wide ones first.
/// (tests/it/cli_docs.rs checks that every variable the code reads is here.)
pub const ENVIRONMENT: &[Variable] = &[
    both(
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ],
        "Credentials; a profile named by --profile or samconfig wins over them",
    ),
    both(
        &["AWS_DEFAULT_PROFILE", "AWS_PROFILE"],
        "The profile when neither --profile nor samconfig names one (AWS_DEFAULT_PROFILE first, as sam)",
    ),
    both(
        &["AWS_REGION", "AWS_DEFAULT_REGION"],
        "The region when neither --region nor samconfig names one",
    ),
    both(
        &["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"],
        "Where profiles are read [default: ~/.aws/config, ~/.aws/credentials]",
    ),
    both(
        &[
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_SESSION_NAME",
        ],
        "Web identity credentials (GitHub Actions OIDC, EKS)",
    ),
    both(
        &[
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        ],
        "Container credentials (ECS, CodeBuild)",
    ),
    both(
        &["AWS_EC2_METADATA_DISABLED"],
        "true: do not ask the EC2 instance metadata service for credentials",
    ),
    both(
        &["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_<SERVICE>"],
        "Other AWS endpoints, e.g. an emulator (S3 then uses path-style URLs)",
    ),
    both(
        &["AWS_MAX_ATTEMPTS"],
        "Attempts per AWS call and per registry request [default: 5]",
    ),
    both(
        &["AWS_CA_BUNDLE"],
        "A PEM file of CA certificates to trust too (a private CA, a TLS-inspecting proxy)",
    ),
    both(
        &["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"],
        "Proxies for AWS calls and image pushes (lower-case names too)",
    ),
    both(
        &["SAM_CLI_POLL_DELAY"],
        "Seconds between CloudFormation status polls [default: 0.25 growing to 5]",
    ),
    both(&["SAM_DEBUG"], "1, true, yes or on: as --debug"),
    deploy(
        &["SAM_TEMPLATE_FILE"],
        "The template when neither --template-file nor samconfig names one",
    ),
    deploy(
        &["SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS"],
        "1, true or yes: as --language-extensions",
    ),
    deploy(
        &["DOCKER_HOST", "DOCKER_CONTEXT"],
        "The engine local images are read from [default: docker's context, else known sockets]",
    ),
    deploy(
        &["DOCKER_CONFIG"],
        "Docker's configuration directory, for its contexts [default: ~/.docker]",
    ),
    deploy(
        &["DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"],
        "TLS client certificates for a tcp:// DOCKER_HOST",
    ),
    deploy(
        &["XDG_RUNTIME_DIR"],
        "Where the sockets of rootless docker and podman are looked for",
    ),
    both(&["HOME"], "Where ~/.aws and ~/.docker are"),
    both(&["NO_COLOR"], "Set and not empty: no colours"),
    deploy(&["CI"], "Set: no progress bars, plain lines for logs"),
    both(
        &["SAMRS_RETRY_BACKOFF"],
        "Seconds before the first retry of a call, doubling per retry [default: 1]",
    ),
    both(
        &["SAMRS_CONNECT_TIMEOUT", "SAMRS_READ_TIMEOUT"],
        "Seconds to connect [default: 5] and to wait for an answer [default: 30; pushes 120]",
    ),
    both(
        &["SAMRS_SLOW_CALL_SECONDS"],
        "Seconds without an answer before stderr says what samrs waits for [default: 10]",
    ),
    both(
        &["SAMRS_MAX_WAIT_SECONDS"],
        "A wait limit in seconds, over --max-wait-duration",
    ),
    deploy(
        &["SAMRS_REGISTRY_ENDPOINT"],
        "Push images to this registry instead of ECR's (tests; http:// only to loopback)",
    ),
];

/// An exit status and what it means, as sam's.
#[derive(Debug)]
pub struct ExitStatus {
    pub code: u8,
    pub meaning: &'static str,
    /// What it also means for `samrs deploy` (empty when nothing).
    pub on_deploy: &'static str,
}

pub const EXIT_STATUSES: &[ExitStatus] = &[
    ExitStatus {
        code: 0,
        meaning: "Done",
        on_deploy: "; also nothing to deploy with --no-fail-on-empty-changeset",
    },
    ExitStatus {
        code: 1,
        meaning: "Failed",
        on_deploy: "; also nothing to deploy, unless --no-fail-on-empty-changeset",
    },
    ExitStatus {
        code: 2,
        meaning:
            "A usage mistake: a missing, unknown, invalid or conflicting option or samconfig value",
        on_deploy: "",
    },
    ExitStatus {
        code: 130,
        meaning: "Interrupted (Ctrl-C)",
        on_deploy: "",
    },
    ExitStatus {
        code: 143,
        meaning: "Terminated (SIGTERM, as CI sends a cancelled job), handled as Ctrl-C",
        on_deploy: "",
    },
];

impl ExitStatus {
    /// The meaning for `topic`'s command.
    pub fn meaning_for(&self, topic: Topic) -> String {
        match topic {
            Topic::Deploy => format!("{}{}", self.meaning, self.on_deploy),
            Topic::Delete => self.meaning.to_string(),
        }
    }
}

/// How a section's heading is drawn (the terminal's style for clap's headings, or none).
pub type Heading<'a> = &'a dyn Fn(&str) -> String;

/// The text after the options in `-h`: the examples, and where the rest is.
pub fn short_after_options(topic: Topic, heading: Heading) -> String {
    format!(
        "{}\nThe environment variables samrs reads and its exit statuses: samrs {} --help",
        examples(topic, heading),
        topic.name()
    )
}

/// The text after the options in `--help`: examples, environment variables, exit statuses.
pub fn long_after_options(topic: Topic, heading: Heading) -> String {
    let mut text = examples(topic, heading);
    text.push_str(&format!("\n{}\n", heading("Environment:")));
    for variable in topic.environment() {
        text.push_str(&format!(
            "  {}\n          {}\n",
            variable.names.join(", "),
            variable.meaning
        ));
    }
    text.push_str(&format!("\n{}\n", heading("Exit status:")));
    for status in EXIT_STATUSES {
        text.push_str(&format!(
            "  {:<5}{}\n",
            status.code,
            status.meaning_for(topic)
        ));
    }
    text
}

fn examples(topic: Topic, heading: Heading) -> String {
    let mut text = format!("{}\n", heading("Examples:"));
    for example in topic.examples() {
        text.push_str(&format!("  {}\n    $ {}\n", example.what, example.command));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> String {
        text.to_string()
    }

    #[test]
    fn the_long_text_has_examples_environment_and_exit_statuses() {
        let text = long_after_options(Topic::Deploy, &plain);
        assert!(text.starts_with("Examples:\n  Deploy from CI"), "{text}");
        assert!(text.contains("\n    $ samrs deploy --guided\n"), "{text}");
        assert!(
            text.contains("\nEnvironment:\n  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n          Credentials;"),
            "{text}"
        );
        assert!(
            text.contains(
                "\n  SAM_CLI_POLL_DELAY\n          Seconds between CloudFormation status polls"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "  143  Terminated (SIGTERM, as CI sends a cancelled job), handled as Ctrl-C\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn delete_lists_only_the_variables_it_reads() {
        let delete = long_after_options(Topic::Delete, &plain);
        for name in [
            "SAM_TEMPLATE_FILE",
            "DOCKER_HOST",
            "SAMRS_REGISTRY_ENDPOINT",
        ] {
            assert!(!delete.contains(name), "{name} in\n{delete}");
        }
        for name in ["AWS_PROFILE", "SAM_CLI_POLL_DELAY", "SAM_DEBUG", "NO_COLOR"] {
            assert!(delete.contains(name), "no {name} in\n{delete}");
        }
        assert_eq!(
            Topic::Deploy.environment().count(),
            ENVIRONMENT.len(),
            "deploy reads them all"
        );
    }

    #[test]
    fn the_short_text_points_to_the_long_one() {
        let text = short_after_options(Topic::Delete, &|h| format!("[{h}]"));
        assert!(text.starts_with("[Examples:]\n"), "{text}");
        assert!(
            text.ends_with("exit statuses: samrs delete --help"),
            "{text}"
        );
        assert!(!text.contains("Environment"), "{text}");
    }

    #[test]
    fn a_service_pattern_covers_each_service_only() {
        let endpoints = &ENVIRONMENT
            .iter()
            .find(|v| v.names.contains(&"AWS_ENDPOINT_URL"))
            .unwrap();
        assert!(endpoints.covers("AWS_ENDPOINT_URL"));
        assert!(endpoints.covers("AWS_ENDPOINT_URL_S3"));
        assert!(!endpoints.covers("AWS_ENDPOINT_URL_"));
        assert!(!endpoints.covers("AWS_REGION"));
    }

    #[test]
    fn each_option_is_in_one_group_of_its_command() {
        for topic in Topic::ALL {
            let mut seen = std::collections::HashSet::new();
            for group in topic.groups() {
                assert!(!group.options.is_empty(), "{}", group.heading);
                for option in group.options {
                    assert!(seen.insert(*option), "{} twice in {topic:?}", option);
                }
            }
        }
    }
}
