//! What an installer puts beside the binary, as a shell and `man` use it: the bash completion
//! completes samrs's flags, and the man page renders without a roff warning.

use crate::harness::TestEnv;

#[test]
fn bash_completes_flags_from_the_generated_script() {
    let env = TestEnv::new("completions");
    let script = env.samrs(&["completions", "bash"]);
    script.assert_success();
    env.write_file("samrs.bash", &script.stdout);
    let out = env.run(
        "bash",
        &[
            "-c",
            r#"source samrs.bash
COMP_WORDS=(samrs deploy --resolve-image); COMP_CWORD=2
_samrs samrs --resolve-image deploy
echo "${COMPREPLY[@]}""#,
        ],
    );
    out.assert_success();
    assert_eq!(out.stdout.trim(), "--resolve-image-repos", "{out}");
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
    for heading in ["SAMRS DEPLOY", "SAMRS DELETE", "EXIT STATUS"] {
        assert!(text.stdout.contains(heading), "{heading}: {text}");
    }
}
