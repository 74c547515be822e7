//! The layering of ARCHITECTURE.md, checked from the code: the graph of which top-level module of
//! src/ uses which, read from the paths in its items (`use crate::x`, `crate::x::f()`, `super::`
//! chains that reach the root, and the root's own `x::` paths), test code left out
//! (`#[cfg(test)]` items and the files only they declare).
//!
//! `cargo test --test it architecture -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;

/// Modules that decide: pure functions of what they are given.
const PLANNING: &[&str] = &[
    "template",
    "config",
    "settings",
    "artifacts",
    "companion",
    "plan",
    "events",
    "stack_state",
];
/// Modules that call AWS, or a registry, or walk the steps that do.
const ACTING: &[&str] = &[
    "aws",
    "cloudformation",
    "s3",
    "ecr",
    "lambda",
    "push",
    "signing",
    "calls",
    "network",
    "stackops",
    "managed_bucket",
    "package",
    "deploy",
    "delete",
];
/// Modules that draw on the terminal or ask at it.
const TERMINAL: &[&str] = &["output", "prompt", "guided"];
/// The only modules that see clap's types.
const CLI_USERS: &[&str] = &["main", "lib", "settings"];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn the_layering_holds() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    println!("{}", render(&graph));
    let problems = violations(&graph);
    assert!(
        problems.is_empty(),
        "the imports of src/ break ARCHITECTURE.md's rules:\n{}\n\nthe graph:\n{}",
        problems.join("\n"),
        render(&graph)
    );
}

#[test]
fn the_checker_sees_each_kind_of_path() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "pub mod a; pub mod b; pub mod c; pub mod d; use a::X; fn f() { d::go() }",
    );
    write("main.rs", "fn main() { samrs::b::run() }");
    write(
        "a/mod.rs",
        "mod inner; use crate::{b::Y, c}; #[cfg(test)] mod tests { use crate::d; }",
    );
    write(
        "a/inner.rs",
        "fn g() { super::super::d::go(); super::h(); }",
    );
    write(
        "b.rs",
        "#[cfg(test)] mod helper; fn f() -> crate::a::X { todo!() }",
    );
    write("b/helper.rs", "use crate::c::Z;");
    write("c.rs", "");
    write("d.rs", "macro_rules! m { () => { crate::c::go() } }");
    let graph = module_graph(dir.path());
    let edges = |from: &str| -> Vec<&str> {
        graph
            .get(from)
            .map(|to| to.iter().map(String::as_str).collect())
            .unwrap_or_default()
    };
    assert_eq!(edges("lib"), ["a", "d"]);
    assert_eq!(edges("main"), ["b"]);
    assert_eq!(edges("a"), ["b", "c", "d"]);
    assert_eq!(edges("b"), ["a"], "test-only files are left out");
    assert_eq!(edges("d"), ["c"], "macro bodies count");
    let problems = violations(&graph);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("cycle") && p.contains("a -> b -> a")),
        "{problems:?}"
    );
}

/// Which top-level module uses which (the crate root is `lib`, the binary `main`).
fn module_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    let top_level = top_level_modules(&src.join("lib.rs"));
    for (root, name) in [("lib.rs", "lib"), ("main.rs", "main")] {
        let path = src.join(root);
        if path.exists() {
            let file = parse(&path);
            let walk = Walk {
                top_level: &top_level,
                graph: &mut graph,
            };
            walk.items(&file.items, src, &[], name);
        }
    }
    graph
}

fn parse(path: &Path) -> syn::File {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The modules the crate root declares.
fn top_level_modules(lib: &Path) -> BTreeSet<String> {
    parse(lib)
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) => Some(m.ident.to_string()),
            _ => None,
        })
        .collect()
}

struct Walk<'a> {
    top_level: &'a BTreeSet<String>,
    graph: &'a mut Graph,
}

impl Walk<'_> {
    /// The items of the module `module`, whose children's files are in `dir`; `owner` is the
    /// top-level module they belong to.
    fn items(mut self, items: &[syn::Item], dir: &Path, module: &[String], owner: &str) {
        self.items_mut(items, dir, module, owner);
    }

    fn items_mut(&mut self, items: &[syn::Item], dir: &Path, module: &[String], owner: &str) {
        for item in items.iter().filter(|item| !is_test_only(item)) {
            let syn::Item::Mod(declared) = item else {
                self.paths(item.to_token_stream(), module, owner);
                continue;
            };
            let name = declared.ident.to_string();
            let mut child = module.to_vec();
            child.push(name.clone());
            let owner = if module.is_empty() {
                name.as_str()
            } else {
                owner
            };
            match &declared.content {
                Some((_, inline)) => self.items_mut(inline, &dir.join(&name), &child, owner),
                None => {
                    let (path, child_dir) = module_file(dir, &name);
                    let parsed = parse(&path);
                    self.items_mut(&parsed.items, &child_dir, &child, owner);
                }
            }
        }
    }

    /// Records the top-level modules that the paths in `tokens` reach.
    fn paths(&mut self, tokens: TokenStream, module: &[String], owner: &str) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            if let TokenTree::Group(group) = token {
                self.paths(group.stream(), module, owner);
            }
            let TokenTree::Ident(ident) = token else {
                continue;
            };
            if path_separator_at(&tokens, i.wrapping_sub(2)) || after_dot(&tokens, i) {
                continue;
            }
            let word = ident.to_string();
            let targets = match word.as_str() {
                "crate" if owner != "main" => segments_after(&tokens, i),
                "samrs" if owner == "main" => segments_after(&tokens, i),
                "super" => {
                    let mut depth = 1;
                    let mut at = i;
                    while path_separator_at(&tokens, at + 1)
                        && matches!(tokens.get(at + 3), Some(TokenTree::Ident(s)) if s == "super")
                    {
                        depth += 1;
                        at += 3;
                    }
                    if depth < module.len() {
                        continue;
                    }
                    segments_after(&tokens, at)
                }
                name if module.is_empty()
                    && self.top_level.contains(name)
                    && path_separator_at(&tokens, i + 1) =>
                {
                    vec![name.to_string()]
                }
                _ => continue,
            };
            for target in targets {
                if target != owner && self.top_level.contains(&target) {
                    self.graph
                        .entry(owner.to_string())
                        .or_default()
                        .insert(target);
                }
            }
        }
    }
}

/// Whether `tokens[at]` and `tokens[at + 1]` are `::`.
fn path_separator_at(tokens: &[TokenTree], at: usize) -> bool {
    let colon = |i: usize| matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ':');
    at < tokens.len() && colon(at) && colon(at + 1)
}

fn after_dot(tokens: &[TokenTree], i: usize) -> bool {
    i > 0 && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '.')
}

/// The first segments after `tokens[i]` and a `::`: one name, or each branch of a `{...}` group.
fn segments_after(tokens: &[TokenTree], i: usize) -> Vec<String> {
    if !path_separator_at(tokens, i + 1) {
        return Vec::new();
    }
    match tokens.get(i + 3) {
        Some(TokenTree::Ident(name)) => vec![name.to_string()],
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
            let mut names = Vec::new();
            let mut first = true;
            for token in group.stream() {
                match token {
                    TokenTree::Ident(name) if first => {
                        names.push(name.to_string());
                        first = false;
                    }
                    TokenTree::Punct(p) if p.as_char() == ',' => first = true,
                    _ => first = false,
                }
            }
            names
        }
        _ => Vec::new(),
    }
}

/// `#[cfg(test)]` (alone or in `all(...)`): compiled only for tests.
fn is_test_only(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Mod(m) => &m.attrs,
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Use(u) => &u.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Struct(s) => &s.attrs,
        syn::Item::Enum(e) => &e.attrs,
        syn::Item::Const(c) => &c.attrs,
        syn::Item::Static(s) => &s.attrs,
        syn::Item::Trait(t) => &t.attrs,
        syn::Item::Type(t) => &t.attrs,
        syn::Item::Macro(m) => &m.attrs,
        _ => return false,
    };
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg") && {
            let text = attr.meta.to_token_stream().to_string();
            let text = text.replace(' ', "");
            text == "cfg(test)" || text.starts_with("cfg(all(test,")
        }
    })
}

/// The file of module `name` declared in a module whose children live in `dir`, and the
/// directory of its own children.
fn module_file(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let flat = dir.join(format!("{name}.rs"));
    let nested = dir.join(name).join("mod.rs");
    let path = if flat.exists() { flat } else { nested };
    (path, dir.join(name))
}

/// Each broken rule, one line.
fn violations(graph: &Graph) -> Vec<String> {
    let mut problems = Vec::new();
    for (group, cycle) in cycles(graph) {
        problems.push(format!(
            "cycle among {}: {}",
            group.join(", "),
            cycle.join(" -> ")
        ));
    }
    for (from, targets) in graph {
        for to in targets {
            let (from, to) = (from.as_str(), to.as_str());
            if PLANNING.contains(&from) && (ACTING.contains(&to) || TERMINAL.contains(&to)) {
                problems.push(format!(
                    "{from} -> {to}: planning code uses no AWS and no terminal"
                ));
            }
            if ACTING.contains(&from) && TERMINAL.contains(&to) {
                problems.push(format!(
                    "{from} -> {to}: code that acts reports through events, it does not draw"
                ));
            }
            if to == "cli" && !CLI_USERS.contains(&from) {
                problems.push(format!("{from} -> cli: clap's types stop at settings"));
            }
            if to == "deploy" && from != "lib" {
                problems.push(format!(
                    "{from} -> deploy: commands share the stack-operations layer, not deploy"
                ));
            }
        }
    }
    problems
}

/// The groups of modules that reach each other (strongly connected components of more than one
/// module), each with its shortest cycle through its first module.
fn cycles(graph: &Graph) -> Vec<(Vec<String>, Vec<String>)> {
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(node) = todo.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut placed = BTreeSet::new();
    let mut found = Vec::new();
    for (module, reached) in &reaches {
        if placed.contains(*module) || !reached.contains(*module) {
            continue;
        }
        let group: BTreeSet<String> = reached
            .iter()
            .filter(|other| reaches.get(other).is_some_and(|r| r.contains(*module)))
            .cloned()
            .collect();
        placed.extend(group.iter().cloned());
        found.push((group.into_iter().collect(), shortest_cycle(graph, module)));
    }
    found
}

/// The shortest way from `start` back to itself (breadth first).
fn shortest_cycle(graph: &Graph, start: &String) -> Vec<String> {
    let mut paths = std::collections::VecDeque::from([vec![start.clone()]]);
    let mut seen = BTreeSet::new();
    while let Some(path) = paths.pop_front() {
        let last = path.last().unwrap_or(start);
        for next in graph.get(last).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push(next.clone());
            if next == start {
                return longer;
            }
            if seen.insert(next.clone()) {
                paths.push_back(longer);
            }
        }
    }
    Vec::new()
}

fn render(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(from, to)| {
            format!(
                "{from} -> {}",
                to.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
