//! `samrs delete --orphans`: companion stacks and managed repositories whose parent stack is
//! gone (sam issue #2856), found by their names and tags, listed, and deleted after one question.

use super::{ask_to_start, Deleter};
use crate::cloudformation as cfn;
use crate::companion::md5_hex;
use crate::events::{Event, Orphan, Question};

/// The companion stack names among `stacks` whose parent is not among them: the name's prefix
/// and md5 must both match a live stack (parents longer than 104 characters are truncated).
pub fn orphaned_companions(stacks: &[String]) -> Vec<String> {
    stacks
        .iter()
        .filter(|name| {
            companion_parts(name)
                .is_some_and(|(prefix, hash)| !stacks.iter().any(|p| is_parent(p, prefix, hash)))
        })
        .cloned()
        .collect()
}

fn companion_parts(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_suffix("-CompanionStack")?;
    let (prefix, hash) = rest.rsplit_once('-')?;
    (hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some((prefix, hash))
}

fn is_parent(candidate: &str, prefix: &str, hash: &str) -> bool {
    candidate.chars().take(104).eq(prefix.chars()) && md5_hex(candidate).starts_with(hash)
}

/// Lists the orphans and, when the person agrees, deletes them.
pub(super) async fn delete(deleter: &Deleter<'_>) -> anyhow::Result<()> {
    let (aws, report) = (deleter.ops.aws, deleter.ops.report);
    let (stacks, repos) = tokio::try_join!(
        cfn::list_stack_names(&aws.cfn),
        crate::ecr::managed_repositories(&aws.ecr)
    )?;
    let mut orphans: Vec<Orphan> = orphaned_companions(&stacks)
        .into_iter()
        .map(|companion_stack| Orphan {
            companion_stack,
            stack_exists: true,
            repositories: Vec::new(),
        })
        .collect();
    for repo in repos {
        let parent_alive = companion_parts(&repo.companion_stack)
            .is_some_and(|(prefix, hash)| stacks.iter().any(|p| is_parent(p, prefix, hash)));
        if parent_alive {
            continue;
        }
        match orphans
            .iter_mut()
            .find(|o| o.companion_stack == repo.companion_stack)
        {
            Some(orphan) => orphan.repositories.push(repo.name),
            None => orphans.push(Orphan {
                stack_exists: stacks.contains(&repo.companion_stack),
                companion_stack: repo.companion_stack,
                repositories: vec![repo.name],
            }),
        }
    }
    let count = orphans.len();
    report.event(Event::Orphans(orphans.clone()));
    if count == 0 || !ask_to_start(report, Question::DeleteOrphans { count })? {
        return Ok(());
    }
    for orphan in &orphans {
        for repo in &orphan.repositories {
            deleter.ops.delete_repository(repo).await?;
        }
        if orphan.stack_exists {
            deleter.delete_companion(&orphan.companion_stack).await?;
        }
    }
    report.event(Event::Deleted { express: false });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_companion_is_orphaned_only_when_no_stack_matches_name_and_hash() {
        let stacks = names(&[
            "Hello-World-Stack",
            "Hello-World-Stack-925976eb-CompanionStack",
            "Parent-Stack-8ab67daa-CompanionStack",
            "sam-app-deadbeef-CompanionStack",
            "sam-app",
            "unrelated",
        ]);
        assert_eq!(
            orphaned_companions(&stacks),
            names(&[
                "Parent-Stack-8ab67daa-CompanionStack",
                "sam-app-deadbeef-CompanionStack"
            ])
        );
    }

    #[test]
    fn long_parent_names_match_through_truncation() {
        let parent = "A".repeat(128);
        let companion = format!("{}-af35b0d3-CompanionStack", "A".repeat(104));
        assert!(orphaned_companions(&[parent, companion.clone()]).is_empty());
        assert_eq!(
            orphaned_companions(std::slice::from_ref(&companion)),
            vec![companion]
        );
    }
}
