//! Row Level Security from the documents. Every generated table gets RLS
//! (deny by default, as Supabase recommends). Policies come from SQL
//! `CREATE POLICY` blocks (kept as written), from prose rules of the form
//! `<Audience>: <operations> <scope> <table>` ("Agents: CRUD own
//! properties"), and from privacy notes ("AGENT-ONLY") which become
//! owner-only policies. "Service role bypasses RLS" needs no policy: the
//! role has BYPASSRLS. How audiences, owners and "active" map to SQL is
//! configurable in the `rls:` section of schema/gen.yaml.

use crate::diag::{Code, Diagnostic};
use crate::model::inflect::singular;
use crate::model::physical::quote_identifier;
use crate::model::{Policy, PolicyCommand, PolicyOrigin, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `rls:` section of the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RlsOptions {
    /// Enable Row Level Security on every generated table.
    pub enable: bool,
    /// Database roles per audience word (lower case). Audiences not listed
    /// get `default_roles`.
    pub audience_roles: BTreeMap<String, Vec<String>>,
    pub default_roles: Vec<String>,
    /// The owner column per audience (lower case), where `<audience
    /// singular>_id` is not the right guess.
    pub owner_columns: BTreeMap<String, String>,
    /// Owner column used when the audience's own column does not exist.
    pub fallback_owner_column: String,
}

impl Default for RlsOptions {
    fn default() -> Self {
        RlsOptions {
            enable: true,
            audience_roles: BTreeMap::from([(
                "public".to_owned(),
                vec!["anon".to_owned(), "authenticated".to_owned()],
            )]),
            default_roles: vec!["authenticated".to_owned()],
            owner_columns: BTreeMap::new(),
            fallback_owner_column: "user_id".to_owned(),
        }
    }
}

/// Enables RLS on a table and turns its prose rules and privacy notes into
/// policies. SQL policies already on the table are kept.
pub fn apply(table: &mut Table, options: &RlsOptions, diagnostics: &mut Vec<Diagnostic>) {
    table.rls_enabled = options.enable;
    let mut policies = Vec::new();
    for rule in &table.rls_rules {
        match prose_policies(table, &rule.text, options) {
            Ok(found) => policies.extend(found.into_iter().map(|mut p| {
                p.source = rule.source.clone();
                p
            })),
            Err(reason) => diagnostics.push(
                Diagnostic::warning(
                    Code::RlsRuleUnreadable,
                    rule.source.span(),
                    format!("cannot read RLS rule `{}`: {reason}", rule.text),
                )
                .with_help("write `<Audience>: <CRUD|ALL|SELECT|INSERT|UPDATE|DELETE, ...> <own|active|all> <table>`"),
            ),
        }
    }
    if let Some(note) = table.meta.privacy.clone() {
        match privacy_policy(table, &note, options) {
            Some(Ok(mut policy)) => {
                policy.source = table.source.clone();
                policies.push(policy);
            }
            Some(Err(reason)) => diagnostics.push(
                Diagnostic::warning(
                    Code::RlsRuleUnreadable,
                    table.source.span(),
                    format!("cannot turn privacy note `{note}` into a policy: {reason}"),
                )
                .with_help("add the owner column, or map the audience in `rls.owner_columns`"),
            ),
            None => {}
        }
    }
    for policy in policies {
        if !table.policies.iter().any(|p| p.name == policy.name) {
            table.policies.push(policy);
        }
    }
}

fn command_of(word: &str) -> Option<Vec<PolicyCommand>> {
    Some(match word.to_ascii_uppercase().as_str() {
        "CRUD" | "ALL" => vec![PolicyCommand::All],
        "SELECT" | "READ" => vec![PolicyCommand::Select],
        "INSERT" | "CREATE" => vec![PolicyCommand::Insert],
        "UPDATE" => vec![PolicyCommand::Update],
        "DELETE" => vec![PolicyCommand::Delete],
        _ => return None,
    })
}

fn roles_for(audience: &str, options: &RlsOptions) -> Vec<String> {
    options
        .audience_roles
        .get(audience)
        .cloned()
        .unwrap_or_else(|| options.default_roles.clone())
}

/// The owner column for an audience: configured, else `<singular>_id`,
/// else the fallback, as long as the table has it.
fn owner_column(table: &Table, audience: &str, options: &RlsOptions) -> Result<String, String> {
    let candidates = [
        options.owner_columns.get(audience).cloned(),
        Some(format!("{}_id", singular(audience))),
        Some(options.fallback_owner_column.clone()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|c| table.column(c).is_some())
        .ok_or_else(|| {
            format!(
                "`{}` has no owner column for `{audience}` (tried `{}_id` and `{}`)",
                table.name,
                singular(audience),
                options.fallback_owner_column
            )
        })
}

fn owner_expression(column: &str) -> String {
    format!("{} = auth.uid()", quote_identifier(column))
}

fn active_expression(table: &Table) -> Result<String, String> {
    if table.column("is_active").is_some() {
        Ok("is_active = true".to_owned())
    } else if table.column("status").is_some() {
        Ok("status = 'active'".to_owned())
    } else {
        Err(format!(
            "`{}` has neither `is_active` nor `status`",
            table.name
        ))
    }
}

/// "Agents: CRUD own properties" → one policy per command group.
fn prose_policies(table: &Table, text: &str, options: &RlsOptions) -> Result<Vec<Policy>, String> {
    let (audience, rest) = text.split_once(':').ok_or("no `Audience:` prefix")?;
    let audience = audience.trim().to_ascii_lowercase();
    if audience.is_empty()
        || !audience
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '_')
    {
        return Err(format!("`{audience}` is not an audience"));
    }
    let words: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || c == ',' || c == '/')
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("and"))
        .collect();
    let mut commands: Vec<(String, PolicyCommand)> = Vec::new();
    let mut index = 0;
    while let Some(found) = words.get(index).and_then(|w| command_of(w)) {
        for command in found {
            commands.push((words[index].to_ascii_lowercase(), command));
        }
        index += 1;
    }
    if commands.is_empty() {
        return Err("no operation (CRUD, ALL, SELECT, INSERT, UPDATE, DELETE)".to_owned());
    }
    let scope = words
        .get(index)
        .map(|w| w.to_ascii_lowercase())
        .ok_or("no scope (own, active, all)")?;
    let subject = words
        .get(index + 1)
        .map(|w| w.to_ascii_lowercase())
        .ok_or("no table")?;
    if words.len() > index + 2 {
        return Err(format!("unexpected words after `{subject}`"));
    }
    if subject != table.name && singular(&subject) != singular(&table.name) {
        return Err(format!(
            "it names `{subject}` but is documented under `{}`",
            table.name
        ));
    }
    let audience_key = audience.replace(' ', "_");
    let filter = match scope.as_str() {
        "own" => owner_expression(&owner_column(table, &audience_key, options)?),
        "active" => active_expression(table)?,
        "all" => "true".to_owned(),
        other => return Err(format!("unknown scope `{other}`")),
    };
    let roles = roles_for(&audience_key, options);
    let all_at_once = commands.iter().any(|(_, c)| *c == PolicyCommand::All);
    let groups: Vec<(String, PolicyCommand)> = if all_at_once {
        let word = commands
            .iter()
            .find(|(_, c)| *c == PolicyCommand::All)
            .map(|(w, _)| w.clone());
        vec![(word.unwrap_or_else(|| "all".to_owned()), PolicyCommand::All)]
    } else {
        let mut unique = Vec::new();
        for (word, command) in commands {
            if !unique.iter().any(|(_, c)| *c == command) {
                unique.push((word, command));
            }
        }
        unique
    };
    Ok(groups
        .into_iter()
        .map(|(word, command)| {
            let (using, with_check) = expressions_for(command, &filter);
            Policy {
                name: format!("{}_{audience_key}_{word}_{scope}", table.name),
                command,
                roles: roles.clone(),
                permissive: true,
                using,
                with_check,
                origin: PolicyOrigin::ProseRule,
                source: table.source.clone(),
            }
        })
        .collect())
}

/// SELECT and DELETE filter existing rows; INSERT checks new rows; UPDATE
/// and ALL do both, so a write can never move a row out of reach.
fn expressions_for(command: PolicyCommand, filter: &str) -> (Option<String>, Option<String>) {
    match command {
        PolicyCommand::Select | PolicyCommand::Delete => (Some(filter.to_owned()), None),
        PolicyCommand::Insert => (None, Some(filter.to_owned())),
        PolicyCommand::Update | PolicyCommand::All => {
            (Some(filter.to_owned()), Some(filter.to_owned()))
        }
    }
}

/// "100% AGENT-ONLY - Never visible to customers" → an owner-only policy for
/// agents. Returns None when the note restricts no audience.
fn privacy_policy(
    table: &Table,
    note: &str,
    options: &RlsOptions,
) -> Option<Result<Policy, String>> {
    let upper = note.to_ascii_uppercase();
    let at = upper.find("-ONLY")?;
    let audience: String = upper[..at]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '_')
        .collect::<String>()
        .chars()
        .rev()
        .collect::<String>()
        .to_ascii_lowercase();
    if audience.is_empty() {
        return None;
    }
    let plural_audience = crate::model::inflect::plural(&audience);
    Some(
        owner_column(table, &plural_audience, options).map(|column| {
            let filter = owner_expression(&column);
            Policy {
                name: format!("{}_{audience}_only", table.name),
                command: PolicyCommand::All,
                roles: roles_for(&plural_audience, options),
                permissive: true,
                using: Some(filter.clone()),
                with_check: Some(filter),
                origin: PolicyOrigin::PrivacyNote,
                source: table.source.clone(),
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, Documentation, PgType, RlsRule, Source};

    fn table() -> Table {
        let mut t = Table::new("properties", Documentation::Full, Source::new("t.md", 1));
        for name in ["id", "agent_id", "is_active"] {
            t.columns
                .push(Column::new(name, PgType::Uuid, Source::new("t.md", 2)));
        }
        t
    }

    #[test]
    fn reads_the_documents_rules() {
        let mut t = table();
        for text in [
            "Agents: CRUD own properties",
            "Customers: SELECT active properties",
            "Public: SELECT active properties",
        ] {
            t.rls_rules.push(RlsRule {
                text: text.to_owned(),
                source: Source::new("t.md", 9),
            });
        }
        let mut diagnostics = Vec::new();
        apply(&mut t, &RlsOptions::default(), &mut diagnostics);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(t.rls_enabled);
        let names: Vec<_> = t.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "properties_agents_crud_own",
                "properties_customers_select_active",
                "properties_public_select_active"
            ]
        );
        let own = &t.policies[0];
        assert_eq!(
            (own.command, own.using.as_deref(), own.with_check.as_deref()),
            (
                PolicyCommand::All,
                Some("agent_id = auth.uid()"),
                Some("agent_id = auth.uid()")
            )
        );
        assert_eq!(t.policies[2].roles, ["anon", "authenticated"]);
        assert_eq!(t.policies[1].roles, ["authenticated"]);
    }

    #[test]
    fn lists_of_operations_become_one_policy_each() {
        let t = table();
        let policies = prose_policies(
            &t,
            "Agents: SELECT, UPDATE own properties",
            &RlsOptions::default(),
        )
        .unwrap();
        assert_eq!(policies.len(), 2);
        assert_eq!(policies[1].name, "properties_agents_update_own");
        assert_eq!(policies[0].with_check, None);
    }

    #[test]
    fn unreadable_rules_say_why() {
        let t = table();
        let options = RlsOptions::default();
        assert!(prose_policies(&t, "Everyone can look", &options).is_err());
        assert!(
            prose_policies(&t, "Agents: FLY own properties", &options)
                .unwrap_err()
                .contains("no operation")
        );
        assert!(
            prose_policies(&t, "Agents: SELECT own customers", &options)
                .unwrap_err()
                .contains("names `customers`")
        );
        assert!(
            prose_policies(
                &t,
                "Brokers: SELECT own properties",
                &RlsOptions {
                    fallback_owner_column: "x".into(),
                    ..Default::default()
                }
            )
            .unwrap_err()
            .contains("no owner column")
        );
    }

    #[test]
    fn privacy_notes_become_owner_only_policies() {
        let mut t = table();
        t.meta.privacy = Some("100% AGENT-ONLY - Never visible to customers".to_owned());
        let mut diagnostics = Vec::new();
        apply(&mut t, &RlsOptions::default(), &mut diagnostics);
        assert_eq!(t.policies.len(), 1);
        assert_eq!(t.policies[0].name, "properties_agent_only");
        assert_eq!(
            t.policies[0].using.as_deref(),
            Some("agent_id = auth.uid()")
        );
    }
}
