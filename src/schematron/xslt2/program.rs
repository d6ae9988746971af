//! The XSLT instructions a `let` may hold (`xsl:variable`, `xsl:for-each`, `xsl:if`,
//! `xsl:value-of`, `xsl:copy-of`, text), run as XSLT runs them into a variable's
//! temporary tree.
//!
//! The value is what the instructions write: text only gives the tree's string value
//! as `xs:untypedAtomic` (which is how the rules compare it); `xsl:copy-of` gives the
//! nodes it selects themselves rather than copies of them, which differs from XSLT only
//! in node identity.

use super::model::{Instr, VarValue};
use super::run::Run;
use crate::xpath::v2::{string_value, Atomic, DynError, Item, Seq};

/// Runs `body` with context item `ctx` and returns the variable's value.
pub(super) fn value<'d>(
    run: &Run<'d, '_>,
    body: &[Instr],
    ctx: &Item<'d>,
) -> Result<Seq<'d>, DynError> {
    let mut out = Output::default();
    exec(run, body, ctx, &mut out)?;
    Ok(out.finish())
}

#[derive(Default)]
struct Output<'d> {
    items: Seq<'d>,
    text: String,
}

impl<'d> Output<'d> {
    fn finish(mut self) -> Seq<'d> {
        if self.items.is_empty() {
            return vec![Item::Atom(Atomic::Untyped(self.text))];
        }
        if !self.text.is_empty() {
            self.items
                .push(Item::Atom(Atomic::Untyped(std::mem::take(&mut self.text))));
        }
        self.items
    }
}

fn exec<'d>(
    run: &Run<'d, '_>,
    body: &[Instr],
    ctx: &Item<'d>,
    out: &mut Output<'d>,
) -> Result<(), DynError> {
    for instr in body {
        match instr {
            Instr::Variable { slot, value: v } => {
                let seq = match v {
                    VarValue::Select(e) => e.eval(run, ctx)?,
                    VarValue::Content(body) => value(run, body, ctx)?,
                };
                run.set(*slot, seq);
            }
            Instr::ForEach { select, body } => {
                for item in select.eval(run, ctx)? {
                    exec(run, body, &item, out)?;
                }
            }
            Instr::If { test, body } => {
                if test.ebv(run, ctx)? {
                    exec(run, body, ctx, out)?;
                }
            }
            Instr::ValueOf { select, separator } => {
                let items = select.eval(run, ctx)?;
                let strings: Vec<String> = items.iter().map(string_value).collect();
                out.text.push_str(&strings.join(separator));
            }
            Instr::CopyOf { select } => {
                for item in select.eval(run, ctx)? {
                    match item {
                        Item::Atom(_) => out.text.push_str(&string_value(&item)),
                        node => {
                            if !out.text.is_empty() {
                                let text = std::mem::take(&mut out.text);
                                out.items.push(Item::Atom(Atomic::Untyped(text)));
                            }
                            out.items.push(node);
                        }
                    }
                }
            }
            Instr::Text(t) => out.text.push_str(t),
        }
    }
    Ok(())
}
