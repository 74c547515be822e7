//! Names of the companion stack and its ECR repositories, computed exactly as SAM CLI computes
//! them (`samcli/lib/bootstrap/companion_stack/data_types.py`), so that samrs finds and keeps the
//! stacks and repositories `sam deploy --resolve-image-repos` created, and the URIs sam saved in
//! samconfig still mean "managed".
//!
//! One deliberate difference: sam never shortens a repository name, so a long stack name plus a
//! long function path can exceed ECR's 256-character limit and fail. samrs then derives a shorter,
//! still unique name and says so ([`EcrRepo::repository_name_adjusted`]); every name sam can
//! create stays byte-identical.

/// ECR's limit on a repository name.
const REPOSITORY_NAME_MAX: usize = 256;
/// CloudFormation's limit on a stack name, the longest escaped parent a real stack can have.
const ESCAPED_PARENT_MAX: usize = 128;

/// MD5 of the UTF-8 bytes of `text` as 32 lowercase hex digits (sam's `str_checksum`).
pub fn md5_hex(text: &str) -> String {
    crate::artifacts::md5_hex(text.as_bytes())
}

/// The URI of a repository: `{account}.dkr.ecr.{region}.amazonaws.com[.cn]/{repository_name}`.
pub fn repository_uri(account: &str, region: &str, repository_name: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("{account}.dkr.ecr.{region}.{domain}/{repository_name}")
}

/// The companion stack of one parent (application) stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanionStack {
    escaped_parent: String,
    parent_hash: String,
    name: String,
}

impl CompanionStack {
    /// The companion of the stack named `parent_stack_name`.
    pub fn new(parent_stack_name: &str) -> Self {
        Self::with_hash(parent_stack_name, md5_hex(parent_stack_name))
    }

    // Separate from `new` so tests can use sam's patched hashes ("checksum").
    fn with_hash(parent_stack_name: &str, parent_hash: String) -> Self {
        // Python's `[:104]` counts characters; the hash is of the original, untruncated name.
        let name = format!(
            "{}-{}-CompanionStack",
            prefix_chars(parent_stack_name, 104),
            prefix_chars(&parent_hash, 8)
        );
        Self {
            escaped_parent: escape(parent_stack_name),
            parent_hash,
            name,
        }
    }

    /// `parent[:104]-md5(parent)[:8]-CompanionStack`, at most 128 characters.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parent name lowercased, keeping only `[a-z0-9]`: the start of every repository name.
    pub fn escaped_parent(&self) -> &str {
        &self.escaped_parent
    }

    /// The full MD5 hex of the parent stack name.
    pub fn parent_hash(&self) -> &str {
        &self.parent_hash
    }
}

/// The managed repository of one image function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrRepo {
    function_full_path: String,
    id_stem: String,
    repository_name: String,
    repository_name_adjusted: bool,
}

impl EcrRepo {
    /// The repository of the function at `function_full_path` (`Fn`, or `Child/Fn` when nested).
    pub fn for_function(companion: &CompanionStack, function_full_path: &str) -> Self {
        Self::with_hash(
            companion,
            function_full_path,
            &md5_hex(&function_key(function_full_path)),
        )
    }

    // Separate from `for_function` so tests can use sam's patched hashes ("qwertyuiop").
    fn with_hash(
        companion: &CompanionStack,
        function_full_path: &str,
        function_hash: &str,
    ) -> Self {
        let key = function_key(function_full_path);
        let hash8 = prefix_chars(function_hash, 8);
        let (repository_name, repository_name_adjusted) =
            repository_name(companion, &escape(&key), hash8);
        Self {
            function_full_path: function_full_path.to_string(),
            id_stem: format!("{}{hash8}", prefix_chars(&key, 52)),
            repository_name,
            repository_name_adjusted,
        }
    }

    /// The function path this repository was made for, as given.
    pub fn function_full_path(&self) -> &str {
        &self.function_full_path
    }

    /// `path[:52] + md5[:8] + "Repo"` with `/` removed from the path: at most 64 characters.
    pub fn logical_id(&self) -> String {
        format!("{}Repo", self.id_stem)
    }

    /// `path[:52] + md5[:8] + "Out"`: the output sam's template declares for the repository.
    pub fn output_logical_id(&self) -> String {
        format!("{}Out", self.id_stem)
    }

    /// The ECR repository name (CloudFormation's physical id).
    pub fn repository_name(&self) -> &str {
        &self.repository_name
    }

    /// Whether sam's name was over ECR's 256-character limit and samrs shortened it.
    pub fn repository_name_adjusted(&self) -> bool {
        self.repository_name_adjusted
    }

    /// `{account}.dkr.ecr.{region}.amazonaws.com[.cn]/{repository_name}`.
    pub fn uri(&self, account: &str, region: &str) -> String {
        repository_uri(account, region, &self.repository_name)
    }
}

/// sam's repository name `esc(parent) + phash[:8] + "/" + esc(fn) + fhash[:8] + "repo"`, or, when
/// that is over ECR's limit, the same with the escaped parts cut so it fits; both hashes stay,
/// so names remain unique. Only `[a-z0-9]` and one `/` are used, so ECR's name pattern holds.
fn repository_name(
    companion: &CompanionStack,
    escaped_function: &str,
    function_hash8: &str,
) -> (String, bool) {
    let parent_hash8 = prefix_chars(&companion.parent_hash, 8);
    let suffix = format!("{function_hash8}repo");
    let sam_name = format!(
        "{}{parent_hash8}/{escaped_function}{suffix}",
        companion.escaped_parent
    );
    if sam_name.len() <= REPOSITORY_NAME_MAX {
        return (sam_name, false);
    }
    let namespace = format!(
        "{}{parent_hash8}/",
        prefix_chars(&companion.escaped_parent, ESCAPED_PARENT_MAX)
    );
    let function_budget = REPOSITORY_NAME_MAX.saturating_sub(namespace.len() + suffix.len());
    let name = format!(
        "{namespace}{}{suffix}",
        prefix_chars(escaped_function, function_budget)
    );
    (name, true)
}

/// The function path with every `/` removed: what sam hashes and names ids after.
fn function_key(function_full_path: &str) -> String {
    function_full_path.replace('/', "")
}

/// Lowercase first, then keep only `[a-z0-9]` (sam's `re.sub(r"[^a-z0-9]", "", s.lower())`).
fn escape(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .collect()
}

/// The first `count` characters (not bytes) of `text`, like Python's `text[:count]`.
fn prefix_chars(text: &str, count: usize) -> &str {
    text.char_indices()
        .nth(count)
        .map_or(text, |(at, _)| &text[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECR_NAME_PATTERN: &str =
        r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$";

    // sam's TestECRRepo companion mock: escaped "parentstackname", hash "abcdefghijklmn".
    fn patched_companion(parent: &str) -> CompanionStack {
        CompanionStack::with_hash(parent, "abcdefghijklmn".into())
    }

    #[test]
    fn md5_matches_sams_str_checksum() {
        assert_eq!(md5_hex("Hello, World!"), "65a8e27d8879283831b664bd8b7f0ad4");
        assert_eq!(
            md5_hex("Hello-World-Stack"),
            "925976eb06c20bc655a4b690c4db91c9"
        );
        assert_eq!(
            md5_hex("TestFunction01"),
            "50919004fdca66e56e9bc725d62cd18a"
        );
        assert_eq!(
            md5_hex("AnotherTestFunction02"),
            "5c2cfd8cb442ab5f3b9e02989a3c778e"
        );
    }

    #[test]
    fn companion_name_with_real_hash() {
        assert_eq!(
            CompanionStack::new("Parent-Stack").name(),
            "Parent-Stack-8ab67daa-CompanionStack"
        );
        assert_eq!(
            CompanionStack::new("Hello-World-Stack").name(),
            "Hello-World-Stack-925976eb-CompanionStack"
        );
        assert_eq!(
            CompanionStack::new("sam-app").name(),
            "sam-app-7427b055-CompanionStack"
        );
        assert_eq!(
            CompanionStack::new("my-stack").name(),
            "my-stack-5f9d0add-CompanionStack"
        );
        let long = CompanionStack::new(&"A".repeat(128));
        assert_eq!(
            long.name(),
            format!("{}-af35b0d3-CompanionStack", "A".repeat(104))
        );
        assert_eq!(long.name().len(), 128);
    }

    #[test]
    fn companion_with_patched_checksum() {
        let companion = CompanionStack::with_hash("Parent-Stack", "checksum".into());
        assert_eq!(companion.escaped_parent(), "parentstack");
        assert_eq!(companion.parent_hash(), "checksum");
        assert_eq!(companion.name(), "Parent-Stack-checksum-CompanionStack");
        let long = CompanionStack::with_hash(&"A".repeat(128), "checksum".into());
        assert_eq!(
            long.name(),
            format!("{}-checksum-CompanionStack", "A".repeat(104))
        );
    }

    #[test]
    fn stack_name_cut_counts_characters_not_bytes() {
        let companion = CompanionStack::new(&"é".repeat(110));
        let kept = companion.name().split('-').next().unwrap_or_default();
        assert_eq!(kept.chars().count(), 104);
        assert_eq!(companion.escaped_parent(), "");
    }

    #[test]
    fn repo_ids_with_patched_checksum() {
        let companion = patched_companion("ParentStackName");
        for (path, prefix) in [
            ("FunctionA", "FunctionA"),
            ("Stack/FunctionA", "StackFunctionA"),
        ] {
            let repo = EcrRepo::with_hash(&companion, path, "qwertyuiop");
            let lower = prefix.to_lowercase();
            assert_eq!(repo.logical_id(), format!("{prefix}qwertyuiRepo"));
            assert_eq!(repo.output_logical_id(), format!("{prefix}qwertyuiOut"));
            assert_eq!(
                repo.repository_name(),
                format!("parentstacknameabcdefgh/{lower}qwertyuirepo")
            );
            assert_eq!(
                repo.uri("12345", "us-west-2"),
                format!("12345.dkr.ecr.us-west-2.amazonaws.com/parentstacknameabcdefgh/{lower}qwertyuirepo")
            );
            assert_eq!(
                repo.uri("12345", "cn-north-1"),
                format!("12345.dkr.ecr.cn-north-1.amazonaws.com.cn/parentstacknameabcdefgh/{lower}qwertyuirepo")
            );
        }
    }

    #[test]
    fn sams_cutoffs_with_patched_checksum() {
        let companion = patched_companion(&"s".repeat(128));
        let repo = EcrRepo::with_hash(&companion, &"F".repeat(64), "qwertyuiop");
        assert_eq!(
            repo.repository_name(),
            format!("{}abcdefgh/{}qwertyuirepo", "s".repeat(128), "f".repeat(64))
        );
        assert!(!repo.repository_name_adjusted());
        assert_eq!(repo.logical_id(), format!("{}qwertyuiRepo", "F".repeat(52)));
    }

    #[test]
    fn computed_vectors() {
        let cases = [
            (
                "Hello-World-Stack",
                "TestFunction01",
                "TestFunction0150919004",
                "helloworldstack925976eb/testfunction0150919004repo",
            ),
            (
                "Hello-World-Stack",
                "AnotherTestFunction02",
                "AnotherTestFunction025c2cfd8c",
                "helloworldstack925976eb/anothertestfunction025c2cfd8crepo",
            ),
            (
                "Parent-Stack",
                "FunctionA",
                "FunctionAd91d818a",
                "parentstack8ab67daa/functionad91d818arepo",
            ),
            (
                "Parent-Stack",
                "Stack/FunctionA",
                "StackFunctionA4787a0f8",
                "parentstack8ab67daa/stackfunctiona4787a0f8repo",
            ),
            (
                "sam-app",
                "HelloWorldFunction",
                "HelloWorldFunction19d43fc4",
                "samapp7427b055/helloworldfunction19d43fc4repo",
            ),
            (
                "sam-app",
                "ChildApp/HelloWorldFunction",
                "ChildAppHelloWorldFunctionec30c69c",
                "samapp7427b055/childapphelloworldfunctionec30c69crepo",
            ),
            (
                "my-stack",
                "MyFunction",
                "MyFunctionbf3066d1",
                "mystack5f9d0add/myfunctionbf3066d1repo",
            ),
            (
                "Hello-World-Stack",
                "Helloworld",
                "Helloworlda165968b",
                "helloworldstack925976eb/helloworlda165968brepo",
            ),
            (
                "Hello-World-Stack",
                "HELLO-WORLD",
                "HELLO-WORLD50a71d95",
                "helloworldstack925976eb/helloworld50a71d95repo",
            ),
        ];
        for (stack, path, stem, name) in cases {
            let repo = EcrRepo::for_function(&CompanionStack::new(stack), path);
            assert_eq!(repo.logical_id(), format!("{stem}Repo"), "{path}");
            assert_eq!(repo.output_logical_id(), format!("{stem}Out"), "{path}");
            assert_eq!(repo.repository_name(), name, "{path}");
            assert_eq!(repo.function_full_path(), path);
        }
        let long = EcrRepo::for_function(&CompanionStack::new("any"), &"F".repeat(64));
        assert_eq!(long.logical_id(), format!("{}72a9f891Repo", "F".repeat(52)));
        assert!(long
            .repository_name()
            .ends_with(&format!("/{}72a9f891repo", "f".repeat(64))));
    }

    #[test]
    fn computed_uris() {
        let repo =
            EcrRepo::for_function(&CompanionStack::new("Hello-World-Stack"), "TestFunction01");
        assert_eq!(
            repo.uri("123456789012", "us-west-2"),
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/helloworldstack925976eb/testfunction0150919004repo"
        );
        assert_eq!(
            repo.uri("123456789012", "cn-north-1"),
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/helloworldstack925976eb/testfunction0150919004repo"
        );
    }

    #[test]
    fn over_long_repository_names_are_shortened_validly_and_uniquely() {
        let pattern = regex::Regex::new(ECR_NAME_PATTERN).unwrap();
        let companion = CompanionStack::new(&"A".repeat(128));
        let path_a = format!("Nested/{}A", "F".repeat(193));
        let path_b = format!("Nested/{}B", "F".repeat(193));
        let a = EcrRepo::for_function(&companion, &path_a);
        let b = EcrRepo::for_function(&companion, &path_b);
        // sam's name would be 128 + 8 + 1 + 200 + 12 = 349 characters (the reference's example).
        assert!(a.repository_name_adjusted() && b.repository_name_adjusted());
        assert_eq!(a.repository_name().len(), 256);
        assert_ne!(a.repository_name(), b.repository_name());
        let namespace = format!(
            "{}{}/",
            companion.escaped_parent(),
            &companion.parent_hash()[..8]
        );
        for repo in [&a, &b] {
            assert!(
                pattern.is_match(repo.repository_name()),
                "{}",
                repo.repository_name()
            );
            assert!(repo.repository_name().starts_with(&namespace));
        }
        let hash_a = &md5_hex(&path_a.replace('/', ""))[..8];
        assert!(a.repository_name().ends_with(&format!("{hash_a}repo")));
        // Deterministic: the same inputs give the same name.
        assert_eq!(a, EcrRepo::for_function(&companion, &path_a));
    }

    #[test]
    fn names_at_the_limit_stay_sams() {
        let companion = CompanionStack::new("Parent-Stack");
        // 19 ("parentstack8ab67daa") + 1 + n + 12 = 256 when n = 224.
        let repo = EcrRepo::for_function(&companion, &"f".repeat(224));
        assert_eq!(repo.repository_name().len(), 256);
        assert!(!repo.repository_name_adjusted());
        let over = EcrRepo::for_function(&companion, &"f".repeat(225));
        assert!(over.repository_name_adjusted());
        assert_eq!(over.repository_name().len(), 256);
    }
}
