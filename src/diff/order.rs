//! Foreign-key dependency order. Tables are created after the tables they
//! reference; where references form a cycle, the edge that closes it is
//! reported so the caller can add that FK with ALTER TABLE once both tables
//! exist. Deterministic: ties are broken by name.

use crate::model::Table;
use std::collections::{BTreeMap, BTreeSet};

/// The creation order of `tables`, and the FK edges (table, constraint name)
/// that must be added after all of them exist.
pub fn creation_order<'a>(tables: &[&'a Table]) -> (Vec<&'a Table>, BTreeSet<(String, String)>) {
    let names: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let by_name: BTreeMap<&str, &'a Table> = tables.iter().map(|t| (t.name.as_str(), *t)).collect();
    // depends[t] = the tables in the set that t references (not itself).
    let mut depends: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for table in tables {
        let targets = table
            .foreign_keys
            .iter()
            .filter(|fk| !fk.references.is_external())
            .map(|fk| fk.references.table.as_str())
            .filter(|target| *target != table.name && names.contains(target))
            .collect();
        depends.insert(table.name.as_str(), targets);
    }
    // Kahn's algorithm: `remaining[t]` counts t's unmet dependencies,
    // `dependents[d]` lists who waits for d, and `ready` holds tables with
    // none left, smallest name first. Linear in tables and references.
    let mut remaining: BTreeMap<&str, usize> = depends.iter().map(|(t, d)| (*t, d.len())).collect();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (table, deps) in &depends {
        for dep in deps {
            dependents.entry(dep).or_default().push(table);
        }
    }
    let mut ready: BTreeSet<&str> = remaining
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(t, _)| *t)
        .collect();
    let mut order = Vec::new();
    let mut deferred = BTreeSet::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < names.len() {
        let next = match ready.pop_first() {
            Some(name) => name,
            None => {
                // A cycle: take the first remaining table and defer its FKs
                // to tables that do not exist yet.
                let name = *remaining
                    .keys()
                    .find(|n| !done.contains(*n))
                    .expect("tables remain");
                for fk in &by_name[name].foreign_keys {
                    let target = fk.references.table.as_str();
                    if names.contains(target) && target != name && !done.contains(target) {
                        deferred.insert((name.to_owned(), fk.name.clone().unwrap_or_default()));
                    }
                }
                name
            }
        };
        done.insert(next);
        remaining.remove(next);
        ready.remove(next);
        order.push(by_name[next]);
        for waiting in dependents.get(next).into_iter().flatten() {
            if let Some(count) = remaining.get_mut(waiting) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    ready.insert(waiting);
                }
            }
        }
    }
    (order, deferred)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Documentation, FkOrigin, ForeignKey, Source, TableRef};

    fn table(name: &str, refs: &[&str]) -> Table {
        let mut t = Table::new(name, Documentation::Full, Source::new("t", 1));
        for r in refs {
            t.foreign_keys.push(ForeignKey {
                name: Some(format!("{name}_{r}_fkey")),
                columns: vec![format!("{r}_id")],
                references: TableRef::parse(r),
                referenced_columns: vec!["id".into()],
                on_delete: None,
                on_update: None,
                origin: FkOrigin::Sql,
                source: Source::new("t", 1),
            });
        }
        t
    }

    #[test]
    fn orders_by_dependency_and_breaks_cycles() {
        let (a, b, c, d) = (
            table("a", &["b"]),
            table("b", &["c"]),
            table("c", &[]),
            table("d", &["d"]),
        );
        let (order, deferred) = creation_order(&[&a, &b, &c, &d]);
        let names: Vec<_> = order.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "a", "d"]);
        assert!(deferred.is_empty());

        let (x, y) = (table("x", &["y"]), table("y", &["x"]));
        let (order, deferred) = creation_order(&[&x, &y]);
        assert_eq!(order.len(), 2);
        assert_eq!(deferred.len(), 1);
    }
}
