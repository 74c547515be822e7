//! End to end: samrs against bad input (samrs issue 9). Every case of the corpus in
//! tests/bad-input/ (broken templates and samconfig files) and every flag mistake runs the real
//! binary and must end with sam's exit status (2 for a usage mistake, 1 otherwise), exactly one
//! one-line `Error:` message (the exact text is in the tables), no panic or backtrace, no samconfig
//! written, and no stack or repository left behind under the case's names. The few cases that are
//! valid (names exactly at AWS's limits) must deploy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use samrs::companion::{CompanionStack, EcrRepo};

use crate::harness::{RunOutput, TestEnv};

/// A corpus file and what samrs must answer. In `args` and `error`, `{stack}` is the case's own
/// stack name and `{dir}` its work directory.
///
/// Every case was run with SAM CLI 1.170 too (against the emulator, and where the emulator accepts
/// what CloudFormation refuses — duplicate-free but invalid templates, stack names — as sam ends
/// against AWS: exit 1 on CloudFormation's ValidationError). samrs exits as sam does, except where
/// `sam` says what sam does instead, and why samrs differs.
struct Case {
    /// A file (or directory) under tests/bad-input/.
    input: &'static str,
    /// Arguments after the group's own (split on spaces).
    args: &'static str,
    /// The exit status.
    status: i32,
    /// The one `Error:` line; empty when the case must succeed.
    error: &'static str,
    /// What sam does when it does not exit with `status` (empty: it does).
    sam: &'static str,
}

const fn case(input: &'static str, args: &'static str, status: i32, error: &'static str) -> Case {
    Case {
        input,
        args,
        status,
        error,
        sam: "",
    }
}

impl Case {
    /// Records what sam does instead, on purpose different.
    const fn sam(self, sam: &'static str) -> Case {
        Case { sam, ..self }
    }
}

/// Broken templates, deployed as `template.yaml` (a `.json` keeps its name and is passed with
/// `-t`; a directory is copied whole) with `deploy --stack-name {stack} --no-confirm-changeset`.
const TEMPLATES: &[Case] = &[
    case("templates/yaml-bad-indent.yaml", "", 1, "Error: {dir}/template.yaml: line 4, column 4: did not find expected key, while parsing a block mapping (check the indentation of this line and the one above)"),
    case("templates/yaml-tab-indent.yaml", "", 1, "Error: {dir}/template.yaml: line 3, column 1: found character that cannot start any token, while scanning for the next token (YAML indentation must use spaces, not tabs)"),
    case("templates/yaml-unclosed-quote.yaml", "", 1, "Error: {dir}/template.yaml: line 4, column 1: found unexpected end of stream, while scanning a quoted scalar"),
    case("templates/yaml-unclosed-flow.yaml", "", 1, "Error: {dir}/template.yaml: line 2, column 1: did not find expected ',' or '}', while parsing a flow mapping"),
    case("templates/yaml-list-root.yaml", "", 1, "Error: {dir}/template.yaml is not a mapping of template sections"),
    case("templates/yaml-scalar-root.yaml", "", 1, "Error: {dir}/template.yaml is not a mapping of template sections"),
    case("templates/yaml-empty.yaml", "", 1, "Error: {dir}/template.yaml is empty; a template needs at least a Resources section"),
    case("templates/yaml-comment-only.yaml", "", 1, "Error: {dir}/template.yaml is empty; a template needs at least a Resources section"),
    case("templates/yaml-control-char.yaml", "", 1, "Error: {dir}/template.yaml: line 1, column 1: control characters are not allowed"),
    case("templates/yaml-two-documents.yaml", "", 1, "Error: {dir}/template.yaml: deserializing from YAML containing more than one document is not supported"),
    case("templates/yaml-unknown-anchor.yaml", "", 1, "Error: {dir}/template.yaml: line 2, column 10: unknown anchor"),
    case("templates/yaml-duplicate-resource.yaml", "", 1, "Error: {dir}/template.yaml: line 4, column 3: Resources: duplicate key 'Topic' in this mapping; remove or rename one of them")
        .sam("sam keeps the last of duplicate keys and deploys (exit 0); samrs refuses what would silently drop a resource"),
    case("templates/yaml-duplicate-section.yaml", "", 1, "Error: {dir}/template.yaml: line 4, column 1: duplicate key 'Resources' in this mapping; remove or rename one of them")
        .sam("sam keeps the last of duplicate keys and deploys (exit 0); samrs refuses what would silently drop a section"),
    case("templates/yaml-duplicate-property.yaml", "", 1, "Error: {dir}/template.yaml: line 4, column 5: Resources.Topic: duplicate key 'Type' in this mapping; remove or rename one of them")
        .sam("sam keeps the last of duplicate keys and deploys (exit 0); samrs refuses what would silently drop a property"),
    case("templates/yaml-null-key.yaml", "", 1, "Error: {dir}/template.yaml: line 4, column 3: Resources: a mapping key is empty or null; give it a name"),
    case("templates/tag-unknown.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: unknown tag !Bogus; CloudFormation short forms are !Ref, !GetAtt, !Sub, !If, !Join and the other Fn:: names"),
    case("templates/tag-lowercase.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: unknown tag !ref; CloudFormation short forms are !Ref, !GetAtt, !Sub, !If, !Join and the other Fn:: names"),
    case("templates/tag-getatt-no-dot.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: !GetAtt Topic needs Resource.Attribute, for example !GetAtt Topic.Arn"),
    case("templates/tag-getatt-trailing-dot.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: !GetAtt Topic. needs Resource.Attribute, for example !GetAtt Topic.Arn"),
    case("templates/tag-getatt-leading-dot.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: !GetAtt .TopicName needs Resource.Attribute, for example !GetAtt MyResource.Arn"),
    case("templates/tag-getatt-three-items.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: !GetAtt takes a list of two items [Resource, Attribute], not 3"),
    case("templates/tag-getatt-one-item.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: !GetAtt takes a list of two items [Resource, Attribute], not 1"),
    case("templates/tag-ref-list.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: !Ref takes one name, not a list or a mapping, for example !Ref MyName"),
    case("templates/tag-ref-mapping.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 12: Outputs.Out.Value: !Ref takes one name, not a list or a mapping, for example !Ref MyName"),
    case("templates/tag-condition-list.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 15: Conditions.Both[0]: !Condition takes one name, not a list or a mapping, for example !Condition MyName"),
    case("templates/tag-nested-bad.yaml", "", 1, "Error: {dir}/template.yaml: line 6, column 24: Outputs.Out.Value[1][0]: !GetAtt Topic needs Resource.Attribute, for example !GetAtt Topic.Arn"),
    case("templates/shape-no-resources.yaml", "", 1, "Error: {dir}/template.yaml has no Resources section"),
    case("templates/shape-resources-list.yaml", "", 1, "Error: {dir}/template.yaml has a Resources section that is not a mapping of logical IDs to resources"),
    case("templates/shape-resources-string.yaml", "", 1, "Error: {dir}/template.yaml has a Resources section that is not a mapping of logical IDs to resources"),
    case("templates/shape-resources-null.yaml", "", 1, "Error: {dir}/template.yaml has a Resources section that is not a mapping of logical IDs to resources"),
    case("templates/shape-resources-empty.yaml", "", 1, "Error: {dir}/template.yaml: the Resources section is empty; CloudFormation needs at least one resource"),
    case("templates/shape-resource-scalar.yaml", "", 1, "Error: {dir}/template.yaml: resource Topic is not a mapping; give it a Type (and Properties)"),
    case("templates/shape-resource-no-type.yaml", "", 1, "Error: {dir}/template.yaml: resource Topic has no Type; add one, such as Type: AWS::Serverless::Function"),
    case("templates/shape-resource-type-list.yaml", "", 1, "Error: {dir}/template.yaml: the Type of resource Topic must be text, such as AWS::Serverless::Function"),
    case("templates/shape-logical-id-dash.yaml", "", 1, "Error: {dir}/template.yaml: logical ID 'My-Topic' in Resources contains '-'; CloudFormation allows only letters and digits: rename it"),
    case("templates/shape-logical-id-underscore.yaml", "", 1, "Error: {dir}/template.yaml: logical ID 'topic_arn' in Outputs contains '_'; CloudFormation allows only letters and digits: rename it"),
    case("templates/shape-parameter-id-dot.yaml", "", 1, "Error: {dir}/template.yaml: logical ID 'Stage.Name' in Parameters contains '.'; CloudFormation allows only letters and digits: rename it"),
    case("templates/shape-globals-list.yaml", "", 1, "Error: {dir}/template.yaml: Globals must be a mapping of resource kinds (Function, Api, ...)"),
    case("templates/shape-globals-unknown-key.yaml", "", 1, "Error: {dir}/template.yaml: 'Colour' is not a supported property of Globals.Function; SAM rejects it, set it on each function instead"),
    case("templates/yaml-billion-laughs.yaml", "", 1, "Error: {dir}/template.yaml: repetition limit exceeded (its aliases expand to too much data: write the repeated parts out, or use fewer nested aliases)")
        .sam("sam never finishes (it expands the aliases); samrs stops at its limit"),
    case("templates/yaml-deep-nesting.yaml", "", 1, "Error: {dir}/template.yaml: line 5, column 137: recursion limit exceeded (values are nested more than 128 levels deep)")
        .sam("sam deploys it (exit 0); samrs's parser stops at 128 levels of nesting"),
    case("templates/json-deep-nesting.json", "", 1, "Error: {dir}/template.json: line 1, column 199: recursion limit exceeded (values are nested more than 128 levels deep) (the file starts with '{' so it is read as JSON)")
        .sam("sam deploys it (exit 0); samrs's parser stops at 128 levels of nesting"),
    case("templates/json-missing-comma.json", "", 1, "Error: {dir}/template.json: line 4, column 5: expected `,` or `}` (the file starts with '{' so it is read as JSON)"),
    case("templates/json-unclosed.json", "", 1, "Error: {dir}/template.json: line 4: EOF while parsing an object (the file starts with '{' so it is read as JSON)"),
    case("templates/json-trailing-text.json", "", 1, "Error: {dir}/template.json: line 2, column 1: trailing characters (the file starts with '{' so it is read as JSON)"),
    case("templates/json-duplicate-key.json", "", 1, "Error: {dir}/template.json: line 4, column 11: duplicate key 'Topic' in this mapping; remove or rename one of them (the file starts with '{' so it is read as JSON)")
        .sam("sam keeps the last of duplicate keys and deploys (exit 0); samrs refuses what would silently drop a resource"),
    case("templates/json-list-root.json", "", 1, "Error: {dir}/template.json is not a mapping of template sections"),
    case("templates/json-no-resources.json", "", 1, "Error: {dir}/template.json has no Resources section"),
    case("templates/json-single-quotes.json", "", 1, "Error: {dir}/template.json: line 1, column 2: key must be a string (the file starts with '{' so it is read as JSON)"),
    case("templates/image-no-uri.yaml", "", 1, "Error: {dir}/template.yaml: image function Fn has no ImageUri: run `sam build` first (it sets ImageUri), or set ImageUri to an image"),
    case("templates/image-no-uri-docker-context.yaml", "--resolve-image-repos", 1, "Error: {dir}/template.yaml: image function Fn has no ImageUri: run `sam build` first (it sets ImageUri), or set ImageUri to an image"),
    case("templates/image-empty-uri.yaml", "", 1, "Error: {dir}/template.yaml: image function Fn has no ImageUri: run `sam build` first (it sets ImageUri), or set ImageUri to an image"),
    case("templates/lambda-image-no-uri.yaml", "", 1, "Error: {dir}/template.yaml: image function Fn has no ImageUri: run `sam build` first (it sets ImageUri), or set ImageUri to an image"),
    case("templates/image-local-no-repo-option.yaml", "", 2, "Error: Missing option '--image-repositories', '--image-repository', '--resolve-image-repos': image function Fn needs an ECR repository (--resolve-image-repos creates one)"),
    case("templates/codeuri-missing-dir.yaml", "--resolve-s3", 1, "Error: CodeUri of resource Fn refers to {dir}/missing, which does not exist; run `sam build` first or fix CodeUri"),
    case("templates/codeuri-missing-zip.yaml", "--resolve-s3", 1, "Error: CodeUri of resource Fn refers to {dir}/missing.zip, which does not exist; run `sam build` first or fix CodeUri"),
    case("templates/layer-missing-dir.yaml", "--resolve-s3", 1, "Error: ContentUri of resource Layer refers to {dir}/layer, which does not exist; run `sam build` first or fix ContentUri"),
    case("templates/statemachine-missing-definition.yaml", "--resolve-s3", 1, "Error: DefinitionUri of resource Machine refers to {dir}/statemachine/missing.asl.json, which does not exist; run `sam build` first or fix DefinitionUri"),
    case("templates/nested-stack-missing.yaml", "--resolve-s3", 1, "Error: {dir}/template.yaml: nested stack Child points to {dir}/child/missing.yaml, which cannot be read (No such file or directory (os error 2)); fix its Location/TemplateURL"),
    case("templates/nested-application-missing.yaml", "--resolve-s3", 1, "Error: {dir}/template.yaml: nested stack Child points to {dir}/missing.yaml, which cannot be read (No such file or directory (os error 2)); fix its Location/TemplateURL"),
    case("templates/nested-child-broken", "--resolve-s3", 1, "Error: {dir}/child/template.yaml: line 5, column 18: Resources.Topic.Properties.TopicName: !GetAtt Nothing needs Resource.Attribute, for example !GetAtt Nothing.Arn"),
];

/// Broken samconfig files, copied as samconfig.toml (or .yaml) with `{stack}` filled in, beside a
/// valid template; run as `deploy` (a flag would hide a bad value of its key, as in sam).
const SAMCONFIGS: &[Case] = &[
    case("samconfig/toml-unclosed-table.toml", "", 1, "Error: {dir}/samconfig.toml:2:27: invalid TOML: unclosed table, expected `]`. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one."),
    case("samconfig/toml-unclosed-string.toml", "", 1, "Error: {dir}/samconfig.toml:3:45: invalid TOML: invalid basic string, expected `\"`. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one."),
    case("samconfig/toml-bare-value.toml", "", 1, "Error: {dir}/samconfig.toml:3:14: invalid TOML: invalid boolean, expected `true`. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one."),
    case("samconfig/toml-duplicate-key.toml", "", 1, "Error: {dir}/samconfig.toml:4:1: invalid TOML: duplicate key. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one."),
    case("samconfig/toml-duplicate-table.toml", "", 1, "Error: {dir}/samconfig.toml:4:17: invalid TOML: duplicate key. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one."),
    case("samconfig/toml-binary.toml", "", 1, "Error: {dir}/samconfig.toml:1:1: invalid TOML: invalid unquoted key, expected letters, numbers, `-`, `_`. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one."),
    case("samconfig/toml-missing-version.toml", "", 1, "Error: {dir}/samconfig.toml: 'version' key is not present or is in unrecognized format. Add `version = 0.1` at the top of the file."),
    case("samconfig/toml-version-string.toml", "", 1, "Error: {dir}/samconfig.toml: 'version' key is not present or is in unrecognized format. Add `version = 0.1` at the top of the file."),
    case("samconfig/toml-version-bool.toml", "", 1, "Error: {dir}/samconfig.toml: 'version' key is not present or is in unrecognized format. Add `version = 0.1` at the top of the file."),
    case("samconfig/toml-version-table.toml", "", 1, "Error: {dir}/samconfig.toml: 'version' key is not present or is in unrecognized format. Add `version = 0.1` at the top of the file."),
    case("samconfig/toml-environment-scalar.toml", "", 1, "Error: {dir}/samconfig.toml: `default` must be a table (samconfig's layout is [environment.command.parameters]); fix or remove that key."),
    case("samconfig/toml-command-scalar.toml", "", 1, "Error: {dir}/samconfig.toml: `default.deploy` must be a table (samconfig's layout is [environment.command.parameters]); fix or remove that key."),
    case("samconfig/toml-parameters-scalar.toml", "", 1, "Error: {dir}/samconfig.toml: `default.deploy.parameters` must be a table (samconfig's layout is [environment.command.parameters]); fix or remove that key."),
    case("samconfig/toml-confirm-maybe.toml", "", 2, "Error: confirm_changeset in samconfig must be true or false, not \"maybe\""),
    case("samconfig/toml-confirm-number.toml", "", 2, "Error: confirm_changeset in samconfig must be true or false, not 3")
        .sam("sam crashes (AttributeError, exit 1); samrs names the key, as click does for a bad boolean (exit 2)"),
    case("samconfig/toml-resolve-s3-word.toml", "", 2, "Error: resolve_s3 in samconfig must be true or false, not \"sometimes\""),
    case("samconfig/toml-fail-on-empty-list.toml", "", 2, "Error: fail_on_empty_changeset in samconfig must be true or false, not a list")
        .sam("sam crashes (TypeError, exit 1); samrs names the key, as click does for a bad boolean (exit 2)"),
    case("samconfig/toml-global-bool-bad.toml", "", 2, "Error: disable_rollback in samconfig must be true or false, not \"nah\""),
    case("samconfig/toml-capabilities-number.toml", "", 2, "Error: capabilities in samconfig must be a string or a list of strings, not 3"),
    case("samconfig/toml-capabilities-bool.toml", "", 2, "Error: capabilities in samconfig must be a string or a list of strings, not true"),
    case("samconfig/toml-tags-number.toml", "", 2, "Error: tags in samconfig must be a string or a list of strings, not 5")
        .sam("sam crashes (AttributeError, exit 1); samrs names the key, as click does for a bad value (exit 2)"),
    case("samconfig/toml-tags-no-value.toml", "", 2, "Error: Invalid value for '--tags': novalue is not in valid format. It must look like 'KeyName1=string KeyName2=string'"),
    case("samconfig/toml-overrides-no-equals.toml", "", 2, "Error: Invalid value for '--parameter-overrides': Stage is not a valid format. It must look something like 'ParameterKey=KeyPairName,ParameterValue=MyKey ParameterKey=InstanceType,ParameterValue=t1.micro', 'KeyPairName=MyKey InstanceType=t1.micro', or 'file://MyParams.yaml'"),
    case("samconfig/toml-overrides-number.toml", "", 2, "Error: parameter_overrides in samconfig must be a string or a list of strings, not 5"),
    case("samconfig/toml-image-repositories-no-equals.toml", "", 2, "Error: --image-repositories is not a valid format, it needs to be of the form function_logical_id=ECR_URI"),
    case("samconfig/toml-image-repositories-two-equals.toml", "", 2, "Error: --image-repositories is not a valid format, it needs to be of the form function_logical_id=ECR_URI"),
    case("samconfig/toml-image-repositories-bad-uri.toml", "", 2, "Error: --image-repositories needs to have valid ECR URI as value"),
    case("samconfig/toml-image-repositories-string.toml", "", 2, "Error: --image-repositories is not a valid format, it needs to be of the form function_logical_id=ECR_URI"),
    case("samconfig/toml-image-repositories-numbers.toml", "", 2, "Error: --image-repositories is not a valid format, it needs to be of the form function_logical_id=ECR_URI")
        .sam("sam crashes (AttributeError, exit 1); samrs names the key, as click does for a bad value (exit 2)"),
    case("samconfig/toml-image-repositories-number.toml", "", 2, "Error: image_repositories in samconfig must be a string or a list of strings, not 7")
        .sam("sam crashes (AttributeError, exit 1); samrs names the key, as click does for a bad value (exit 2)"),
    case("samconfig/toml-image-repository-bad-uri.toml", "", 2, "Error: Invalid Image Repository ECR URI: nope"),
    case("samconfig/toml-image-repository-and-resolve.toml", "", 2, "Error: Only one of the following can be provided: '--image-repositories', '--image-repository', '--resolve-image-repos'. Do you have multiple specified in the command or in a configuration file?"),
    case("samconfig/toml-resolve-s3-and-bucket.toml", "", 1, "Error: Cannot use both --resolve-s3 and --s3-bucket parameters in non-guided deployments. Please use only one or use the --guided option for a guided deployment."),
    case("samconfig/toml-stack-name-underscore.toml", "", 1, "Error: Invalid stack name 'my_stack': it contains '_'; only letters, digits and hyphens are allowed; change --stack-name (or stack_name in samconfig)"),
    case("samconfig/toml-stack-name-number.toml", "", 1, "Error: Invalid stack name '5': it must start with a letter; change --stack-name (or stack_name in samconfig)"),
    case("samconfig/toml-keep-last-negative.toml", "", 2, "Error: image_repos_keep_last in samconfig must be a whole number, not -1")
        .sam("sam ignores keys it does not know and deploys (exit 0); this key is samrs's own"),
    case("samconfig/toml-keep-last-word.toml", "", 2, "Error: image_repos_keep_last in samconfig must be a whole number, not \"many\"")
        .sam("sam ignores keys it does not know and deploys (exit 0); this key is samrs's own"),
    case("samconfig/toml-scan-on-push-word.toml", "", 2, "Error: image_repos_scan_on_push in samconfig must be true or false, not \"always\"")
        .sam("sam ignores keys it does not know and deploys (exit 0); this key is samrs's own"),
    case("samconfig/toml-no-stack-name.toml", "", 2, "Error: Missing option '--stack-name', 'samrs deploy --guided' can be used to provide and save needed parameters for future deploys."),
    case("samconfig/toml-empty.toml", "", 2, "Error: Missing option '--stack-name', 'samrs deploy --guided' can be used to provide and save needed parameters for future deploys."),
    case("samconfig/toml-template-missing.toml", "", 1, "Error: cannot read template {dir}/nope.yaml: No such file or directory (os error 2) (check the path, or pass --template-file)"),
    case("samconfig/toml-no-stack-name.toml", "--config-env nope", 2, "Error: Missing option '--stack-name', 'samrs deploy --guided' can be used to provide and save needed parameters for future deploys."),
    case("samconfig/toml-no-stack-name.toml", "--config-file other.toml", 1, "Error: Config file other.toml does not exist or could not be read!"),
    case("samconfig/toml-deep-nesting.toml", "", 1, "Error: {dir}/samconfig.toml:4:88: invalid TOML: cannot recurse further; max recursion depth met. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one."),
    case("samconfig/yaml-billion-laughs.yaml", "", 1, "Error: {dir}/samconfig.yaml: invalid YAML: repetition limit exceeded. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one.")
        .sam("sam keeps aliases as references and exits 2 on the missing --stack-name; samrs refuses aliases that expand past its limit"),
    case("samconfig/yaml-invalid.yaml", "", 1, "Error: {dir}/samconfig.yaml:5:1: invalid YAML: did not find expected ',' or ']'. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one."),
    case("samconfig/yaml-missing-version.yaml", "", 1, "Error: {dir}/samconfig.yaml: 'version' key is not present or is in unrecognized format. Add `version = 0.1` at the top of the file."),
    case("samconfig/yaml-confirm-maybe.yaml", "", 2, "Error: confirm_changeset in samconfig must be true or false, not \"maybe\""),
    case("samconfig/yaml-parameters-list.yaml", "", 1, "Error: {dir}/samconfig.yaml: `default.deploy.parameters` must be a table (samconfig's layout is [environment.command.parameters]); fix or remove that key."),
    case("samconfig/yaml-root-list.yaml", "", 1, "Error: {dir}/samconfig.yaml: 'version' key is not present or is in unrecognized format. Add `version = 0.1` at the top of the file."),
];

/// Mistakes on the command line, with a valid template.yaml and an image.yaml (two functions
/// with local images) in the work dir. `args` is the whole command line after `samrs`.
const FLAGS: &[Case] = &[
    case("", "deploy --no-confirm-changeset", 2, "Error: Missing option '--stack-name', 'samrs deploy --guided' can be used to provide and save needed parameters for future deploys."),
    case("", "deploy --stack-name my_stack", 1, "Error: Invalid stack name 'my_stack': it contains '_'; only letters, digits and hyphens are allowed; change --stack-name (or stack_name in samconfig)"),
    case("", "deploy --stack-name 1stack", 1, "Error: Invalid stack name '1stack': it must start with a letter; change --stack-name (or stack_name in samconfig)"),
    case("", "deploy --stack-name -stack", 1, "Error: Invalid stack name '-stack': it must start with a letter; change --stack-name (or stack_name in samconfig)"),
    case("", "deploy --stack-name {stack} --resolve-s3 --s3-bucket my-bucket", 1, "Error: Cannot use both --resolve-s3 and --s3-bucket parameters in non-guided deployments. Please use only one or use the --guided option for a guided deployment."),
    case("", "deploy --stack-name {stack} --image-repository 123456789012.dkr.ecr.us-east-1.amazonaws.com/app --image-repositories First=123456789012.dkr.ecr.us-east-1.amazonaws.com/app", 2, "Error: Only one of the following can be provided: '--image-repositories', '--image-repository', '--resolve-image-repos'. Do you have multiple specified in the command or in a configuration file?"),
    case("", "deploy --stack-name {stack} --image-repository 123456789012.dkr.ecr.us-east-1.amazonaws.com/app --resolve-image-repos", 2, "Error: Only one of the following can be provided: '--image-repositories', '--image-repository', '--resolve-image-repos'. Do you have multiple specified in the command or in a configuration file?"),
    case("", "deploy --stack-name {stack} --image-repository docker.io/library/app", 2, "Error: Invalid Image Repository ECR URI: docker.io/library/app"),
    case("", "deploy --stack-name {stack} --image-repositories First", 2, "Error: --image-repositories is not a valid format, it needs to be of the form function_logical_id=ECR_URI"),
    case("", "deploy --stack-name {stack} --image-repositories First:123456789012.dkr.ecr.us-east-1.amazonaws.com/app", 2, "Error: --image-repositories is not a valid format, it needs to be of the form function_logical_id=ECR_URI"),
    case("", "deploy --stack-name {stack} --image-repositories First=docker.io/library/app", 2, "Error: --image-repositories needs to have valid ECR URI as value"),
    case("", "deploy --stack-name {stack} -t image.yaml --no-confirm-changeset", 2, "Error: Missing option '--image-repositories', '--image-repository', '--resolve-image-repos': image functions First, Second need ECR repositories (--resolve-image-repos creates them)"),
    case("", "deploy --stack-name {stack} -t image.yaml --no-confirm-changeset --image-repositories First=123456789012.dkr.ecr.us-east-1.amazonaws.com/first", 2, "Error: Incomplete list of function logical ids specified for '--image-repositories' (missing: Second). You can also add --resolve-image-repos to automatically create missing repositories."),
    case("", "deploy --stack-name {stack} --parameter-overrides Stage", 2, "Error: Invalid value for '--parameter-overrides': Stage is not a valid format. It must look something like 'ParameterKey=KeyPairName,ParameterValue=MyKey ParameterKey=InstanceType,ParameterValue=t1.micro', 'KeyPairName=MyKey InstanceType=t1.micro', or 'file://MyParams.yaml'"),
    case("", "deploy --stack-name {stack} --tags team", 2, "Error: Invalid value for '--tags': team is not in valid format. It must look like 'KeyName1=string KeyName2=string'"),
    case("", "deploy --stack-name {stack} --image-repos-keep-last 0", 2, "Error: --image-repos-keep-last must be at least 1: set it to 1 or more, or remove it to keep every image"),
    case("", "deploy --stack-name {stack} --image-repos-keep-last many", 2, "Error: invalid value 'many' for '--image-repos-keep-last <N>': invalid digit found in string; see 'samrs deploy --help'"),
    case("", "deploy --stack-name {stack} --image-repos-expire-untagged-days -1", 2, "Error: invalid value '-1' for '--image-repos-expire-untagged-days <DAYS>': -1 is not in 0..=4294967295; see 'samrs deploy --help'"),
    case("", "deploy --stack-name {stack} --output xml", 2, "Error: invalid value 'xml' for '--output <OUTPUT>' [possible values: text, json, markdown]; see 'samrs deploy --help'"),
    case("", "deploy --stack-name {stack} --colour", 2, "Error: unexpected argument '--colour' found; see 'samrs deploy --help'"),
    case("", "deploy --stack {stack}", 2, "Error: unexpected argument '--stack' found; a similar argument exists: '--stack-name'; see 'samrs deploy --help'"),
    case("", "deploy --stack-name", 2, "Error: a value is required for '--stack-name <STACK_NAME>' but none was supplied; see 'samrs deploy --help'"),
    case("", "deploy --stack-name {stack} --capabilities", 2, "Error: a value is required for '--capabilities <CAPABILITIES>...' but none was supplied; see 'samrs deploy --help'"),
    case("", "deploy --stack-name {stack} --confirm-changeset", 1, "Error: --confirm-changeset needs a terminal to ask on: run with --no-confirm-changeset in CI"),
    case("", "deploy --stack-name {stack} --no-confirm-changeset --confirm-changeset", 1, "Error: --confirm-changeset needs a terminal to ask on: run with --no-confirm-changeset in CI"),
    case("", "deploy --guided", 1, "Error: --guided needs a terminal to ask its questions: in CI run `samrs deploy` with --stack-name, --resolve-s3 (or --s3-bucket), --capabilities and --resolve-image-repos, or commit a samconfig.toml"),
    case("", "deploy --stack-name {stack} --no-confirm-changeset -t missing.yaml", 1, "Error: cannot read template {dir}/missing.yaml: No such file or directory (os error 2) (check the path, or pass --template-file)"),
    case("", "deploy --stack-name {stack} --config-file missing.toml", 1, "Error: Config file missing.toml does not exist or could not be read!"),
    case("", "frob", 2, "Error: unrecognized subcommand 'frob'; see 'samrs --help'"),
    case("", "", 0, ""),
    case("", "delete --no-prompts", 2, "Error: Missing option '--stack-name', provide a stack name that needs to be deleted."),
    case("", "delete --orphans --stack-name {stack}", 2, "Error: the argument '--orphans' cannot be used with '--stack-name <STACK_NAME>'; see 'samrs delete --help'"),
    case("", "deploy --stack-name {stack} --no-confirm-changeset --config-env nope", 0, ""),
    case("", "delete --stack-name {stack}", 1, "Error: samrs delete asks before deleting and needs a terminal for that: pass --no-prompts to delete without asking"),
    case("", "delete --stack-name {stack} --no-prompts --config-file missing.toml", 1, "Error: Config file missing.toml does not exist or could not be read!"),
    case("", "delete --stack-name {stack} --no-prompts", 0, "Error: The input stack {stack} does not exist on Cloudformation in the region us-east-1"),
    case("", "delete --stack-name {stack} --bogus", 2, "Error: unexpected argument '--bogus' found; see 'samrs delete --help'"),
];

#[test]
fn broken_templates() {
    run_group("tpl", TEMPLATES, |env, case| {
        let file = Path::new(case.input);
        let template = if file.extension().is_some_and(|e| e == "json") {
            copy_input(env, case.input, "template.json");
            "template.json"
        } else if corpus(case.input).is_dir() {
            copy_input(env, case.input, ".");
            "template.yaml"
        } else {
            copy_input(env, case.input, "template.yaml");
            "template.yaml"
        };
        let mut args = words("deploy --stack-name {stack} --no-confirm-changeset -t");
        args.push(template.to_string());
        args
    });
}

#[test]
fn broken_samconfig_files() {
    run_group("cfg", SAMCONFIGS, |env, case| {
        copy_input(env, "good-template.yaml", "template.yaml");
        let extension = Path::new(case.input)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("toml");
        copy_input(env, case.input, &format!("samconfig.{extension}"));
        words("deploy")
    });
}

#[test]
fn flag_mistakes() {
    run_group("flag", FLAGS, |env, _| {
        copy_input(env, "good-template.yaml", "template.yaml");
        copy_input(env, "image-template.yaml", "image.yaml");
        Vec::new()
    });
}

/// Runs each case in a fresh [`TestEnv`] and fails once, listing every case that went wrong.
fn run_group(group: &str, cases: &[Case], prepare: impl Fn(&TestEnv, &Case) -> Vec<String>) {
    let mut failures = Vec::new();
    let mut stacks = Vec::new();
    let mut last_env = None;
    for (i, case) in cases.iter().enumerate() {
        let label = Path::new(case.input)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let env = TestEnv::new(&format!("{group}{i}-{label}"));
        let mut args = prepare(&env, case);
        args.extend(words(case.args).into_iter().map(|a| fill(&env, &a)));
        let args: Vec<String> = args.iter().map(|a| fill(&env, a)).collect();
        if let Err(problem) = check(&env, case, &args) {
            let sam = if case.sam.is_empty() {
                format!("sam exits {} too", case.status)
            } else {
                format!("sam: {}", case.sam)
            };
            failures.push(format!(
                "{group} #{i} {} `{}` ({sam}): {problem}",
                case.input, case.args
            ));
        }
        stacks.push(stack(&env));
        last_env = Some(env);
    }
    if let Some(env) = last_env {
        let repos = repositories_of(&env, &stacks);
        if !repos.is_empty() {
            failures.push(format!("repositories were left behind: {repos:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Runs one case and says what is wrong with the outcome, if anything.
fn check(env: &TestEnv, case: &Case, args: &[String]) -> Result<(), String> {
    let samconfigs = samconfig_files(env);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.samrs(&argv);
    let expected = fill(env, case.error);
    let mut problems = well_behaved(&out);
    let code = out.status.code().unwrap_or(-1);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .chain(out.stdout.lines())
        .filter(|l| l.starts_with("Error:"))
        .collect();
    if code != case.status {
        problems.push(format!("exit {code}, expected {}", case.status));
    }
    match (expected.is_empty(), errors.as_slice()) {
        (true, []) => {}
        (false, [line]) if *line == expected => {}
        _ => problems.push(format!("error lines {errors:?}, expected {expected:?}")),
    }
    if samconfig_files(env) != samconfigs {
        problems.push("a samconfig file was written".into());
    }
    if case.status != 0 {
        let left: Vec<String> = [
            stack(env),
            CompanionStack::new(&stack(env)).name().to_string(),
        ]
        .into_iter()
        .filter_map(|name| env.emu.stack_status(&name).map(|s| format!("{name} {s}")))
        .collect();
        if !left.is_empty() {
            problems.push(format!("stacks were left behind: {left:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{out}", problems.join("; ")))
    }
}

/// What no run may do, whatever its input: panic, print a backtrace, or end with Rust's 101.
fn well_behaved(out: &RunOutput) -> Vec<String> {
    let mut problems = Vec::new();
    if out.status.code() == Some(101) || out.stderr.contains("panicked at") {
        problems.push("samrs panicked".to_string());
    }
    if out.stderr.contains("stack backtrace") || out.stderr.contains("Stack backtrace") {
        problems.push("a backtrace was printed".to_string());
    }
    problems
}

/// Repositories named after any of `stacks` (managed repositories start with the stack's name,
/// lowercased, letters and digits only).
fn repositories_of(env: &TestEnv, stacks: &[String]) -> Vec<String> {
    let stems: Vec<String> = stacks
        .iter()
        .map(|s| CompanionStack::new(s).escaped_parent().to_string())
        .collect();
    env.emu
        .repositories()
        .into_iter()
        .filter(|r| stems.iter().any(|stem| r.starts_with(stem.as_str())))
        .collect()
}

/// Every samconfig file in the work dir with its content.
fn samconfig_files(env: &TestEnv) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(env.work_dir())
        .expect("read the work dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("samconfig"))
        .map(|e| {
            let content = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), content)
        })
        .collect()
}

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad-input")
        .join(rel)
}

/// Copies a corpus file (or a directory's files) to `target` under the work dir, with `{stack}`
/// filled in.
fn copy_input(env: &TestEnv, rel: &str, target: &str) {
    let source = corpus(rel);
    for entry in walkdir::WalkDir::new(&source) {
        let entry = entry.expect("walk the corpus");
        if entry.file_type().is_dir() {
            continue;
        }
        let dest = match entry.path().strip_prefix(&source) {
            Ok(inner) if !inner.as_os_str().is_empty() => Path::new(target).join(inner),
            _ => PathBuf::from(target),
        };
        let bytes = std::fs::read(entry.path()).expect("read a corpus file");
        let text = String::from_utf8_lossy(&bytes).replace("{stack}", &stack(env));
        env.write_file(&dest.to_string_lossy(), &text);
    }
}

/// The case's stack name.
fn stack(env: &TestEnv) -> String {
    env.name("s")
}

fn fill(env: &TestEnv, text: &str) -> String {
    text.replace("{stack}", &stack(env))
        .replace("{dir}", &env.work_dir().to_string_lossy())
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// Names exactly at AWS's limits deploy; one character more is refused before AWS is called.
#[test]
fn names_at_and_past_aws_limits() {
    let env = TestEnv::new("limits");
    copy_input(&env, "good-template.yaml", "template.yaml");
    let at_limit = padded(&env.name("s"), 128);
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &at_limit,
        "--no-confirm-changeset",
    ]);
    assert!(well_behaved(&out).is_empty(), "{out}");
    out.assert_success();
    assert_eq!(
        env.emu.stack_status(&at_limit).as_deref(),
        Some("CREATE_COMPLETE")
    );

    let past_limit = padded(&env.name("s"), 129);
    let expected = format!("Error: Invalid stack name '{}...': it is 129 characters long; CloudFormation allows at most 128; change --stack-name (or stack_name in samconfig)", &past_limit[..40]);
    expect_error(&env, &["deploy", "--stack-name", &past_limit], 1, &expected);

    let stack = env.name("ids");
    let id = |n: usize| padded("Topic", n);
    env.write_file("ids.yaml", &topic_template(&id(255)));
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "-t",
        "ids.yaml",
        "--no-confirm-changeset",
    ]);
    out.assert_success();
    env.write_file("ids.yaml", &topic_template(&id(256)));
    let expected = format!("Error: {}/ids.yaml: logical ID '{}...' in Resources is 256 characters long; CloudFormation allows at most 255: shorten it", env.work_dir().display(), &id(256)[..40]);
    let stack = env.name("ids256");
    expect_error(
        &env,
        &[
            "deploy",
            "--stack-name",
            &stack,
            "-t",
            "ids.yaml",
            "--no-confirm-changeset",
        ],
        1,
        &expected,
    );
}

/// A template over CloudFormation's 51,200 bytes needs a bucket; an override for a parameter the
/// template lacks is ignored, as sam does, but with a warning.
#[test]
fn template_size_and_unknown_parameter_overrides() {
    let env = TestEnv::new("size");
    let topics: String = (0..700)
        .map(|i| format!("  Topic{i}:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: topic-number-{i}\n"))
        .collect();
    let big = format!("Resources:\n{topics}");
    env.write_file("big.yaml", &big);
    let size =
        samrs::template::to_yaml(&samrs::template::parse_str(&big, "big.yaml").unwrap()).len();
    let expected = format!("Error: Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket (this one is {size} bytes): add --s3-bucket or --resolve-s3");
    let stack = env.name("big");
    expect_error(
        &env,
        &[
            "deploy",
            "--stack-name",
            &stack,
            "-t",
            "big.yaml",
            "--no-confirm-changeset",
        ],
        1,
        &expected,
    );

    copy_input(
        &env,
        "templates/parameter-override-unknown.yaml",
        "template.yaml",
    );
    let stack = env.name("params");
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--no-confirm-changeset",
        "--parameter-overrides",
        "Stage=prod",
        "Stgae=prod",
    ]);
    assert!(well_behaved(&out).is_empty(), "{out}");
    out.assert_success();
    assert!(
        out.stderr.lines().any(|l| l == "Warning: parameter override Stgae is not a parameter of the template; it is ignored"),
        "{out}"
    );
    assert!(!out.stderr.contains("override Stage "), "{out}");
}

/// ECR refuses repository names over 256 characters, which sam's naming reaches with a long stack
/// name and a long function name; samrs shortens them to a valid, unique name.
#[test]
fn managed_repository_names_past_ecrs_limit_are_shortened() {
    let env = TestEnv::new("ecr-limit");
    let stack = padded(&env.name("s"), 128);
    let function = padded("Function", 255);
    let template = format!(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  {function}:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/app:v1\n    Metadata:\n      DockerTag: v1\n      DockerContext: ./app\n      Dockerfile: Dockerfile\n"
    );
    env.write_file("template.yaml", &template);
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--resolve-s3",
        "--s3-prefix",
        "limits",
        "--resolve-image-repos",
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-confirm-changeset",
    ]);
    assert!(well_behaved(&out).is_empty(), "{out}");
    out.assert_success();
    let companion = CompanionStack::new(&stack);
    let repo = EcrRepo::for_function(&companion, &function);
    assert!(repo.repository_name_adjusted());
    assert!(
        repo.repository_name().len() <= 256,
        "{}",
        repo.repository_name()
    );
    assert!(companion.name().len() <= 128, "{}", companion.name());
    assert!(env
        .emu
        .repositories()
        .contains(&repo.repository_name().to_string()));
    assert_eq!(
        env.emu.stack_status(companion.name()).as_deref(),
        Some("CREATE_COMPLETE")
    );
}

/// Runs samrs and checks the exit status, the one error line, and that the stack in `args`
/// (after `--stack-name`) was not created.
fn expect_error(env: &TestEnv, args: &[&str], status: i32, expected: &str) {
    let out = env.samrs(args);
    assert!(well_behaved(&out).is_empty(), "{out}");
    assert_eq!(out.status.code(), Some(status), "{out}");
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Error:"))
        .collect();
    assert_eq!(errors, [expected], "{out}");
    let stack = args
        .iter()
        .position(|a| *a == "--stack-name")
        .map(|i| args[i + 1])
        .expect("the args name a stack");
    assert_eq!(env.emu.stack_status(stack), None);
}

/// `stem` followed by `x`s up to `length` characters.
fn padded(stem: &str, length: usize) -> String {
    format!("{stem}{}", "x".repeat(length - stem.len()))
}

/// One topic under `logical_id`, with a short name of its own (a name made from a long logical
/// id would be past SNS's limit).
fn topic_template(logical_id: &str) -> String {
    format!("Resources:\n  {logical_id}:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: limits-topic\n")
}
