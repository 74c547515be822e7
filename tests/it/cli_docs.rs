//! What a user reads: `--help` as the binary prints it (sam's headings, examples, the environment
//! variables and exit statuses), the examples run as they are written, every environment variable
//! the code reads is in the list `--help` and the man page show; and what an installer puts beside
//! the binary, as a shell and `man` use it: the bash completion completes samrs's flags, and the
//! man page renders without a roff warning.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use samrs::help::{Topic, ENVIRONMENT, EXIT_STATUSES};

use crate::harness::TestEnv;

#[test]
fn bash_completes_flags_from_the_generated_script() {
    let env = TestEnv::new("completions");
    let script = env.samrs(&["completions", "bash"]);
    script.assert_success();
    env.write_file("samrs.bash", &script.stdout);
    // --help too, which samrs declares itself for deploy and delete (to put it under a heading).
    for (command, typed, completed) in [
        ("deploy", "--resolve-image", "--resolve-image-repos"),
        ("deploy", "--he", "--help"),
        ("delete", "--orph", "--orphans"),
    ] {
        let script = format!(
            "source samrs.bash\nCOMP_WORDS=(samrs {command} {typed}); COMP_CWORD=2\n_samrs samrs {typed} {command}\necho \"${{COMPREPLY[@]}}\""
        );
        let out = env.run("bash", &["-c", &script]);
        out.assert_success();
        assert_eq!(out.stdout.trim(), completed, "{out}");
    }
}

#[test]
fn the_man_page_renders_cleanly() {
    let env = TestEnv::new("man");
    let page = env.samrs(&["man"]);
    page.assert_success();
    env.write_file("samrs.1", &page.stdout);
    // -ww: every warning; -z: no output, only the diagnostics.
    let check = env.run("groff", &["-man", "-Tutf8", "-ww", "-z", "samrs.1"]);
    check.assert_success();
    assert_eq!(check.stderr, "", "{check}");
    // -P-cbou: plain text, no overstriking or escape sequences for bold and underline.
    let text = env.run("groff", &["-man", "-Tutf8", "-P-cbou", "samrs.1"]);
    for heading in [
        "SAMRS DEPLOY",
        "REQUIRED OPTIONS",
        "EXAMPLES",
        "SAMRS DELETE",
        "ENVIRONMENT",
        "SAM_CLI_POLL_DELAY",
        "EXIT STATUS",
    ] {
        assert!(text.stdout.contains(heading), "{heading}: {text}");
    }
}

#[test]
fn help_groups_the_options_and_ends_with_examples_environment_and_exit_statuses() {
    let env = TestEnv::new("help");
    for topic in Topic::ALL {
        let out = env.samrs(&[topic.name(), "--help"]);
        out.assert_success();
        let help = &out.stdout;
        assert!(!help.contains('\x1b'), "no styling when piped:\n{help}");
        assert!(
            !help.contains("\nOptions:"),
            "an option without heading:\n{help}"
        );
        let mut expected: Vec<String> = topic
            .groups()
            .iter()
            .map(|group| format!("\n{}:\n", group.heading))
            .collect();
        expected.push("\nExamples:\n".into());
        expected.extend(
            topic
                .examples()
                .iter()
                .map(|e| format!("    $ {}\n", e.command)),
        );
        expected.push("\nEnvironment:\n".into());
        expected.extend(
            topic
                .environment()
                .map(|v| format!("\n  {}\n", v.names.join(", "))),
        );
        expected.push("\nExit status:\n".into());
        expected.extend(EXIT_STATUSES.iter().map(|s| format!("\n  {:<5}", s.code)));
        let mut rest = help.as_str();
        for part in &expected {
            let at = rest
                .find(part.as_str())
                .unwrap_or_else(|| panic!("{part:?} missing or out of order in\n{help}"));
            rest = &rest[at + part.len() - 1..];
        }
        // -h is the summary: the examples, and where the rest is.
        let short = env.samrs(&[topic.name(), "-h"]);
        short.assert_success();
        assert!(short.stdout.contains("\nExamples:\n"), "{short}");
        assert!(!short.stdout.contains("\nOptions:"), "{short}");
        assert!(
            short
                .stdout
                .contains(&format!("exit statuses: samrs {} --help", topic.name())),
            "{short}"
        );
        assert!(!short.stdout.contains("\nEnvironment:\n"), "{short}");
    }
    let deploy = env.samrs(&["deploy", "--help"]).stdout;
    for line in [
        "Required Options:\n      --stack-name <STACK_NAME>",
        "samrs-only Options:\n      --dry-run",
        "  SAM_CLI_POLL_DELAY\n          Seconds between CloudFormation status polls",
        "  SAM_TEMPLATE_FILE\n",
        "  SAMRS_MAX_WAIT_SECONDS\n",
    ] {
        assert!(deploy.contains(line), "no {line:?} in\n{deploy}");
    }
    let delete = env.samrs(&["delete", "--help"]).stdout;
    assert!(!delete.contains("SAM_TEMPLATE_FILE"), "{delete}");
}

#[test]
fn the_top_level_help_lists_each_command_in_one_line() {
    let env = TestEnv::new("top-help");
    // `samrs` alone prints the help too, as `sam` alone does, and exits 0.
    for args in [&["--help"][..], &[]] {
        let out = env.samrs(args);
        out.assert_success();
        let commands = out
            .stdout
            .split("Commands:\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or_else(|| panic!("no commands in\n{out}"));
        let names: Vec<&str> = commands
            .lines()
            .map(|line| line.split_whitespace().next().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            ["deploy", "delete", "apply", "completions", "man", "help"],
            "{out}"
        );
        // The install hints of completions and man are in their own --help.
        assert!(!commands.contains("E.g."), "{commands}");
        assert!(out.stdout.contains("samrs <COMMAND> --help"), "{out}");
    }
}

/// One of `topic`'s examples, chosen by a word in it, with `my-app` renamed to `stack`.
fn example_args(topic: Topic, word: &str, stack: &str) -> Vec<String> {
    let example = topic
        .examples()
        .iter()
        .find(|e| e.command.split(' ').any(|w| w == word))
        .unwrap_or_else(|| panic!("no {} example with {word}", topic.name()));
    example
        .command
        .split(' ')
        .skip(1)
        .map(|w| if w == "my-app" { stack } else { w }.to_string())
        .collect()
}

#[test]
fn the_examples_run_as_written() {
    let env = TestEnv::new("examples");
    let stack = env.name("app");
    // The description makes the template, and so its object in the shared managed bucket, this
    // test's own.
    env.write_file(
        "template.yaml",
        &format!(
            "Transform: AWS::Serverless-2016-10-31\nDescription: {stack}\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n      Handler: index.handler\n      InlineCode: \"def handler(e, c): return 1\"\n"
        ),
    );
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.samrs(&args)
    };

    let dry_run = run(example_args(Topic::Deploy, "--dry-run", &stack));
    dry_run.assert_success();
    let doc: serde_json::Value =
        serde_json::from_str(&dry_run.stdout).expect("one JSON document on stdout");
    assert_eq!(doc["status"], "dry_run", "{dry_run}");
    assert_eq!(
        doc["changes"].as_array().map(Vec::len),
        Some(2),
        "{dry_run}"
    );
    assert_eq!(env.emu.stack_status(&stack), None, "{dry_run}");

    let ci = example_args(Topic::Deploy, "--no-confirm-changeset", &stack);
    run(ci.clone()).assert_success();
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
    // Again, with nothing to change: still a success in CI.
    run(ci).assert_success();

    run(example_args(Topic::Delete, "--no-prompts", &stack)).assert_success();
    assert_eq!(env.emu.stack_status(&stack), None);
}

/// The source files of src/ that are not test code (files only `#[cfg(test)]` declares are left
/// out, and so is a file's inline `#[cfg(test)] mod`), with their text.
fn non_test_sources(src: &Path) -> Vec<(PathBuf, String)> {
    let test_decl =
        regex::Regex::new(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+(\w+)\s*;")
            .expect("valid regex");
    let test_module =
        regex::Regex::new(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+\w+\s*\{")
            .expect("valid regex");
    let files: Vec<(PathBuf, String)> = walkdir::WalkDir::new(src)
        .into_iter()
        .map(|entry| entry.expect("src/ is readable").into_path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            (path, text)
        })
        .collect();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for (path, text) in &files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let dir = path.parent().expect("a file in a directory");
        // Where this module's children live: beside a mod.rs (or lib.rs), else in its own folder.
        let children = match stem {
            "mod" | "lib" | "main" => dir.to_path_buf(),
            _ => dir.join(stem),
        };
        for decl in test_decl.captures_iter(text) {
            test_only.insert(children.join(format!("{}.rs", &decl[1])));
            test_only.insert(children.join(&decl[1]).join("mod.rs"));
        }
    }
    files
        .into_iter()
        .filter(|(path, _)| !test_only.contains(path))
        .map(|(path, text)| {
            let code = match test_module.find(&text) {
                Some(tests) => text[..tests.start()].to_string(),
                None => text,
            };
            (path, code)
        })
        .collect()
}

/// The environment variables `sources` read: the names given to `env::var` / `env::var_os`, as
/// literals or as string constants, and every string literal named like a variable of AWS, sam,
/// samrs, docker or XDG (which catches names passed to a helper that reads the variable, like
/// `var("SAM_DEBUG")` or `text("DOCKER_HOST")`). Each name maps to a file that reads it.
fn variables_read(sources: &[(PathBuf, String)]) -> BTreeMap<String, PathBuf> {
    let constant = regex::Regex::new(r#"const\s+(\w+)\s*:\s*&str\s*=\s*"([A-Za-z0-9_]+)""#)
        .expect("valid regex");
    let read = regex::Regex::new(r"env::var(?:_os)?\(\s*([^)]*?)\s*\)").expect("valid regex");
    let named_like_one =
        regex::Regex::new(r#""((?:AWS|SAM|SAMRS|DOCKER|XDG)_[A-Z0-9_]+)""#).expect("valid regex");
    let constants: BTreeMap<String, String> = sources
        .iter()
        .flat_map(|(_, text)| constant.captures_iter(text))
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    let mut names = BTreeMap::new();
    for (path, text) in sources {
        for call in read.captures_iter(text) {
            let argument = &call[1];
            let last = argument.rsplit("::").next().unwrap_or_default();
            let name = if let Some(literal) = argument.strip_prefix('"') {
                literal.trim_end_matches('"').to_string()
            } else if last.starts_with(|c: char| c.is_ascii_uppercase()) {
                constants.get(last).cloned().unwrap_or_else(|| {
                    panic!("{}: env::var({argument}): no such constant", path.display())
                })
            } else {
                // A helper's parameter: its callers pass the names (caught below).
                continue;
            };
            names.insert(name, path.clone());
        }
        for literal in named_like_one.captures_iter(text) {
            names.insert(literal[1].to_string(), path.clone());
        }
    }
    names
}

#[test]
fn every_environment_variable_the_code_reads_is_in_the_help() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let read = variables_read(&non_test_sources(&src));
    assert!(read.len() > 25, "the scan finds what is read: {read:?}");
    let missing: Vec<String> = read
        .iter()
        .filter(|(name, _)| !ENVIRONMENT.iter().any(|v| v.covers(name)))
        .map(|(name, path)| format!("{name} (read in {})", path.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "add these to samrs::help::ENVIRONMENT (src/help.rs): {missing:?}"
    );
}

#[test]
fn the_scan_sees_each_way_of_reading_a_variable_and_skips_test_code() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod a; #[cfg(test)]\nmod helpers;");
    write(
        "a/mod.rs",
        r#"mod b;
pub const ENDPOINT_VARIABLE: &str = "SAMRS_SOMETHING";
fn f() {
    std::env::var("PLAIN").ok();
    std::env::var_os(crate::a::ENDPOINT_VARIABLE);
    let var = |name: &str| std::env::var(name).ok();
    var("SAM_THROUGH_A_HELPER");
    let status = "CREATE_COMPLETE";
}
#[cfg(test)]
mod tests {
    fn g() { std::env::var("IN_A_TEST").ok(); }
}
"#,
    );
    write(
        "a/b.rs",
        "#[cfg(test)] mod c; fn h() { std::env::var_os(\"HOME\"); }",
    );
    write(
        "a/b/c.rs",
        "fn i() { std::env::var(\"IN_TEST_FILE_C\").ok(); }",
    );
    write(
        "helpers.rs",
        "fn j() { std::env::var(\"IN_TEST_FILE\").ok(); }",
    );
    let read: Vec<String> = variables_read(&non_test_sources(dir.path()))
        .into_keys()
        .collect();
    assert_eq!(
        read,
        ["HOME", "PLAIN", "SAMRS_SOMETHING", "SAM_THROUGH_A_HELPER"]
    );
}
