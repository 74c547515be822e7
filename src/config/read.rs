//! The read model of samconfig: which file sam would use, and the parameters it holds. TOML and
//! YAML files are first reduced to one neutral tree, so both syntaxes obey the same rules (sam's
//! version check, `[env.command.parameters]` layout, global parameters merged under the command's).

use std::fs;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use toml_edit::DocumentMut;

use super::{ConfigError, ConfigValue, Format, GLOBAL};
pub use tree::Node;
use tree::{from_tree, toml_node, yaml_node};

pub(super) use tree::item_value;

mod tree;

/// sam's default file names, in its order of preference.
const DEFAULT_FILES: [&str; 3] = ["samconfig.toml", "samconfig.yaml", "samconfig.yml"];

type Parameters = IndexMap<String, ConfigValue>;

/// A parsed samconfig file: each environment's commands and their `parameters` tables.
#[derive(Debug, Clone, PartialEq)]
pub struct SamConfig {
    path: PathBuf,
    environments: IndexMap<String, IndexMap<String, Parameters>>,
}

impl SamConfig {
    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environments the file defines (its top-level tables), in file order.
    pub fn environments(&self) -> impl Iterator<Item = &str> {
        self.environments.keys().map(String::as_str)
    }

    /// Whether the file defines the environment `env`.
    pub fn has_environment(&self, env: &str) -> bool {
        self.environments.contains_key(env)
    }

    /// `[env.<command>.parameters]` merged over `[env.global.parameters]` (the command's value
    /// wins, keys keep global's order first), as sam's `get_all`. `command` is sam's command key,
    /// e.g. `"deploy"` or `"local start-api"` (words and dashes become `_`).
    pub fn parameters(&self, env: &str, command: &str) -> IndexMap<String, ConfigValue> {
        let Some(commands) = self.environments.get(env) else {
            return IndexMap::new();
        };
        let command = command.replace(['-', ' '], "_");
        let mut merged = commands.get(GLOBAL).cloned().unwrap_or_default();
        if let Some(own) = commands.get(&command) {
            merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        merged
    }

    /// Only the command's own `[env.<command>.parameters]` table, without global.
    pub fn own_parameters(&self, env: &str, command: &str) -> IndexMap<String, ConfigValue> {
        let command = command.replace(['-', ' '], "_");
        self.environments
            .get(env)
            .and_then(|commands| commands.get(&command))
            .cloned()
            .unwrap_or_default()
    }

    /// Builds the model from a file's text.
    pub(super) fn parse(path: &Path, format: Format, text: &str) -> Result<SamConfig, ConfigError> {
        from_tree(path, root_node(path, format, text)?, false)
    }

    /// [`SamConfig::parse`] of a file being saved, which may not have its version yet.
    pub(super) fn parse_draft(
        path: &Path,
        format: Format,
        text: &str,
    ) -> Result<SamConfig, ConfigError> {
        from_tree(path, root_node(path, format, text)?, true)
    }

    /// Builds the model from an already parsed TOML document (the edit model checks a file
    /// with this before changing it).
    pub(super) fn from_toml(path: &Path, doc: &DocumentMut) -> Result<SamConfig, ConfigError> {
        from_tree(path, toml_node(doc.as_item()), false)
    }
}

/// The samconfig file sam would read: an explicit `--config-file` (relative to `dir`, the
/// template's directory or the working directory) if it exists, otherwise the first of
/// `samconfig.toml`, `samconfig.yaml`, `samconfig.yml` found in `dir`. `None` when there is none
/// (for an explicit file, sam's "Config file … does not exist or could not be read!").
pub fn find_config_file(dir: &Path, explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        // `join` keeps an absolute path as given.
        Some(file) => Some(dir.join(file)).filter(|path| path.is_file()),
        None => DEFAULT_FILES
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.exists()),
    }
}

/// Reads and parses a samconfig file (`.toml`, `.yaml` or `.yml`).
pub fn load(path: &Path) -> Result<SamConfig, ConfigError> {
    let format = Format::of(path)?;
    let text = fs::read_to_string(path).map_err(|e| ConfigError::io("read", path, e))?;
    SamConfig::parse(path, format, &text)
}

/// Reads a TOML or YAML file (chosen by extension, as samconfig) as a plain tree, for the
/// parameter files of `--parameter-overrides file://PATH`.
pub fn load_tree(path: &Path) -> Result<Node, ConfigError> {
    let format = Format::of(path)?;
    let text = fs::read_to_string(path).map_err(|e| ConfigError::io("read", path, e))?;
    root_node(path, format, &text)
}

/// The plain tree of a TOML or YAML text.
fn root_node(path: &Path, format: Format, text: &str) -> Result<Node, ConfigError> {
    Ok(match format {
        Format::Toml => toml_node(parse_toml(path, text)?.as_item()),
        Format::Yaml => yaml_node(&parse_yaml(path, text)?),
    })
}

/// Parses samconfig text as if read from `path` (whose extension picks TOML or YAML).
pub fn parse_str(path: &Path, text: &str) -> Result<SamConfig, ConfigError> {
    SamConfig::parse(path, Format::of(path)?, text)
}

/// Parses TOML, reporting the line and column of a syntax error.
pub(super) fn parse_toml(path: &Path, text: &str) -> Result<DocumentMut, ConfigError> {
    text.parse::<DocumentMut>()
        .map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            format: Format::Toml.name(),
            location: e.span().map(|span| line_column(text, span.start)),
            message: e.message().trim_end().to_string(),
        })
}

/// Parses YAML and applies `<<` merge keys, which serde_yaml leaves to the caller.
fn parse_yaml(path: &Path, text: &str) -> Result<serde_yaml::Value, ConfigError> {
    let syntax = |e: serde_yaml::Error| {
        let message = e.to_string();
        // serde_yaml appends the location to its message; it is reported separately.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string();
        ConfigError::Syntax {
            path: path.to_path_buf(),
            format: Format::Yaml.name(),
            location: e.location().map(|l| (l.line(), l.column())),
            message,
        }
    };
    let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(syntax)?;
    // A merged mapping can bring its own `<<` (an anchor built on another anchor), which the
    // next pass resolves; YAML aliases cannot form cycles, so this ends.
    loop {
        let before = value.clone();
        value.apply_merge().map_err(syntax)?;
        if value == before {
            return Ok(value);
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL_WORLD: &str = "/work/shared/real-world/samconfig";

    fn real(name: &str) -> SamConfig {
        let path = Path::new(REAL_WORLD).join(name);
        let format = if name.contains(".yaml") || name.contains(".yml") {
            Format::Yaml
        } else {
            Format::Toml
        };
        SamConfig::parse(&path, format, &fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn string(v: &Parameters, key: &str) -> String {
        v[key].as_string().unwrap()
    }

    #[test]
    fn all_real_world_files_parse_except_the_invalid_one() {
        let mut seen = 0;
        for entry in fs::read_dir(REAL_WORLD).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let format = if name.contains(".yaml") || name.contains(".yml") {
                Format::Yaml
            } else {
                Format::Toml
            };
            let result = SamConfig::parse(&path, format, &fs::read_to_string(&path).unwrap());
            seen += 1;
            if name.ends_with("samconfig-invalid-syntax.toml") {
                let message = result.unwrap_err().to_string();
                assert!(
                    message.contains("samconfig-invalid-syntax.toml:2:12: invalid TOML"),
                    "{message}"
                );
                assert!(message.contains("Fix the syntax"), "{message}");
                assert!(!message.contains('\n'), "{message}");
            } else {
                let config = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!config.environments.is_empty(), "{name} has no environment");
            }
        }
        assert_eq!(seen, 24);
    }

    #[test]
    fn deploy_parameters_win_over_global_and_follow_its_order() {
        let p =
            real("DDC-SIH__lambda-ingest-pipeline__samconfig.toml").parameters("default", "deploy");
        let keys: Vec<&str> = p.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "stack_name",
                "capabilities",
                "confirm_changeset",
                "resolve_s3",
                "resolve_image_repos",
                "s3_prefix",
                "region",
                "disable_rollback"
            ]
        );
        assert_eq!(string(&p, "stack_name"), "insat3d-processing");
        assert_eq!(p["capabilities"].as_list(), ["CAPABILITY_NAMED_IAM"]);
        assert_eq!(p["resolve_image_repos"].as_bool(), Some(true));
        assert_eq!(p["disable_rollback"], ConfigValue::Bool(true));
        // Other commands inherit only global.
        let build =
            real("DDC-SIH__lambda-ingest-pipeline__samconfig.toml").parameters("default", "build");
        assert_eq!(string(&build, "stack_name"), "insat-processing");
        assert_eq!(build["parallel"], ConfigValue::Bool(true));
    }

    #[test]
    fn global_only_values_reach_deploy() {
        let p = real("woohwan__mlops-aws-sam-image__sam-app-image__samconfig.toml")
            .parameters("default", "deploy");
        assert_eq!(string(&p, "stack_name"), "sam-app-image");
        assert_eq!(string(&p, "region"), "ap-northeast-2");
        assert_eq!(p["resolve_image_repos"].as_bool(), Some(true));
    }

    #[test]
    fn image_repositories_arrays_are_lists() {
        let p =
            real("Intizar-T__lambda-image-scraper__samconfig.toml").parameters("default", "deploy");
        assert_eq!(
            p["image_repositories"].as_list(),
            ["HelloWorldFunction=190047048560.dkr.ecr.ap-northeast-2.amazonaws.com/imagescraper95ffd0b0/helloworldfunction19d43fc4repo"]
        );
        assert_eq!(
            string(&p, "s3_bucket"),
            "aws-sam-cli-managed-default-samclisourcebucket-1sncbhh6kkruw"
        );
        assert_eq!(p["confirm_changeset"].as_bool(), Some(true));
        let p =
            real("aws-samples__serverless-samples__terraform-sam-integration__sam__samconfig.toml")
                .parameters("default", "deploy");
        assert_eq!(p["image_repositories"], ConfigValue::List(Vec::new()));
        assert_eq!(string(&p, "region"), "us-west-1");
    }

    #[test]
    fn example_file_with_array_overrides_and_quoted_tags() {
        let p = real("aws-samples__serverless-samples__owasp-api-security-controls-demo__owasp-api-security-controls-demo__samconfig.toml.example")
            .parameters("default", "deploy");
        assert_eq!(
            p["capabilities"].as_list(),
            ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
        );
        assert_eq!(p["tags"].as_list(), ["project=owasp-api-security-demo"]);
        assert_eq!(p["disable_rollback"].as_bool(), Some(false));
        let overrides = p["parameter_overrides"].as_list();
        assert_eq!(overrides.len(), 8);
        assert_eq!(overrides[0], "AdminEmail=<email 1>");
        assert_eq!(overrides[7], "Subnet2=<private subnet 2 id>");
    }

    #[test]
    fn other_environments_and_their_global_region() {
        let config =
            real("aws__aws-sam-cli__tests__integration__testdata__buildcmd__samconfig.toml");
        let dev = config.parameters("dev", "deploy");
        assert_eq!(string(&dev, "stack_name"), "foreach-topics");
        assert_eq!(string(&dev, "region"), "us-west-2");
        assert_eq!(
            dev["parameter_overrides"].as_list(),
            ["Runtime=python3.13", "Environment=dev"]
        );
        let dev2 = config.parameters("dev2", "deploy");
        assert_eq!(
            dev2["parameter_overrides"].as_list(),
            ["Runtime=python3.13", "Environment=dev2"]
        );
        assert!(config.parameters("prod", "deploy").is_empty());

        let staging =
            real("el-feo__content_processing__samconfig.toml").parameters("staging", "deploy");
        assert_eq!(string(&staging, "stack_name"), "content-processing");
        assert_eq!(string(&staging, "region"), "us-east-1");
        let dev =
            real("cloco-ritesh__sam_lambda_sel_py3.9__samconfig.toml").parameters("dev", "deploy");
        assert_eq!(string(&dev, "s3_prefix"), "sam-sel-py39-test");
        assert_eq!(string(&dev, "region"), "ap-northeast-1");
    }

    #[test]
    fn capability_and_tag_arrays() {
        let p = real("aws__aws-sam-cli__tests__integration__testdata__package__samconfig-capabilities-list.toml").parameters("default", "deploy");
        assert_eq!(
            p["capabilities"].as_list(),
            ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
        );
        let p = real(
            "aws__aws-sam-cli__tests__integration__testdata__package__samconfig-tags-list.toml",
        )
        .parameters("default", "deploy");
        assert_eq!(
            p["tags"].as_list()[1],
            "company:application=awesome-service"
        );
        assert_eq!(p["tags"].as_list().len(), 4);
        let p = real("aws__aws-sam-cli__tests__integration__testdata__package__samconfig-read-boolean-tomlkit.toml").parameters("default", "deploy");
        assert_eq!(
            p.into_iter().collect::<Vec<_>>(),
            [("confirm_changeset".to_string(), ConfigValue::Bool(false))]
        );
    }

    #[test]
    fn yaml_files() {
        let p = real(
            "aws__aws-sam-cli__tests__integration__testdata__delete__companion-ecr__samconfig.yaml",
        )
        .parameters("default", "deploy");
        assert_eq!(p["capabilities"].as_list(), ["CAPABILITY_IAM"]);
        assert_eq!(p["resolve_image_repos"].as_bool(), Some(true));
        assert_eq!(p["confirm_changeset"].as_bool(), Some(false));

        let config = real("codeforamerica__document-transfer-lambda__samconfig.yaml");
        assert!(config.parameters("default", "deploy").is_empty());
        let prod = config.parameters("prod", "deploy");
        let overrides = prod["parameter_overrides"].as_list();
        assert_eq!(overrides.len(), 8);
        assert_eq!(
            overrides[3],
            "Subnets=subnet-01ea7634ed726dfc3,subnet-03591e096e32ebd2f,subnet-07fb5fe13fc75c576"
        );
        assert_eq!(prod["tags"].as_list()[0], "environment=production");
        assert_eq!(prod["image_repositories"], ConfigValue::List(Vec::new()));

        let config = real("department-for-transport-BODS__bods-backend__samconfig.yaml");
        let default = config.parameters("default", "deploy");
        assert_eq!(default["resolve_s3"].as_bool(), Some(false));
        assert_eq!(string(&default, "region"), "eu-west-2");
        let invoke = config.parameters("default", "local invoke");
        assert_eq!(invoke["parameter_overrides"].as_list()[2], "RdsDbPort=5432");
        let dev = config.parameters("dev", "deploy");
        assert_eq!(
            dev["capabilities"].as_list(),
            ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
        );
        assert_eq!(
            dev["parameter_overrides"].as_list()[0],
            "ProjectName=bods-backend"
        );

        let build = real(
            "aws__aws-sam-cli__tests__integration__testdata__buildcmd__samconfig__samconfig.yml",
        )
        .parameters("default", "build");
        assert_eq!(
            build["parameter_overrides"].as_list(),
            [
                "Runtime=python3.9",
                "CodeUri=SomeURI",
                "Handler=SomeHandler"
            ]
        );
        assert!(real("observeinc__aws-sam-apps__samconfig.yaml")
            .parameters("default", "deploy")
            .is_empty());
    }

    #[test]
    fn finds_files_in_sams_order_and_explicit_ones_relative_to_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find_config_file(dir.path(), None), None);
        fs::write(dir.path().join("samconfig.yml"), "").unwrap();
        assert_eq!(
            find_config_file(dir.path(), None),
            Some(dir.path().join("samconfig.yml"))
        );
        fs::write(dir.path().join("samconfig.yaml"), "").unwrap();
        assert_eq!(
            find_config_file(dir.path(), None),
            Some(dir.path().join("samconfig.yaml"))
        );
        fs::write(dir.path().join("samconfig.toml"), "").unwrap();
        assert_eq!(
            find_config_file(dir.path(), None),
            Some(dir.path().join("samconfig.toml"))
        );

        fs::create_dir(dir.path().join("cfg")).unwrap();
        fs::write(dir.path().join("cfg/prod.toml"), "").unwrap();
        let relative = find_config_file(dir.path(), Some(Path::new("cfg/prod.toml")));
        assert_eq!(relative, Some(dir.path().join("cfg/prod.toml")));
        let absolute = dir.path().join("cfg/prod.toml");
        assert_eq!(
            find_config_file(Path::new("/elsewhere"), Some(&absolute)),
            Some(absolute.clone())
        );
        assert_eq!(
            find_config_file(dir.path(), Some(Path::new("missing.toml"))),
            None
        );
    }

    #[test]
    fn load_reads_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.yml");
        fs::write(
            &path,
            "version: 0.1\ndefault:\n  deploy:\n    parameters:\n      stack_name: app\n",
        )
        .unwrap();
        let config = load(&path).unwrap();
        assert_eq!(config.path(), path);
        assert_eq!(
            string(&config.parameters("default", "deploy"), "stack_name"),
            "app"
        );
        let err = load(&dir.path().join("absent.toml")).unwrap_err();
        assert!(
            matches!(err, ConfigError::Io { action: "read", .. }),
            "{err}"
        );
    }

    #[test]
    fn yaml_anchors_and_merge_keys() {
        let config = real("tatenmitdaten__dbt-lambda__example__transform__samconfig.yaml");
        let dev = config.parameters("dev", "deploy");
        assert_eq!(string(&dev, "stack_name"), "transform-dev");
        assert_eq!(string(&dev, "profile"), "sandbox");
        assert_eq!(string(&dev, "region"), "eu-central-1");
        assert_eq!(
            dev["capabilities"].as_list(),
            ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
        );
        assert_eq!(dev["parameter_overrides"].as_list()[0], "Environment=dev");
        assert_eq!(
            string(&config.parameters("prod", "deploy"), "s3_prefix"),
            "transform-prod"
        );

        // Explicit keys beat merged ones; an anchor built on another anchor is merged too.
        let text = "version: 0.1\nbase: &base {deploy: {parameters: &p {region: a, profile: x}}}\n\
                    mid: {deploy: {parameters: &m {<<: *p, region: b}}}\n\
                    top: {deploy: {parameters: {<<: *m, stack_name: s, tags: {Team: core, Ids: [1, 2]}}}}\n";
        let config = SamConfig::parse(Path::new("samconfig.yaml"), Format::Yaml, text).unwrap();
        let top = config.parameters("top", "deploy");
        assert_eq!(string(&top, "region"), "b");
        assert_eq!(string(&top, "profile"), "x");
        assert_eq!(top["tags"].as_list(), ["Team=core", "Ids=1,2"]);
    }
}
