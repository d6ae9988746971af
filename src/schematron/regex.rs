//! XPath 2.0 / XML Schema regular expressions translated to the `regex` crate's syntax.
//!
//! The differences handled: the multi-character escapes `\i \I \c \C` (XML name
//! characters), `\w \W` (everything but punctuation, separators and other) and
//! `\d \D` (decimal digits), `.` not matching CR/LF unless flag `s`, character-class
//! subtraction `[a-z-[aeiou]]`, and the flags `i s m x`. What cannot be translated
//! (back-references, Unicode block escapes `\p{IsX}`) is refused with an error that
//! names it.

use regex::Regex;
use std::cell::RefCell;
use std::rc::Rc;

const NAME_START: &str = ":A-Z_a-z\\u{C0}-\\u{D6}\\u{D8}-\\u{F6}\\u{F8}-\\u{2FF}\\u{370}-\\u{37D}\\u{37F}-\\u{1FFF}\\u{200C}-\\u{200D}\\u{2070}-\\u{218F}\\u{2C00}-\\u{2FEF}\\u{3001}-\\u{D7FF}\\u{F900}-\\u{FDCF}\\u{FDF0}-\\u{FFFD}\\u{10000}-\\u{EFFFF}";
const NAME_EXTRA: &str = "\\-.0-9\\u{B7}\\u{300}-\\u{36F}\\u{203F}-\\u{2040}";

/// The general categories `\p{..}` may name (XML Schema 2, F.1.1).
const CATEGORIES: [&str; 36] = [
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc",
    "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Z", "Zs", "Zl", "Zp", "S", "Sm", "Sc", "Sk", "So", "C",
    "Cc", "Cf", "Co", "Cn",
];

/// Translates `pattern` with XPath `flags` into an equivalent Rust regex source.
pub fn translate(pattern: &str, flags: &str) -> Result<String, String> {
    let mut dot_all = false;
    let mut prefix = String::new();
    let mut extended = false;
    for f in flags.chars() {
        match f {
            'i' => prefix.push_str("(?i)"),
            'm' => prefix.push_str("(?m)"),
            's' => dot_all = true,
            'x' => extended = true,
            other => return Err(format!("unsupported regular expression flag '{other}'")),
        }
    }
    let source: Vec<char> = if extended {
        pattern
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
            .collect()
    } else {
        pattern.chars().collect()
    };
    let mut t = Translator {
        chars: &source,
        pos: 0,
        dot_all,
    };
    let body = t.branch_sequence()?;
    Ok(format!("{prefix}{body}"))
}

/// Compiled regexes: (pattern, flags, regex or why it does not compile).
type RegexCache = Vec<(String, String, Result<Rc<Regex>, String>)>;

/// How many regexes a thread keeps (schemas use a handful).
const MAX_CACHED: usize = 256;

/// Compiles (and caches per thread) the regex for `pattern` with `flags`.
///
/// The cache hands out shared references rather than clones: a cloned `Regex` starts
/// with an empty matching cache and would rebuild its lazy DFA on every call. Lookups
/// compare borrowed strings, so a hit allocates nothing.
pub fn compile(pattern: &str, flags: &str) -> Result<Rc<Regex>, String> {
    thread_local! {
        static CACHE: RefCell<RegexCache> = const { RefCell::new(Vec::new()) };
    }
    CACHE.with(|cache| {
        if let Some((_, _, hit)) = cache
            .borrow()
            .iter()
            .find(|(p, f, _)| p == pattern && f == flags)
        {
            return hit.clone();
        }
        let compiled = translate(pattern, flags).and_then(|src| {
            Regex::new(&src)
                .map(Rc::new)
                .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
        });
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.push((pattern.to_string(), flags.to_string(), compiled.clone()));
        compiled
    })
}

struct Translator<'a> {
    chars: &'a [char],
    pos: usize,
    dot_all: bool,
}

fn escape_literal(c: char, out: &mut String) {
    // `\<` and `\>` are word boundaries in the regex crate, not the characters.
    if c.is_ascii_punctuation() && c != '<' && c != '>' {
        out.push('\\');
    }
    out.push(c);
}

impl Translator<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn branch_sequence(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let mut depth = 0usize;
        // Whether the last thing translated is an atom a quantifier may repeat, and
        // whether it is a quantifier (which `?` may make reluctant, as XPath allows).
        let mut atom = false;
        let mut quantifier = false;
        while let Some(c) = self.peek() {
            self.pos += 1;
            let was_atom = std::mem::replace(&mut atom, true);
            let was_quantifier = std::mem::replace(&mut quantifier, false);
            match c {
                '\\' => out.push_str(&self.escape(false)?),
                '[' => out.push_str(&self.class()?),
                '.' => out.push_str(if self.dot_all { "(?s:.)" } else { "[^\\n\\r]" }),
                '(' => {
                    atom = false;
                    depth += 1;
                    out.push('(');
                    if self.peek() == Some('?') {
                        if self.chars.get(self.pos + 1) == Some(&':') {
                            out.push_str("?:");
                            self.pos += 2;
                        } else {
                            return Err("unsupported group construct '(?'".into());
                        }
                    }
                }
                ')' => {
                    if depth == 0 {
                        return Err("unbalanced ')' in regular expression".into());
                    }
                    depth -= 1;
                    out.push(')');
                }
                ']' => return Err("unbalanced ']' in regular expression".into()),
                '?' if was_quantifier => {
                    // Reluctant: `*?`, `+?`, `??`, `{n,m}?`.
                    atom = false;
                    out.push('?');
                }
                '{' | '?' | '*' | '+' if !was_atom => {
                    return Err(format!(
                        "the quantifier '{c}' follows nothing it could repeat"
                    ));
                }
                '{' => {
                    // A quantifier {n}, {n,}, {n,m}: copy up to the closing brace.
                    atom = false;
                    quantifier = true;
                    let mut bounds = String::new();
                    loop {
                        match self.peek() {
                            None => return Err("unterminated quantifier '{'".into()),
                            Some('}') => break,
                            Some(d) if d.is_ascii_digit() || d == ',' => bounds.push(d),
                            Some(d) => return Err(format!("invalid quantifier character '{d}'")),
                        }
                        self.pos += 1;
                    }
                    self.pos += 1;
                    // {n}, {n,} or {n,m}: at least the lower bound, at most one comma.
                    let (low, high) = bounds.split_once(',').unwrap_or((&bounds, ""));
                    if low.is_empty() || high.contains(',') {
                        return Err(format!("invalid quantifier {{{bounds}}}"));
                    }
                    let bound = |b: &str| b.parse::<u32>().ok().filter(|n| *n <= 65_535);
                    match (
                        bound(low),
                        high.is_empty().then_some(0).or_else(|| bound(high)),
                    ) {
                        (Some(l), Some(h)) if high.is_empty() || l <= h => {}
                        _ => {
                            return Err(format!(
                                "quantifier {{{bounds}}}: bounds must be ordered and at most 65535"
                            ))
                        }
                    }
                    out.push('{');
                    out.push_str(&bounds);
                    out.push('}');
                }
                '?' | '*' | '+' => {
                    atom = false;
                    quantifier = true;
                    out.push(c);
                }
                '|' | '^' | '$' => {
                    atom = false;
                    out.push(c);
                }
                other => escape_literal(other, &mut out),
            }
        }
        if depth != 0 {
            return Err("unbalanced '(' in regular expression".into());
        }
        Ok(out)
    }

    /// Translates the escape after a backslash; `in_class` when inside `[...]`.
    fn escape(&mut self, in_class: bool) -> Result<String, String> {
        let c = self
            .peek()
            .ok_or_else(|| "regular expression ends with '\\'".to_string())?;
        self.pos += 1;
        Ok(match c {
            'n' => "\\n".into(),
            'r' => "\\r".into(),
            't' => "\\t".into(),
            '\\' | '|' | '.' | '-' | '^' | '?' | '*' | '+' | '{' | '}' | '(' | ')' | '[' | ']'
            | '$' => format!("\\{c}"),
            'd' => "\\p{Nd}".into(),
            'D' => "\\P{Nd}".into(),
            's' => "[ \\t\\n\\r]".into(),
            'S' => "[^ \\t\\n\\r]".into(),
            'w' => "[^\\p{P}\\p{Z}\\p{C}]".into(),
            'W' => "[\\p{P}\\p{Z}\\p{C}]".into(),
            'i' => format!("[{NAME_START}]"),
            'I' => format!("[^{NAME_START}]"),
            'c' => format!("[{NAME_START}{NAME_EXTRA}]"),
            'C' => format!("[^{NAME_START}{NAME_EXTRA}]"),
            'p' | 'P' => {
                let name = self.braced()?;
                if let Some(block) = name.strip_prefix("Is") {
                    return Err(format!(
                        "Unicode block escape \\{c}{{Is{block}}} is not supported"
                    ));
                }
                if !CATEGORIES.contains(&name.as_str()) {
                    return Err(format!("unknown Unicode category \\{c}{{{name}}}"));
                }
                format!("\\{c}{{{name}}}")
            }
            '1'..='9' if !in_class => {
                return Err(format!("back-reference \\{c} is not supported"));
            }
            other => return Err(format!("unknown escape \\{other}")),
        })
    }

    fn braced(&mut self) -> Result<String, String> {
        if self.peek() != Some('{') {
            return Err("\\p must be followed by {name}".into());
        }
        self.pos += 1;
        let mut name = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == '}' {
                return Ok(name);
            }
            name.push(c);
        }
        Err("unterminated \\p{...}".into())
    }

    /// Translates a character class; the opening `[` has been consumed.
    fn class(&mut self) -> Result<String, String> {
        let mut out = String::from("[");
        if self.peek() == Some('^') {
            out.push('^');
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let c = self
                .peek()
                .ok_or_else(|| "unterminated character class".to_string())?;
            self.pos += 1;
            match c {
                ']' if !first => break,
                '-' if self.peek() == Some('[') => {
                    // Subtraction: must be the last thing in the class.
                    self.pos += 1;
                    let sub = self.class()?;
                    if self.peek() != Some(']') {
                        return Err("character class subtraction must end the class".into());
                    }
                    self.pos += 1;
                    out.push_str("--");
                    out.push_str(&sub);
                    break;
                }
                '\\' => {
                    let start = self.single_char_escape();
                    let e = self.escape(true)?;
                    out.push_str(&e);
                    self.range_tail(start, &mut out)?;
                }
                '[' => return Err("'[' must be escaped inside a character class".into()),
                other => {
                    escape_literal(other, &mut out);
                    self.range_tail(Some(other), &mut out)?;
                }
            }
            first = false;
        }
        out.push(']');
        Ok(out)
    }

    /// The character a single-character escape stands for, the backslash consumed
    /// (`None` for a multi-character escape such as `\d` or `\p{L}`).
    fn single_char_escape(&self) -> Option<char> {
        match self.peek()? {
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            c if "\\|.-^?*+{}()[]".contains(c) => Some(c),
            _ => None,
        }
    }

    /// Copies `-x` after a class character `start` when it forms a range. A range runs
    /// between two single characters, the first not after the second (XML Schema 2,
    /// F.1 `seRange`): anything else is refused.
    fn range_tail(&mut self, start: Option<char>, out: &mut String) -> Result<(), String> {
        if self.peek() == Some('-')
            && !matches!(self.chars.get(self.pos + 1), Some(']') | Some('[') | None)
        {
            self.pos += 1;
            out.push('-');
            let c = self.peek().unwrap_or(']');
            self.pos += 1;
            let end = if c == '\\' {
                let end = self.single_char_escape();
                out.push_str(&self.escape(true)?);
                end
            } else {
                escape_literal(c, out);
                Some(c)
            };
            match (start, end) {
                (Some(first), Some(last)) if first > last => {
                    return Err(format!(
                        "the character range {first:?}-{last:?} is reversed: its start comes after its end"
                    ))
                }
                (Some(_), Some(_)) => {}
                _ => {
                    return Err(
                        "a multi-character escape cannot be an end of a character range".into(),
                    )
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_match(p: &str, flags: &str, s: &str) -> bool {
        compile(p, flags).unwrap().is_match(s)
    }

    #[test]
    fn xml_name_escapes() {
        assert!(is_match("^\\i\\c*$", "", "mets:div_1.x-y"));
        assert!(!is_match("^\\i\\c*$", "", "1abc"));
        assert!(!is_match("^\\i\\c*$", "", "a b"));
        assert!(is_match("^\\I", "", "1"));
        assert!(is_match("^\\C$", "", " "));
    }

    #[test]
    fn reversed_ranges_and_escapes_as_range_ends_are_refused_with_a_reason() {
        // Found by fuzzing: `[a-?]` translated to a class the regex crate does not compile.
        let err = translate("[a-?sz-[aeiou]]+", "i").unwrap_err();
        assert!(err.contains("'a'-'?' is reversed"), "{err}");
        assert!(translate("[\\d-z]", "")
            .unwrap_err()
            .contains("multi-character escape"));
        assert!(translate("[a-\\d]", "")
            .unwrap_err()
            .contains("multi-character escape"));
        for ok in ["[a-z]", "[\\--\\.]", "[+--]", "[\\t-\\r]", "[\\n-z]"] {
            let source = translate(ok, "").unwrap();
            assert!(Regex::new(&source).is_ok(), "{ok} -> {source}");
        }
    }

    #[test]
    fn angle_brackets_are_characters_in_and_outside_classes() {
        // Found by fuzzing: `<` was escaped to `\<`, a word boundary, which a class refuses.
        let source = translate("--a:[ae,i?P<en_ub]%+", "i").unwrap();
        assert!(Regex::new(&source).is_ok(), "{source}");
        assert!(is_match("^a<b>$", "", "a<b>"));
        assert!(is_match("^[<>]+$", "", "<><"));
    }

    #[test]
    fn a_quantifier_without_something_to_repeat_is_refused_with_a_reason() {
        // Found by fuzzing: `(+)` was passed on, and the regex crate refused it.
        for bad in ["\\S+@(+)S", "*a", "a|+b", "^*", "a**", "(?:{2})"] {
            let err = translate(bad, "").unwrap_err();
            assert!(err.contains("follows nothing"), "{bad}: {err}");
        }
        // Found by fuzzing: `\p{Fu}` was passed on.
        assert!(translate("(a|b)*\\p{Fu}.", "sm")
            .unwrap_err()
            .contains("unknown Unicode category"));
        assert!(translate("\\p{Lu}\\P{Nd}", "").is_ok());
        // Found by fuzzing: a bound too large for the regex crate was passed on.
        for bad in ["\\d{5000000000000000000000}", "a{3,2}", "a{1,70000}"] {
            assert!(
                translate(bad, "").unwrap_err().contains("quantifier"),
                "{bad}"
            );
        }
        // Found by fuzzing: `4{}` was passed on.
        for bad in ["a{}", "a{,2}", "a{1,2,3}", "a{2"] {
            assert!(
                translate(bad, "").unwrap_err().contains("quantifier"),
                "{bad}"
            );
        }
        for ok in [
            "a*?b", "a{2,3}?", "(ab)+", "[a-z]{2}", "a??", "\\d+", "a{2,}",
        ] {
            let source = translate(ok, "").unwrap();
            assert!(Regex::new(&source).is_ok(), "{ok} -> {source}");
        }
    }

    #[test]
    fn class_subtraction() {
        assert!(is_match("^[a-z-[aeiou]]+$", "", "bcdfg"));
        assert!(!is_match("^[a-z-[aeiou]]+$", "", "bad"));
    }

    #[test]
    fn word_and_digit_escapes_are_unicode() {
        assert!(is_match("^\\w+$", "", "Grüße"));
        assert!(!is_match("^\\w+$", "", "a-b"));
        assert!(is_match("^\\d+$", "", "٣12"));
        assert!(!is_match("^\\d$", "", "x"));
        assert!(is_match("^\\W$", "", " "));
    }

    #[test]
    fn flags() {
        assert!(is_match("^abc$", "i", "ABC"));
        assert!(!is_match("^abc$", "", "ABC"));
        assert!(!is_match("a.b", "", "a\nb"));
        assert!(is_match("a.b", "s", "a\nb"));
        assert!(is_match("^b$", "m", "a\nb"));
        assert!(!is_match("^b$", "", "a\nb"));
        assert!(is_match("a b c", "x", "abc"));
        assert!(compile("a", "q").unwrap_err().contains("'q'"));
    }

    #[test]
    fn untranslatable_constructs_are_named() {
        assert!(compile("(a)\\1", "")
            .unwrap_err()
            .contains("back-reference"));
        assert!(compile("\\p{IsBasicLatin}", "")
            .unwrap_err()
            .contains("IsBasicLatin"));
        assert!(compile("[a", "").is_err());
    }

    #[test]
    fn literal_punctuation_and_categories() {
        assert!(is_match("^a&b~c#$", "", "a&b~c#"));
        assert!(is_match("^[&~#-]+$", "", "&~#-"));
        assert!(is_match("^\\p{Lu}\\P{Lu}$", "", "Ab"));
        assert!(is_match("^x{2,3}$", "", "xxx"));
    }
}
