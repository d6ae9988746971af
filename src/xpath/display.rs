//! Writes a syntax tree back as XPath 1.0 text that parses to the same tree: every
//! operand of an operator in parentheses, axes spelt out. The schema compiler hands
//! this text to libxml2 for what the evaluator leaves to it (rule contexts turned into
//! selections, predicates of the one-walk matcher).

use super::ast::{ArithOp, CmpOp, Expr, Path, Start, Step, Test};
use std::fmt::{self, Display, Formatter, Write};

fn literal(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    let q = if s.contains('\'') { '"' } else { '\'' };
    f.write_char(q)?;
    f.write_str(s)?;
    f.write_char(q)
}

fn number(f: &mut Formatter<'_>, n: f64) -> fmt::Result {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        write!(f, "{}", n as i64)
    } else {
        write!(f, "{n}")
    }
}

impl Display for CmpOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

impl Display for ArithOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "div",
            ArithOp::Mod => "mod",
        })
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let bin = |f: &mut Formatter<'_>, a: &Expr, op: &dyn Display, b: &Expr| {
            write!(f, "({a}) {op} ({b})")
        };
        match self {
            Expr::Or(a, b) => bin(f, a, &"or", b),
            Expr::And(a, b) => bin(f, a, &"and", b),
            Expr::Cmp(op, a, b) => bin(f, a, op, b),
            Expr::Arith(op, a, b) => bin(f, a, op, b),
            Expr::Union(a, b) => bin(f, a, &"|", b),
            Expr::Neg(a) => write!(f, "-({a})"),
            Expr::Str(s) => literal(f, s),
            Expr::Num(n) => number(f, *n),
            Expr::Var(v) => write!(f, "${}", v.name),
            Expr::Call(c) => {
                write!(f, "{}(", c.name)?;
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
            Expr::Path(p) => write!(f, "{p}"),
            Expr::Attr(n) => write!(f, "attribute::{}", n.name),
        }
    }
}

impl Display for Path {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.start {
            Start::Context => {}
            Start::Root => f.write_char('/')?,
            Start::Filter(e, preds) => {
                match e {
                    Expr::Str(_) | Expr::Num(_) | Expr::Var(_) | Expr::Call(_) => write!(f, "{e}")?,
                    _ => write!(f, "({e})")?,
                }
                for p in preds {
                    write!(f, "[{p}]")?;
                }
                if !self.steps.is_empty() {
                    f.write_char('/')?;
                }
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_char('/')?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl Display for Step {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.axis.name(), self.test)?;
        for p in &self.preds {
            write!(f, "[{p}]")?;
        }
        Ok(())
    }
}

impl Display for Test {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Test::Name(n) | Test::AnyIn(n) => write!(f, "{}", n.name),
            Test::Any => f.write_char('*'),
            Test::Text => f.write_str("text()"),
            Test::Node => f.write_str("node()"),
            Test::Comment => f.write_str("comment()"),
            Test::Pi(None) => f.write_str("processing-instruction()"),
            Test::Pi(Some(t)) => {
                f.write_str("processing-instruction(")?;
                literal(f, t)?;
                f.write_char(')')
            }
        }
    }
}
