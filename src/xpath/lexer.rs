//! The XPath tokenizer: turns expression text into tokens, each with the byte offset
//! where it starts (for error messages). Names are kept as written (`p:name`, `p:*`,
//! `axis`, `div`); whether a name is an operator, an axis, a node test or a function
//! is decided by the parser from the tokens around it (XPath 1.0 §3.7).

use super::error::SyntaxError;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    Slash,
    DSlash,
    Pipe,
    Plus,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Star,
    /// `?`: an occurrence indicator of XPath 2.0 sequence types (never valid XPath 1.0).
    Question,
    Literal(String),
    Number(f64),
    /// `$name`, the name as written.
    Var(String),
    /// A name test, function name, axis name or operator name, as written.
    Name(String),
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || (c as u32) > 0x7f
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.' || c == '\u{B7}'
}

/// Splits `src` into tokens with their byte offsets.
pub(crate) fn lex(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let offset = |i: usize| chars.get(i).map_or(src.len(), |c| c.0);
    let at = |i: usize| chars.get(i).map(|c| c.1);
    let mut out = Vec::new();
    let mut i = 0;
    let name_at = |i: &mut usize| -> String {
        let start = *i;
        while at(*i).is_some_and(is_name_char) {
            *i += 1;
        }
        // QName or `p:*`: a single colon followed by a name start or `*`.
        if at(*i) == Some(':')
            && at(*i + 1).is_some_and(|c| c != ':' && (is_name_start(c) || c == '*'))
        {
            *i += 1;
            if at(*i) == Some('*') {
                *i += 1;
            } else {
                while at(*i).is_some_and(is_name_char) {
                    *i += 1;
                }
            }
        }
        src[offset(start)..offset(*i)].to_string()
    };
    while let Some(c) = at(i) {
        let start = offset(i);
        let next = at(i + 1);
        let tok = match c {
            ' ' | '\t' | '\r' | '\n' => {
                i += 1;
                continue;
            }
            '(' if next == Some(':') => {
                return Err(SyntaxError::xpath2(start, "comment (: … :)"));
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '@' => Tok::At,
            ',' => Tok::Comma,
            '|' => Tok::Pipe,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '=' => Tok::Eq,
            '*' => Tok::Star,
            '?' => Tok::Question,
            ':' if next == Some(':') => {
                i += 1;
                Tok::ColonColon
            }
            '/' if next == Some('/') => {
                i += 1;
                Tok::DSlash
            }
            '/' => Tok::Slash,
            '!' if next == Some('=') => {
                i += 1;
                Tok::Ne
            }
            '<' if next == Some('=') => {
                i += 1;
                Tok::Le
            }
            '<' => Tok::Lt,
            '>' if next == Some('=') => {
                i += 1;
                Tok::Ge
            }
            '>' => Tok::Gt,
            '\'' | '"' => {
                let Some(len) = chars[i + 1..].iter().position(|&(_, x)| x == c) else {
                    return Err(SyntaxError::new(start, "unterminated string literal"));
                };
                let end = i + 1 + len;
                out.push((
                    Tok::Literal(src[offset(i + 1)..offset(end)].to_string()),
                    start,
                ));
                i = end + 1;
                continue;
            }
            '.' if next == Some('.') => {
                i += 1;
                Tok::DotDot
            }
            '.' if !next.is_some_and(|n| n.is_ascii_digit()) => Tok::Dot,
            '0'..='9' | '.' => {
                let from = i;
                while at(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
                if at(i) == Some('.') {
                    i += 1;
                    while at(i).is_some_and(|d| d.is_ascii_digit()) {
                        i += 1;
                    }
                }
                let text = &src[offset(from)..offset(i)];
                let n = text
                    .parse()
                    .map_err(|_| SyntaxError::new(start, format!("bad number '{text}'")))?;
                out.push((Tok::Number(n), start));
                continue;
            }
            '$' => {
                i += 1;
                if !at(i).is_some_and(is_name_start) {
                    return Err(SyntaxError::new(start, "'$' without a variable name"));
                }
                let name = name_at(&mut i);
                if name.ends_with('*') {
                    return Err(SyntaxError::new(
                        start,
                        format!("bad variable name ${name}"),
                    ));
                }
                out.push((Tok::Var(name), start));
                continue;
            }
            c if is_name_start(c) => {
                let name = name_at(&mut i);
                out.push((Tok::Name(name), start));
                continue;
            }
            other => {
                return Err(SyntaxError::new(start, format!("unexpected '{other}'")));
            }
        };
        out.push((tok, start));
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn names_numbers_and_literals_are_tokens() {
        assert_eq!(
            toks("p:a/@x:* != 1.5 and $v:w"),
            [
                Tok::Name("p:a".into()),
                Tok::Slash,
                Tok::At,
                Tok::Name("x:*".into()),
                Tok::Ne,
                Tok::Number(1.5),
                Tok::Name("and".into()),
                Tok::Var("v:w".into()),
            ]
        );
        assert_eq!(
            toks("child::a[.5]"),
            [
                Tok::Name("child".into()),
                Tok::ColonColon,
                Tok::Name("a".into()),
                Tok::LBracket,
                Tok::Number(0.5),
                Tok::RBracket,
            ]
        );
        assert_eq!(toks("'a\"b'"), [Tok::Literal("a\"b".into())]);
    }

    #[test]
    fn bad_input_is_an_error_with_its_offset() {
        assert_eq!(lex("a = 'x").unwrap_err().offset, 4);
        assert_eq!(lex("a # b").unwrap_err().offset, 2);
        assert_eq!(lex("$ x").unwrap_err().offset, 0);
    }
}
