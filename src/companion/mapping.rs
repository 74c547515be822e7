//! Which image functions get a managed repository, and the function → URI mapping the main
//! deploy uses. sam's `set_functions` rule: a function is managed when it has no explicit URI,
//! or when its explicit URI is the managed one (what `sam deploy --guided` saves). Unlike sam,
//! resolving may be combined with a partial explicit mapping (aws-sam-cli#3503).

use indexmap::{IndexMap, IndexSet};

use super::naming::{CompanionStack, EcrRepo};
use crate::template::repository_entry;

/// The outcome of [`assign`].
#[derive(Debug)]
pub(super) struct Assignment {
    /// The managed repositories, in function order.
    pub managed: Vec<EcrRepo>,
    /// Function full path → URI in function order, then the user's keys that matched no
    /// function, kept as sam keeps them.
    pub mapping: IndexMap<String, String>,
}

/// Assigns each of `functions` (full paths) its explicit URI from `explicit`, or a managed
/// repository when `resolve` is set or the explicit URI is the managed one.
pub(super) fn assign(
    companion: &CompanionStack,
    functions: &[String],
    explicit: &IndexMap<String, String>,
    resolve: bool,
    account: &str,
    region: &str,
) -> Assignment {
    let mut managed = Vec::new();
    let mut mapping = IndexMap::new();
    let mut used_keys = IndexSet::new();
    for function in functions {
        let repo = EcrRepo::for_function(companion, function);
        let managed_uri = repo.uri(account, region);
        match repository_entry(explicit, functions, function) {
            Some((key, uri)) => {
                used_keys.insert(key);
                if *uri == managed_uri {
                    managed.push(repo);
                }
                mapping.insert(function.clone(), uri.clone());
            }
            None if resolve => {
                managed.push(repo);
                mapping.insert(function.clone(), managed_uri);
            }
            None => {}
        }
    }
    for (key, uri) in explicit {
        if !used_keys.contains(key.as_str()) {
            mapping.entry(key.clone()).or_insert_with(|| uri.clone());
        }
    }
    Assignment { managed, mapping }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI_01: &str =
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/helloworldstack925976eb/testfunction0150919004repo";
    const URI_02: &str =
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/helloworldstack925976eb/anothertestfunction025c2cfd8crepo";
    const OWN_URI: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/my-own/repo";

    /// (managed function paths, mapping) for the Hello-World-Stack in us-west-2.
    fn run(
        functions: &[&str],
        explicit: &[(&str, &str)],
        resolve: bool,
    ) -> (Vec<String>, Vec<(String, String)>) {
        let functions: Vec<String> = functions.iter().map(|f| f.to_string()).collect();
        let explicit = explicit
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let companion = CompanionStack::new("Hello-World-Stack");
        let assignment = assign(
            &companion,
            &functions,
            &explicit,
            resolve,
            "123456789012",
            "us-west-2",
        );
        let managed = assignment
            .managed
            .iter()
            .map(|r| r.function_full_path().to_string())
            .collect();
        (managed, assignment.mapping.into_iter().collect())
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn resolve_manages_every_function() {
        let (managed, mapping) = run(&["TestFunction01", "AnotherTestFunction02"], &[], true);
        assert_eq!(managed, ["TestFunction01", "AnotherTestFunction02"]);
        assert_eq!(
            mapping,
            pairs(&[
                ("TestFunction01", URI_01),
                ("AnotherTestFunction02", URI_02)
            ])
        );
    }

    #[test]
    fn explicit_other_uri_opts_out() {
        let (managed, mapping) = run(
            &["TestFunction01", "AnotherTestFunction02"],
            &[("TestFunction01", OWN_URI)],
            true,
        );
        assert_eq!(managed, ["AnotherTestFunction02"]);
        assert_eq!(
            mapping,
            pairs(&[
                ("TestFunction01", OWN_URI),
                ("AnotherTestFunction02", URI_02)
            ])
        );
    }

    #[test]
    fn explicit_managed_uri_opts_in_without_resolve() {
        let explicit = [
            ("TestFunction01", URI_01),
            ("AnotherTestFunction02", OWN_URI),
        ];
        let (managed, mapping) = run(
            &["TestFunction01", "AnotherTestFunction02"],
            &explicit,
            false,
        );
        assert_eq!(managed, ["TestFunction01"]);
        assert_eq!(mapping, pairs(&explicit));
    }

    #[test]
    fn without_resolve_unmapped_functions_get_nothing() {
        let (managed, mapping) = run(&["TestFunction01"], &[], false);
        assert!(managed.is_empty() && mapping.is_empty());
    }

    #[test]
    fn unknown_keys_are_kept_after_the_functions() {
        let explicit = [
            ("NotInTemplate", "uri-kept-as-given"),
            ("TestFunction01", OWN_URI),
        ];
        let (_, mapping) = run(
            &["TestFunction01", "AnotherTestFunction02"],
            &explicit,
            true,
        );
        assert_eq!(
            mapping,
            pairs(&[
                ("TestFunction01", OWN_URI),
                ("AnotherTestFunction02", URI_02),
                ("NotInTemplate", "uri-kept-as-given")
            ])
        );
    }

    #[test]
    fn nested_function_matches_by_logical_id_unless_ambiguous() {
        let (managed, mapping) = run(&["Child/Fn"], &[("Fn", OWN_URI)], true);
        assert!(managed.is_empty());
        assert_eq!(mapping, pairs(&[("Child/Fn", OWN_URI)]));
        let (managed, _) = run(&["Fn", "Child/Fn"], &[("Fn", OWN_URI)], true);
        assert_eq!(managed, ["Child/Fn"]);
    }

    #[test]
    fn colliding_paths_map_to_the_same_repository() {
        // sam's known collision: `Child/Fn` and `ChildFn` hash and name alike.
        let (managed, mapping) = run(&["ChildFn", "Child/Fn"], &[], true);
        assert_eq!(managed.len(), 2);
        assert_eq!(mapping[0].1, mapping[1].1);
    }
}
