//! The syntax tree of an XPath expression. The parser fills in names as written;
//! binding (`bind.rs`) resolves prefixes to namespace URIs, function names to the
//! functions that answer them and variables to slots, after which the evaluator can
//! run the tree.

// The variants and fields below are named after the XPath grammar they stand for.

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// A comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`).
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// An arithmetic operation (`+`, `-`, `*`, `div`, `mod`).
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// `a | b`
    Union(Box<Expr>, Box<Expr>),
    /// A string literal.
    Str(String),
    /// A number literal.
    Num(f64),
    /// A variable reference `$name`.
    Var(Var),
    /// A function call.
    Call(Box<Call>),
    /// A location path or a filter expression with steps.
    Path(Box<Path>),
    /// `@name` of the context node: a path the binder rewrites so that it is evaluated
    /// without building node-sets.
    Attr(NameTest),
}

/// A variable reference: its name and, once bound, its slot in the run's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    /// The name as written, without `$`.
    pub name: String,
    /// The slot in the run's variable table, once bound.
    pub slot: usize,
}

/// A qualified name as written (`prefix` empty when there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QName {
    /// The prefix, empty when there is none.
    pub prefix: String,
    /// The local part.
    pub local: String,
}

impl QName {
    /// Splits `p:local` (or `local`).
    pub fn parse(name: &str) -> QName {
        match name.split_once(':') {
            Some((p, l)) => QName {
                prefix: p.to_string(),
                local: l.to_string(),
            },
            None => QName {
                prefix: String::new(),
                local: name.to_string(),
            },
        }
    }
}

impl std::fmt::Display for QName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            f.write_str(&self.local)
        } else {
            write!(f, "{}:{}", self.prefix, self.local)
        }
    }
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function name as written.
    pub name: QName,
    /// The function that answers the call, once bound.
    pub func: Option<Func>,
    /// The arguments, in order.
    pub args: Vec<Expr>,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `div`
    Div,
    /// `mod`
    Mod,
}

/// A function the evaluator runs: one of XPath 1.0's core library, or one the host
/// answers (by local name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Func {
    /// `last()`
    Last,
    /// `position()`
    Position,
    /// `count()`
    Count,
    /// `local-name()`
    LocalName,
    /// `name()`
    Name,
    /// `string()`
    String,
    /// `concat()`
    Concat,
    /// `starts-with()`
    StartsWith,
    /// `contains()`
    Contains,
    /// `substring-before()`
    SubstringBefore,
    /// `substring-after()`
    SubstringAfter,
    /// `substring()`
    Substring,
    /// `string-length()`
    StringLength,
    /// `normalize-space()`
    NormalizeSpace,
    /// `translate()`
    Translate,
    /// `not()`
    Not,
    /// `true()`
    True,
    /// `false()`
    False,
    /// `boolean()`
    Boolean,
    /// `number()`
    Number,
    /// `sum()`
    Sum,
    /// `floor()`
    Floor,
    /// `ceiling()`
    Ceiling,
    /// A function the host answers, by local name (extension functions).
    Host(String),
}

/// A location path, or a filter expression followed by steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Where the path starts.
    pub start: Start,
    /// The location steps after the start.
    pub steps: Vec<Step>,
}

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// The context node (a relative location path).
    Context,
    /// The root of the context node's tree (`/…`).
    Root,
    /// A filter expression: a primary expression and predicates.
    Filter(Expr, Vec<Expr>),
}

/// A location step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The axis the step walks.
    pub axis: Axis,
    /// The node test.
    pub test: Test,
    /// The predicates, applied in order.
    pub preds: Vec<Expr>,
}

impl Step {
    /// `descendant-or-self::node()`, the step `//` stands for.
    pub fn descendant_or_self() -> Step {
        Step {
            axis: Axis::DescendantOrSelf,
            test: Test::Node,
            preds: Vec::new(),
        }
    }
}

/// An XPath axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// `child::`
    Child,
    /// `attribute::`
    Attribute,
    /// `self::`
    Itself,
    /// `parent::`
    Parent,
    /// `ancestor::`
    Ancestor,
    /// `ancestor-or-self::`
    AncestorOrSelf,
    /// `descendant::`
    Descendant,
    /// `descendant-or-self::`
    DescendantOrSelf,
    /// `following::`
    Following,
    /// `following-sibling::`
    FollowingSibling,
    /// `preceding::`
    Preceding,
    /// `preceding-sibling::`
    PrecedingSibling,
    /// `namespace::`
    Namespace,
}

impl Axis {
    /// The axis named `name` (`self`, `child`, …).
    pub fn from_name(name: &str) -> Option<Axis> {
        Some(match name {
            "child" => Axis::Child,
            "attribute" => Axis::Attribute,
            "self" => Axis::Itself,
            "parent" => Axis::Parent,
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "following" => Axis::Following,
            "following-sibling" => Axis::FollowingSibling,
            "preceding" => Axis::Preceding,
            "preceding-sibling" => Axis::PrecedingSibling,
            "namespace" => Axis::Namespace,
            _ => return None,
        })
    }

    /// The axis name as written in XPath.
    pub fn name(self) -> &'static str {
        match self {
            Axis::Child => "child",
            Axis::Attribute => "attribute",
            Axis::Itself => "self",
            Axis::Parent => "parent",
            Axis::Ancestor => "ancestor",
            Axis::AncestorOrSelf => "ancestor-or-self",
            Axis::Descendant => "descendant",
            Axis::DescendantOrSelf => "descendant-or-self",
            Axis::Following => "following",
            Axis::FollowingSibling => "following-sibling",
            Axis::Preceding => "preceding",
            Axis::PrecedingSibling => "preceding-sibling",
            Axis::Namespace => "namespace",
        }
    }

    /// Whether positions on the axis count backwards from the context node.
    pub fn reverse(self) -> bool {
        matches!(
            self,
            Axis::Parent
                | Axis::Ancestor
                | Axis::AncestorOrSelf
                | Axis::Preceding
                | Axis::PrecedingSibling
        )
    }
}

/// A name in a name test: as written, and its namespace URI once bound ("" for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTest {
    /// The name as written.
    pub name: QName,
    /// The namespace URI, once bound ("" for none).
    pub uri: String,
}

/// A node test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// `p:name` or `name`.
    Name(NameTest),
    /// `*`
    Any,
    /// `p:*` (the local part of the name is `*`).
    AnyIn(NameTest),
    /// `text()`
    Text,
    /// `node()`
    Node,
    /// `comment()`
    Comment,
    /// `processing-instruction()`, optionally with a target literal.
    Pi(Option<String>),
}
