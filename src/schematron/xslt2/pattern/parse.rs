//! Parsing a pattern from the engine's tokens.

use super::{Axis, Branch, Head, Pattern, Pred, Step, Test, Toks, MAX_STEPS};
use crate::xpath::lexer::{lex, Tok};
use crate::xpath::v2::{Expr2, Scope};

/// Whether a predicate's tokens only compare names (`local-name()`, `namespace-uri()`,
/// `name()`) and attributes with string literals, combined with `and`, `or`, `not()`:
/// nothing in it can raise a dynamic error.
fn safe_tokens(toks: &Toks) -> bool {
    toks.iter().enumerate().all(|(i, (t, _))| match t {
        Tok::Literal(_) | Tok::Eq | Tok::Ne | Tok::Comma | Tok::LParen | Tok::RParen | Tok::At => {
            true
        }
        Tok::Name(n) => {
            i > 0 && toks[i - 1].0 == Tok::At
                || matches!(toks.get(i + 1), Some((Tok::LParen, _)))
                    && matches!(n.as_str(), "local-name" | "namespace-uri" | "name" | "not")
                || matches!(n.as_str(), "and" | "or")
        }
        _ => false,
    })
}

/// Parses `src` as a pattern.
pub(crate) fn compile(src: &str, scope: &Scope<'_>) -> Result<Pattern, String> {
    let toks = lex(src).map_err(|e| format!("bad pattern '{src}': {e}"))?;
    let mut p = Parser {
        src,
        toks: &toks,
        at: 0,
        scope,
    };
    let mut branches = vec![p.branch()?];
    while p.eat(&Tok::Pipe) || p.eat_name("union") {
        branches.push(p.branch()?);
    }
    if p.at < toks.len() {
        return Err(format!(
            "'{src}' is not a pattern: unexpected text at offset {}",
            toks[p.at].1
        ));
    }
    Ok(Pattern { branches })
}

struct Parser<'a, 's> {
    src: &'a str,
    toks: &'a Toks,
    at: usize,
    scope: &'a Scope<'s>,
}

impl Parser<'_, '_> {
    fn peek(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.at + k).map(|t| &t.0)
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek(0) == Some(tok) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_name(&mut self, name: &str) -> bool {
        if matches!(self.peek(0), Some(Tok::Name(n)) if n == name) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.src.len(), |t| t.1)
    }

    fn unexpected(&self, what: &str) -> String {
        format!(
            "'{}' is not a pattern: expected {what} at offset {}",
            self.src,
            self.offset()
        )
    }

    /// The source text of a bracketed or parenthesised group starting at the current
    /// token (which is `open`), and moves past its closing token.
    fn group(&mut self, open: &Tok, close: &Tok) -> Result<&str, String> {
        let start = self.toks[self.at].1 + 1;
        let mut depth = 0usize;
        while let Some((tok, offset)) = self.toks.get(self.at) {
            self.at += 1;
            if tok == open {
                depth += 1;
            } else if tok == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(&self.src[start..*offset]);
                }
            }
        }
        Err(self.unexpected("a closing bracket"))
    }

    fn preds(&mut self) -> Result<Vec<Pred>, String> {
        let mut preds = Vec::new();
        while self.peek(0) == Some(&Tok::LBracket) {
            let start = self.at + 1;
            let text = self.group(&Tok::LBracket, &Tok::RBracket)?.to_string();
            let expr = Expr2::compile(&text, self.scope)?;
            let index = match &self.toks[start..self.at - 1] {
                [(Tok::Number(k), _)] if k.fract() == 0.0 && *k >= 1.0 => Some(*k as usize),
                _ => None,
            };
            let safe = safe_tokens(&self.toks[start..self.at - 1]);
            preds.push(Pred { expr, index, safe });
        }
        Ok(preds)
    }

    fn branch(&mut self) -> Result<Branch, String> {
        let mut steps = Vec::new();
        let head = match self.peek(0) {
            Some(Tok::Slash) => {
                self.at += 1;
                if !self.starts_step() {
                    return Ok(Branch {
                        head: Head::Root,
                        steps,
                    });
                }
                Head::Root
            }
            Some(Tok::DSlash) => Head::Relative,
            Some(Tok::Name(n)) if n == "key" && self.peek(1) == Some(&Tok::LParen) => {
                self.at += 1;
                self.key_head()?
            }
            _ => Head::Relative,
        };
        let mut descendant = self.eat(&Tok::DSlash);
        if !descendant && matches!(head, Head::Key { .. }) {
            self.eat(&Tok::Slash);
        }
        loop {
            steps.push((descendant, self.step()?));
            if self.eat(&Tok::Slash) {
                descendant = false;
            } else if self.eat(&Tok::DSlash) {
                descendant = true;
            } else {
                break;
            }
        }
        if matches!(head, Head::Key { .. }) && steps.len() == 1 && steps[0].1.is_empty_marker() {
            steps.clear();
        }
        // Matching climbs one step per level of recursion.
        if steps.len() > MAX_STEPS {
            return Err(format!(
                "a pattern of more than {MAX_STEPS} steps is not supported"
            ));
        }
        Ok(Branch { head, steps })
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(0),
            Some(Tok::Name(_)) | Some(Tok::Star) | Some(Tok::At) | Some(Tok::Dot)
        )
    }

    /// `key('name', value)` and its predicates; the path may end there.
    fn key_head(&mut self) -> Result<Head, String> {
        let args = self.group(&Tok::LParen, &Tok::RParen)?.to_string();
        let toks = lex(&args).map_err(|e| format!("bad key() in a pattern: {e}"))?;
        let Some((Tok::Literal(name), _)) = toks.first() else {
            return Err("key() in a pattern needs the key name as a string literal".into());
        };
        let Some((Tok::Comma, comma)) = toks.get(1) else {
            return Err("key() in a pattern takes two arguments".into());
        };
        let key = (self.scope.key)(name).ok_or_else(|| format!("no xsl:key named '{name}'"))?;
        let value = Box::new(Expr2::compile(&args[comma + 1..], self.scope)?);
        let constant = toks[2..].iter().all(|(t, _)| {
            matches!(
                t,
                Tok::Var(_)
                    | Tok::Literal(_)
                    | Tok::Number(_)
                    | Tok::Comma
                    | Tok::LParen
                    | Tok::RParen
            )
        });
        let preds = self.preds()?;
        Ok(Head::Key {
            key,
            value,
            constant,
            preds,
        })
    }

    fn step(&mut self) -> Result<Step, String> {
        if self.peek(0).is_none() || matches!(self.peek(0), Some(Tok::Pipe)) {
            return Ok(Step::empty_marker());
        }
        let mut axis = Axis::Child;
        if self.eat(&Tok::At) {
            axis = Axis::Attribute;
        } else if let (Some(Tok::Name(n)), Some(Tok::ColonColon)) = (self.peek(0), self.peek(1)) {
            axis = match n.as_str() {
                "child" => Axis::Child,
                "attribute" => Axis::Attribute,
                "self" => Axis::Itself,
                "descendant" => Axis::Descendant,
                "descendant-or-self" => Axis::DescendantOrSelf,
                other => return Err(format!("the {other} axis cannot be used in a pattern")),
            };
            self.at += 2;
        } else if self.eat(&Tok::Dot) {
            return Err("'.' cannot be used in a pattern here".into());
        }
        let test = match self.peek(0).cloned() {
            Some(Tok::Star) => {
                self.at += 1;
                if self.peek(0) == Some(&Tok::ColonColon) {
                    return Err(self.unexpected("a node test"));
                }
                Test::Principal
            }
            Some(Tok::Name(name)) if self.peek(1) == Some(&Tok::LParen) => {
                let test = match name.as_str() {
                    "element" => Test::Element,
                    "attribute" => Test::Attribute,
                    "text" => Test::Text,
                    "node" => Test::Node,
                    "comment" => Test::Comment,
                    "processing-instruction" => Test::Pi,
                    other => return Err(format!("{other}() cannot be a step of a pattern")),
                };
                self.at += 1;
                let inner = self.group(&Tok::LParen, &Tok::RParen)?.trim().to_string();
                if !inner.is_empty() && inner != "*" {
                    return Err(format!("{name}({inner}) in a pattern is not supported"));
                }
                test
            }
            Some(Tok::Name(name)) => {
                self.at += 1;
                self.name_test(&name)?
            }
            _ => return Err(self.unexpected("a step")),
        };
        let preds = self.preds()?;
        Ok(Step { axis, test, preds })
    }

    fn name_test(&self, name: &str) -> Result<Test, String> {
        let resolve = |prefix: &str| {
            self.scope
                .namespaces
                .iter()
                .rev()
                .find(|(p, _)| p == prefix)
                .map(|(_, u)| u.clone())
                .ok_or_else(|| format!("namespace prefix '{prefix}' is not declared"))
        };
        Ok(match name.split_once(':') {
            Some(("*", local)) => Test::AnyLocal(local.to_string()),
            Some((prefix, "*")) => Test::AnyIn(resolve(prefix)?),
            Some((prefix, local)) => Test::Name {
                uri: resolve(prefix)?,
                local: local.to_string(),
            },
            None => Test::Name {
                uri: String::new(),
                local: name.to_string(),
            },
        })
    }
}
