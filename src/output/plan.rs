//! The changes of a plan as people read them: `+ ~ -` lines with property paths and old → new
//! values under sam's change set table, and a Markdown table for a pull-request comment. Pure:
//! lines in, the [`super::Ui`] prints them. Values come masked ([`crate::plan::changes`]).

use super::Tone;
use crate::plan::changes::{self, CodeChange, CodeKind, PropertyChange, ResourceChange};

/// Values longer than this are cut (with `…`): a policy document is not reviewed in one line.
const VALUE_LIMIT: usize = 120;

/// The lines under the change set table: each resource, then its property and code changes,
/// nested stacks' changes under the stack they are in. A stack's own resource added or removed
/// with nothing below it is not repeated: its table row says it all.
pub fn lines(changes: &[ResourceChange]) -> Vec<(String, Tone)> {
    let mut out = Vec::new();
    for (name, change) in changes::flatten(changes) {
        let depth = name.matches('/').count();
        let said_by_the_table = depth == 0
            && change.action != "Modify"
            && change.properties.is_empty()
            && change.code.is_none()
            && change.nested.is_empty();
        if said_by_the_table {
            continue;
        }
        let indent = "  ".repeat(depth);
        let (mark, tone) = mark(&change.action);
        let mut head = format!(
            "{indent}{mark} {} {name} ({})",
            change.action, change.resource_type
        );
        let replaced = change.replacement.as_deref() == Some("True");
        match change.replacement.as_deref() {
            Some("True") => head.push_str(": replaced"),
            Some("Conditional") => head.push_str(": may be replaced"),
            _ => {}
        }
        out.push((head, if replaced { Tone::Bad } else { tone }));
        for property in &change.properties {
            let tone = match property.recreation.as_str() {
                "Always" | "Conditionally" => Tone::Bad,
                _ => tone_of(&property.change),
            };
            out.push((format!("{indent}    {}", property_line(property)), tone));
        }
        if let Some(code) = &change.code {
            out.push((format!("{indent}    ~ {}", code_line(code)), Tone::Warn));
        }
    }
    if !out.is_empty() {
        out.insert(0, ("\nChanges by property".to_string(), Tone::Strong));
    }
    out
}

/// The changes as a Markdown table: one row per property (a resource without property details
/// has one row), nested stacks' resources as `Stack/Resource`.
pub fn markdown(changes: &[ResourceChange]) -> String {
    if changes.is_empty() {
        return "No changes.".to_string();
    }
    let mut out = String::from(
        "| | Resource | Type | Replacement | Property | Before | After |\n|---|---|---|---|---|---|---|\n",
    );
    for (name, change) in changes::flatten(changes) {
        let (mark, _) = mark(&change.action);
        let replacement = change.replacement.as_deref().unwrap_or("");
        let mut rows: Vec<[String; 3]> = change
            .properties
            .iter()
            .map(|p| {
                let mut property = code(&property_name(&p.path));
                if let Some(why) = recreation_note(p) {
                    property.push_str(&format!(" ({why})"));
                }
                [
                    property,
                    p.before.as_deref().map(code).unwrap_or_default(),
                    p.after.as_deref().map(code).unwrap_or_default(),
                ]
            })
            .collect();
        if let Some(c) = &change.code {
            rows.push([
                kind_label(c).to_string(),
                c.deployed.as_deref().map(code).unwrap_or_default(),
                code(&c.new),
            ]);
        }
        if rows.is_empty() {
            rows.push(Default::default());
        }
        for (i, [property, before, after]) in rows.into_iter().enumerate() {
            let (mark, resource, rtype, replacement) = if i == 0 {
                (
                    mark,
                    code(&name),
                    code(&change.resource_type),
                    replacement.to_string(),
                )
            } else {
                ("", String::new(), String::new(), String::new())
            };
            out.push_str(&format!(
                "| {mark} | {resource} | {rtype} | {replacement} | {property} | {before} | {after} |\n"
            ));
        }
    }
    out
}

fn mark(action: &str) -> (&'static str, Tone) {
    match action {
        "Add" | "Import" => ("+", Tone::Good),
        "Remove" => ("-", Tone::Bad),
        _ => ("~", Tone::Warn),
    }
}

fn tone_of(change: &str) -> Tone {
    mark(match change {
        "Add" => "Add",
        "Remove" => "Remove",
        _ => "Modify",
    })
    .1
}

/// `Environment/Variables/STAGE` for `/Properties/Environment/Variables/STAGE`.
fn property_name(path: &str) -> String {
    path.strip_prefix("/Properties/")
        .unwrap_or(path.trim_start_matches('/'))
        .to_string()
}

fn property_line(p: &PropertyChange) -> String {
    let name = property_name(&p.path);
    let value = |v: &Option<String>| v.as_deref().map(cut).unwrap_or_else(|| "?".into());
    let mut line = match (p.change.as_str(), &p.before, &p.after) {
        ("Add", _, after) => format!("+ {name}: {}", value(after)),
        ("Remove", before, _) => format!("- {name}: {}", value(before)),
        (_, None, None) => format!("~ {name}"),
        (_, before, after) => format!("~ {name}: {} → {}", value(before), value(after)),
    };
    if let Some(why) = recreation_note(p) {
        line.push_str(&format!(" ({why})"));
    }
    if let Some(cause) = &p.cause {
        line.push_str(&format!(" [{cause}]"));
    }
    line
}

/// Why a property's change replaces the resource.
fn recreation_note(p: &PropertyChange) -> Option<&'static str> {
    match p.recreation.as_str() {
        "Always" => Some("replaces the resource"),
        "Conditionally" => Some("may replace the resource"),
        _ => None,
    }
}

fn kind_label(c: &CodeChange) -> &'static str {
    match c.kind {
        CodeKind::Zip => "code (zip SHA-256)",
        CodeKind::Image => "code (image digest)",
    }
}

fn code_line(c: &CodeChange) -> String {
    format!(
        "{}: {} → {}",
        kind_label(c),
        c.deployed.as_deref().unwrap_or("?"),
        c.new
    )
}

fn cut(value: &str) -> String {
    let one_line = value.replace('\n', " ");
    match one_line.char_indices().nth(VALUE_LIMIT) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

/// A value in a Markdown cell: as code, cut, with its pipes escaped.
fn code(value: &str) -> String {
    let text = cut(value).replace('|', "\\|");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::changes::ValueSource;

    fn property(path: &str, before: &str, after: &str, recreation: &str) -> PropertyChange {
        PropertyChange {
            path: path.into(),
            change: "Modify".into(),
            before: Some(before.into()),
            after: Some(after.into()),
            recreation: recreation.into(),
            cause: None,
            source: ValueSource::Cloudformation,
        }
    }

    fn change(action: &str, id: &str, properties: Vec<PropertyChange>) -> ResourceChange {
        ResourceChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: "AWS::Lambda::Function".into(),
            replacement: (action == "Modify").then(|| "False".into()),
            physical_id: None,
            properties,
            code: None,
            change_set_id: None,
            nested: Vec::new(),
        }
    }

    #[test]
    fn resources_the_table_says_all_of_get_no_lines() {
        let mut nested_add = change("Add", "Stack", Vec::new());
        nested_add.resource_type = "AWS::CloudFormation::Stack".into();
        nested_add.nested = vec![change("Add", "Inner", Vec::new())];
        assert!(lines(&[
            change("Add", "New", Vec::new()),
            change("Remove", "Old", Vec::new())
        ])
        .is_empty());
        let text: Vec<String> = lines(&[nested_add]).into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            text,
            [
                "\nChanges by property",
                "+ Add Stack (AWS::CloudFormation::Stack)",
                "  + Add Stack/Inner (AWS::Lambda::Function)",
            ]
        );
    }

    #[test]
    fn lines_show_paths_old_and_new_values_and_nested_changes() {
        let mut kid = change("Modify", "Kid", Vec::new());
        kid.resource_type = "AWS::CloudFormation::Stack".into();
        let mut topic = change(
            "Modify",
            "Topic",
            vec![property("/Properties/TopicName", "one", "two", "Always")],
        );
        topic.replacement = Some("True".into());
        kid.nested = vec![topic];
        let mut function = change(
            "Modify",
            "Fn",
            vec![property(
                "/Properties/Environment/Variables/STAGE",
                "dev",
                "prod",
                "Never",
            )],
        );
        function.code = Some(CodeChange {
            kind: CodeKind::Zip,
            deployed: Some("old=".into()),
            new: "new=".into(),
        });
        let text: Vec<String> = lines(&[function, kid, change("Add", "New", Vec::new())])
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            text,
            [
                "\nChanges by property",
                "~ Modify Fn (AWS::Lambda::Function)",
                "    ~ Environment/Variables/STAGE: dev → prod",
                "    ~ code (zip SHA-256): old= → new=",
                "~ Modify Kid (AWS::CloudFormation::Stack)",
                "  ~ Modify Kid/Topic (AWS::Lambda::Function): replaced",
                "      ~ TopicName: one → two (replaces the resource)",
            ]
        );
    }

    #[test]
    fn markdown_is_a_table_with_escaped_cells() {
        let table = markdown(&[
            change(
                "Modify",
                "Fn",
                vec![property(
                    "/Properties/Environment/Variables/A",
                    "x|y",
                    "z",
                    "Never",
                )],
            ),
            change("Remove", "Old", Vec::new()),
        ]);
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(
            rows[0],
            "| | Resource | Type | Replacement | Property | Before | After |"
        );
        assert_eq!(
            rows[2],
            "| ~ | `Fn` | `AWS::Lambda::Function` | False | `Environment/Variables/A` | `x\\|y` | `z` |"
        );
        assert_eq!(
            rows[3],
            "| - | `Old` | `AWS::Lambda::Function` |  |  |  |  |"
        );
        assert_eq!(markdown(&[]), "No changes.");
    }

    #[test]
    fn long_values_are_cut() {
        let long = "a".repeat(200);
        assert_eq!(cut(&long).chars().count(), VALUE_LIMIT + 1);
        assert!(cut(&long).ends_with('…'));
    }
}
