//! Common table expressions read more than once, computed once.
//!
//! DataFusion (55) plans a CTE like a view: every reference evaluates it again from the lake
//! up. DuckDB materialises a CTE that is referenced more than once, and the insight SQL is
//! written for one text on three engines, so some texts read a CTE twice where a second text
//! per engine would not: `correlation`'s self-join reads its whole per-symbol pipeline on
//! both sides. [`split`] turns such a statement into steps, each computing one of those CTEs
//! (with the CTEs before it) into a table, and the statement that then reads the tables; the
//! engine runs the steps into memory tables first. The results are the same; only the work
//! is done once. Athena runs the text as written.
//!
//! Only the top-level `WITH` of a query is looked at, and a `WITH RECURSIVE` is left alone.

use datafusion::sql::sqlparser::ast::{
    visit_relations, Cte, Ident, ObjectName, ObjectNamePart, Query, Statement, TableAlias,
    TableFactor, VisitMut, VisitorMut, With,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// One CTE to compute before the statement: `query` (the CTEs it needs, then `SELECT *` of
/// it) goes into a table named `table`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The CTE's name in the SQL text.
    pub cte: String,
    /// The table the statement and later steps read instead.
    pub table: String,
    /// The query that computes it.
    pub query: Statement,
}

/// The steps (in order) and the statement left to run after them.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// CTEs to compute first, each into its table.
    pub steps: Vec<Step>,
    /// The original statement, reading those tables instead of the CTEs.
    pub statement: Statement,
}

/// Splits `statement` so that every CTE of its top-level `WITH` that is referenced more than
/// once is computed once. The tables are named `__cte_<tag>_<name>`: `tag` keeps the names
/// of queries running side by side apart.
pub fn split(statement: Statement, tag: u64) -> Split {
    let mut statement = statement;
    let mut steps = vec![];
    let Statement::Query(query) = &mut statement else {
        return Split { steps, statement };
    };
    let Some(mut with) = query.with.take() else {
        return Split { steps, statement };
    };
    if with.recursive {
        query.with = Some(with);
        return Split { steps, statement };
    }
    let mut ctes = std::mem::take(&mut with.cte_tables);
    // CTEs nothing reads are dropped first, so that their references count for nothing.
    // A CTE is read only by the ones after it (no RECURSIVE), so one pass from the end.
    for at in (0..ctes.len()).rev() {
        let name = normal(&ctes[at].alias.name);
        if references(&ctes[at + 1..], query, &name) == 0 {
            ctes.remove(at);
        }
    }
    let names: Vec<String> = ctes.iter().map(|c| normal(&c.alias.name)).collect();
    for name in names {
        let refs = references(&ctes, query, &name);
        if refs < 2 {
            continue;
        }
        let at = ctes
            .iter()
            .position(|c| normal(&c.alias.name) == name)
            .expect("a CTE named in the list");
        let table = format!("__cte_{tag}_{name}");
        let step_query = Query {
            with: Some(With {
                cte_tables: ctes[..=at].to_vec(),
                ..with.clone()
            }),
            ..select_all_from(&ctes[at].alias.name)
        };
        steps.push(Step {
            cte: name.clone(),
            table: table.clone(),
            query: Statement::Query(Box::new(step_query)),
        });
        ctes.remove(at);
        for c in &mut ctes {
            rename(&mut c.query, &name, &table);
        }
        rename(query, &name, &table);
    }
    query.with = (!ctes.is_empty()).then_some(With {
        cte_tables: ctes,
        ..with
    });
    Split { steps, statement }
}

/// How DataFusion compares a name: unquoted identifiers in lower case.
fn normal(ident: &Ident) -> String {
    match ident.quote_style {
        None => ident.value.to_lowercase(),
        Some(_) => ident.value.clone(),
    }
}

/// Whether `name` (one part) is the relation `target`.
fn is(name: &ObjectName, target: &str) -> bool {
    matches!(name.0.as_slice(), [ObjectNamePart::Identifier(i)] if normal(i) == target)
}

/// References to `name` from the CTEs' bodies and the query's own body.
fn references(ctes: &[Cte], query: &Query, name: &str) -> usize {
    let mut n = 0;
    let mut count = |r: &ObjectName| {
        n += usize::from(is(r, name));
        ControlFlow::<()>::Continue(())
    };
    for c in ctes {
        let _ = visit_relations(&*c.query, &mut count);
    }
    let _ = visit_relations(query, &mut count);
    n
}

/// Points every reference to `from` at the table `to`, keeping `from` as the reference's
/// name (an alias when it had none), so that columns qualified by it still resolve.
fn rename(query: &mut Query, from: &str, to: &str) {
    struct Rename<'a>(&'a str, &'a str);
    impl VisitorMut for Rename<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, alias, .. } = t {
                if let [ObjectNamePart::Identifier(old)] = name.0.as_slice() {
                    if normal(old) == self.0 {
                        let old = old.clone();
                        *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(self.1))]);
                        alias.get_or_insert(TableAlias {
                            explicit: true,
                            name: old,
                            columns: vec![],
                            at: None,
                        });
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Rename(from, to));
}

/// `SELECT * FROM name`.
fn select_all_from(name: &Ident) -> Query {
    let text = format!("SELECT * FROM {name}");
    match Parser::parse_sql(&GenericDialect {}, &text).as_deref() {
        Ok([Statement::Query(q)]) => (**q).clone(),
        other => unreachable!("{text} parses as one query: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&GenericDialect {}, sql)
            .unwrap()
            .remove(0)
    }

    fn text(s: &Statement) -> String {
        s.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_cte_read_twice_is_computed_once_before_the_statement() {
        let sql = "WITH a AS (SELECT x FROM t), b AS (SELECT x FROM a WHERE x > 1), \
                   c AS (SELECT x FROM b) \
                   SELECT * FROM c AS l JOIN c AS r ON l.x = r.x JOIN a ON a.x = l.x";
        let s = split(parse(sql), 7);
        // `a` is read by `b` and by the statement, `c` twice by the statement; `b` once.
        let steps: Vec<_> = s
            .steps
            .iter()
            .map(|s| (s.cte.as_str(), s.table.as_str()))
            .collect();
        assert_eq!(steps, [("a", "__cte_7_a"), ("c", "__cte_7_c")]);
        assert_eq!(
            text(&s.steps[0].query),
            "WITH a AS (SELECT x FROM t) SELECT * FROM a"
        );
        // The second step reads the first one's table, and keeps the CTE it needs.
        assert_eq!(
            text(&s.steps[1].query),
            "WITH b AS (SELECT x FROM __cte_7_a AS a WHERE x > 1), c AS (SELECT x FROM b) \
             SELECT * FROM c"
        );
        assert_eq!(
            text(&s.statement),
            "WITH b AS (SELECT x FROM __cte_7_a AS a WHERE x > 1) SELECT * FROM __cte_7_c AS l \
             JOIN __cte_7_c AS r ON l.x = r.x JOIN __cte_7_a AS a ON a.x = l.x"
        );
    }

    #[test]
    fn references_from_ctes_nothing_reads_do_not_count() {
        let sql = "WITH a AS (SELECT 1 AS x), unused AS (SELECT * FROM a JOIN a AS b ON true) \
                   SELECT * FROM a";
        let s = split(parse(sql), 3);
        assert!(s.steps.is_empty());
        assert_eq!(
            text(&s.statement),
            "WITH a AS (SELECT 1 AS x) SELECT * FROM a"
        );
    }

    #[test]
    fn names_compare_as_datafusion_compares_them() {
        // Unquoted names fold to lower case; a quoted name is exact, and here another one.
        let sql = "WITH Base AS (SELECT 1 AS x) SELECT * FROM base JOIN BASE ON true \
                   JOIN \"Base\" ON true";
        let s = split(parse(sql), 1);
        assert_eq!(s.steps.len(), 1);
        assert_eq!(s.steps[0].cte, "base");
        assert!(text(&s.statement).contains("JOIN \"Base\""));
    }

    #[test]
    fn statements_without_a_repeated_cte_are_left_as_they_are() {
        for sql in [
            "SELECT 1",
            "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
            "WITH a AS (SELECT 1 AS x) SELECT * FROM a WHERE x IN (SELECT x FROM t)",
            "WITH RECURSIVE a AS (SELECT 1 AS x UNION ALL SELECT x + 1 FROM a WHERE x < 3) \
             SELECT * FROM a JOIN a AS b ON true",
        ] {
            let s = split(parse(sql), 0);
            assert!(s.steps.is_empty(), "{sql}");
            assert_eq!(s.statement, parse(sql), "{sql}");
        }
    }
}
