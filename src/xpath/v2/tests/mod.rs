//! Tests of the XPath 2.0 engine: a table of expressions whose results and error codes
//! were confirmed with Saxon 12 (saxonche), the host interface (variables,
//! keys, `current()`), and compiling every expression of the DDB's rule sets.

use super::*;
use crate::xml::node::{NodeKind, NodeRef};

mod saxon;

use saxon::{DOCS, SAXON};

const NAMESPACES: [(&str, &str); 2] = [("p", "urn:p"), ("xs", "http://www.w3.org/2001/XMLSchema")];

/// Variables `$v` (slot 0), `$s` (slot 1) and key `ids` (index 0: elements by `@id`).
struct TestEnv<'d> {
    vars: Vec<Seq<'d>>,
    current: Option<NodeRef<'d>>,
}

fn descendants_or_self<'d>(n: NodeRef<'d>, out: &mut Vec<NodeRef<'d>>) {
    out.push(n);
    for c in n.children() {
        descendants_or_self(c, out);
    }
}

impl<'d> Env<'d> for TestEnv<'d> {
    fn var(&self, slot: usize) -> Result<Seq<'d>, DynError> {
        Ok(self.vars[slot].clone())
    }

    fn key(
        &self,
        key: usize,
        values: &[Atomic],
        top: Option<NodeRef<'d>>,
    ) -> Result<Seq<'d>, DynError> {
        assert_eq!(key, 0);
        let mut all = Vec::new();
        descendants_or_self(top.expect("the engine passes the tree"), &mut all);
        Ok(all
            .into_iter()
            .filter(|n| n.kind() == NodeKind::Element)
            .filter(|n| {
                let id = n.attribute("id");
                values
                    .iter()
                    .any(|v| id.as_deref() == Some(&*v.to_xs_string()))
            })
            .map(Item::Node)
            .collect())
    }

    fn current(&self) -> Option<NodeRef<'d>> {
        self.current
    }
}

fn namespaces() -> Vec<(String, String)> {
    NAMESPACES
        .iter()
        .map(|(p, u)| (p.to_string(), u.to_string()))
        .collect()
}

fn test_scope<R>(f: impl FnOnce(&Scope) -> R) -> R {
    let ns = namespaces();
    let var = |n: &str| match n {
        "v" => Some(0),
        "s" => Some(1),
        _ => None,
    };
    let key = |n: &str| (n == "ids").then_some(0);
    f(&Scope {
        namespaces: &ns,
        var: &var,
        key: &key,
    })
}

/// The result as the Saxon table writes it.
fn show(r: Result<Seq<'_>, DynError>) -> String {
    match r {
        Err(e) => format!("ERR {}", e.code),
        Ok(s) if s.is_empty() => "()".into(),
        Ok(s) => s.iter().map(string_value).collect::<Vec<_>>().join(" | "),
    }
}

fn run_with(xml: &str, expr: &str) -> String {
    let doc = crate::xml::parse(xml.as_bytes(), Default::default()).unwrap();
    let root = NodeRef::document(&doc);
    let e = test_scope(|s| Expr2::compile(expr, s)).unwrap_or_else(|m| panic!("{expr}: {m}"));
    let env = TestEnv {
        vars: vec![
            vec![Item::Atom(Atomic::Str("a2".into()))],
            vec![Item::Atom(Atomic::Int(1)), Item::Atom(Atomic::Int(2))],
        ],
        current: root.first_child(),
    };
    show(e.eval(&env, &Item::Node(root)))
}

fn run(xml: &str, expr: &str) -> String {
    run_with(xml, expr)
}

#[test]
fn expressions_give_what_saxon_gives() {
    let mut wrong = Vec::new();
    for (doc, expr, expected) in SAXON {
        let got = run(DOCS[doc], expr);
        if got != expected {
            wrong.push(format!("{expr}: got {got}, Saxon {expected}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn variables_keys_and_current_come_from_the_host() {
    let doc = DOCS[0];
    assert_eq!(run(doc, "$v"), "a2");
    assert_eq!(run(doc, "//a[@id = $v]/@n"), "10");
    assert_eq!(run(doc, "$s[2]"), "2");
    assert_eq!(run(doc, "sum($s)"), "3");
    assert_eq!(run(doc, "for $v in (5, 6) return $v + 1"), "6 | 7");
    assert_eq!(
        run(doc, "(for $x in $s return $x * 10), $v"),
        "10 | 20 | a2"
    );
    assert_eq!(run(doc, "key('ids', 'a2')/@n"), "10");
    assert_eq!(run(doc, "key('ids', //a/@id)/@n"), "3 | 10");
    assert_eq!(run(doc, "key('ids', 'a1', /r/d)"), "()");
    assert_eq!(run(doc, "count(key('ids', 'a1', /))"), "1");
    assert_eq!(run(doc, "/r/a[key('ids', 'a1')]/@id"), "a1 | a2");
    assert_eq!(run(doc, "name(current())"), "r");
    assert_eq!(run(doc, "//e[. = current()//e[2]]"), "2");
    let variables = test_scope(|s| Expr2::compile("$s[1] = $v or $v", s)).unwrap();
    assert_eq!(variables.variables(), vec![0, 1]);
    assert_eq!(variables.source(), "$s[1] = $v or $v");
}

#[test]
fn what_the_engine_does_not_know_is_refused_by_name() {
    let refused = |e: &str| test_scope(|s| Expr2::compile(e, s)).unwrap_err();
    assert!(refused("doc('x.xml')").contains("doc"));
    assert!(refused("collection()").contains("collection"));
    assert!(refused("$nope").contains("$nope"));
    assert!(refused("q:a").contains("'q'"));
    assert!(refused("key('nokey', 1)").contains("nokey"));
    assert!(refused("key(concat('i', 'ds'), 1)").contains("literal"));
    assert!(refused("contains('a')").contains("contains"));
    assert!(refused("following::a").contains("following"));
    assert!(refused("matches('a', '(a)\\1')").contains("back-reference"));
    assert!(refused("1 +").contains("expected"));
    assert!(refused("a treat as xs:string").contains("treat"));
}

#[test]
fn the_context_item_may_be_an_atomic_value() {
    let doc = crate::xml::parse(b"<r/>", Default::default()).unwrap();
    let env = TestEnv {
        vars: vec![Vec::new(), Vec::new()],
        current: None,
    };
    let ctx = Item::Atom(Atomic::Str("a b".into()));
    let eval = |e: &str| {
        let x = test_scope(|s| Expr2::compile(e, s)).unwrap();
        show(x.eval(&env, &ctx))
    };
    assert_eq!(eval("."), "a b");
    assert_eq!(eval("string-length()"), "3");
    assert_eq!(eval("tokenize(., ' ')[2]"), "b");
    assert_eq!(eval("child::a"), "ERR XPTY0020");
    assert_eq!(eval("/"), "ERR XPDY0050");
    assert_eq!(eval("name()"), "ERR XPTY0004");
    let x = test_scope(|s| Expr2::compile("(1, 2)", s)).unwrap();
    assert_eq!(x.ebv(&env, &ctx).unwrap_err().code, "FORG0006");
    drop(doc);
}

#[test]
fn an_element_with_two_text_nodes_fails_string_functions_as_in_saxon() {
    let doc = "<m><t>a<!--x-->b</t><t>c</t></m>";
    assert_eq!(
        run(doc, "string-length(normalize-space(/m/t[1]/text())) > 0"),
        "ERR XPTY0004"
    );
    assert_eq!(run(doc, "/m/t[string-length(text()) > 0]"), "ERR XPTY0004");
    assert_eq!(
        run(doc, "boolean(/m/t[string-length(text()[1]) > 0])"),
        "true"
    );
    assert_eq!(run(doc, "/m/t[1]/text() = 'b'"), "true");
    // The existence test stops at the first node found, as Saxon's does.
    assert_eq!(
        run(
            doc,
            "boolean(/m/t[contains(text(), 'c')][1] or /m/t[2][contains(text(), 'c')])"
        ),
        "ERR XPTY0004"
    );
    assert_eq!(
        run(
            doc,
            "boolean(/m/t[2][contains(text(), 'c')] or /m/t[contains(text(), 'a')])"
        ),
        "true"
    );
}

/// The rule sets of the DDB, relative to the crate.
const DDB: [&str; 2] = [
    "ddb_validierung_mets-mods-ap-digitalisierte-medien.sch",
    "ddb_validierung_mets-mods-ap-digitalisierte-zeitungen.sch",
];

#[test]
fn every_expression_of_the_ddb_rule_sets_compiles() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ddb-schematron");
    let mut compiled = 0;
    for name in DDB {
        let path = dir.join(name);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("the DDB corpus is missing: {}: {e}", path.display()));
        let doc = crate::xml::parse(&bytes, Default::default()).unwrap();
        let mut all = Vec::new();
        descendants_or_self(NodeRef::document(&doc), &mut all);
        let elements: Vec<NodeRef> = all
            .into_iter()
            .filter(|n| n.kind() == NodeKind::Element)
            .collect();
        let mut namespaces = vec![(
            "xs".to_string(),
            "http://www.w3.org/2001/XMLSchema".to_string(),
        )];
        let mut variables = Vec::new();
        let mut keys = Vec::new();
        for e in &elements {
            match e.local_name() {
                "ns" => {
                    namespaces.push((e.attribute("prefix").unwrap(), e.attribute("uri").unwrap()))
                }
                "let" | "variable" | "param" => variables.extend(e.attribute("name")),
                "key" => keys.extend(e.attribute("name")),
                _ => {}
            }
        }
        let var = |n: &str| variables.iter().position(|v| v == n);
        let key = |n: &str| keys.iter().position(|k| k == n);
        let scope = Scope {
            namespaces: &namespaces,
            var: &var,
            key: &key,
        };
        for e in &elements {
            for attr in ["context", "test", "value", "select", "use", "match"] {
                let Some(src) = e.attribute(attr) else {
                    continue;
                };
                // A pattern (`context`, `match`) is an expression too; the Schematron side
                // compiles it as a pattern (`schematron::xslt2`).
                if let Err(m) = Expr2::compile(&src, &scope) {
                    panic!("{name}: {} @{attr} {src}: {m}", e.local_name());
                }
                compiled += 1;
            }
        }
    }
    assert!(compiled > 500, "only {compiled} expressions found");
}

#[test]
fn an_expression_nesting_too_deep_is_refused_instead_of_exhausting_the_stack() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = test_scope(|s| Expr2::compile(&deep, s)).unwrap_err();
    assert!(e.contains("nests deeper than 200"), "{e}");
    let signs = format!("{}1", "-".repeat(100_000));
    assert!(test_scope(|s| Expr2::compile(&signs, s)).is_err());
    let fine = format!("{}1{}", "(".repeat(50), ")".repeat(50));
    assert!(test_scope(|s| Expr2::compile(&fine, s)).is_ok());
}
