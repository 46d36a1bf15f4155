//! Tokens of the UIR text format (refimpl2's `UIR.g4` lexer rules, plus strings for
//! `EXTERN "sym"`). Whitespace and `//` comments are skipped.

use super::ast::Span;
use crate::diag::{Diagnostic, Severity};
use std::rc::Rc;

/// A token kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// `@name` (text without `@`).
    Global(Rc<str>),
    /// `%name` (text without `%`).
    Local(Rc<str>),
    /// `#FLAG` (text without `#`).
    Flag(Rc<str>),
    /// `.typedef` and the other directives (text without `.`).
    Directive(Rc<str>),
    /// A word: keyword, type constructor, `nanf`, `bitsd`...
    Word(Rc<str>),
    /// An integer literal that fits in 64 bits (signed or unsigned).
    Int(i128),
    /// An integer literal of 65 to 128 bits, as its sign and magnitude: a constant of
    /// `int<n>` with n > 64, a type of full Mu outside muni's subset.
    WideInt(bool, u128),
    /// A `float` literal (`1.5f`, `+inff`, `nanf`), as bits.
    FloatLit(u32),
    /// A `double` literal (`1.5d`, `-infd`, `nand`), as bits.
    DoubleLit(u64),
    /// A string literal.
    Str(Rc<str>),
    /// One of `= < > ( ) { } [ ] : ; ->`.
    Punct(&'static str),
    /// End of input.
    Eof,
}

/// A token with its span.
#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

fn is_idchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.'
}

/// Splits a file into tokens.
pub fn lex(file: u32, src: &str) -> Result<Vec<Token>, Diagnostic> {
    let b = src.as_bytes();
    let mut i = 0usize;
    let mut out = Vec::with_capacity(src.len() / 4);
    let span = |lo: usize, hi: usize| Span {
        file,
        lo: u32::try_from(lo).unwrap_or(u32::MAX),
        hi: u32::try_from(hi).unwrap_or(u32::MAX),
    };
    let err = |lo: usize, hi: usize, code: &'static str, msg: String| {
        Diagnostic::new(Severity::Malformed, code, span(lo, hi), msg)
    };
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let lo = i;
        let tok = match c {
            b'@' | b'%' | b'#' | b'.' => {
                i += 1;
                let start = i;
                let ok = |ch: u8| {
                    if c == b'#' {
                        ch.is_ascii_uppercase() || ch == b'_'
                    } else {
                        is_idchar(ch)
                    }
                };
                while i < b.len() && ok(b[i]) {
                    i += 1;
                }
                if i == start {
                    return Err(err(
                        lo,
                        i.max(lo + 1),
                        "bad-name",
                        format!("`{}` must be followed by a name", c as char),
                    ));
                }
                let text = &src[start..i];
                match c {
                    b'@' => Tok::Global(Rc::from(text)),
                    b'%' => Tok::Local(Rc::from(text)),
                    b'#' => Tok::Flag(Rc::from(text)),
                    _ => Tok::Directive(Rc::from(text)),
                }
            }
            b'"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    match b.get(i) {
                        None | Some(b'\n') => {
                            return Err(err(
                                lo,
                                i,
                                "unterminated-string",
                                "this string literal is not closed".into(),
                            ));
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            let e = b.get(i + 1).copied();
                            match e {
                                Some(b'"') => s.push('"'),
                                Some(b'\\') => s.push('\\'),
                                Some(b'n') => s.push('\n'),
                                _ => {
                                    return Err(err(
                                        i,
                                        i + 2,
                                        "bad-escape",
                                        "only \\\" \\\\ and \\n are escapes".into(),
                                    ));
                                }
                            }
                            i += 2;
                        }
                        Some(_) => {
                            let ch = src[i..].chars().next().unwrap_or('?');
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                Tok::Str(Rc::from(s))
            }
            b'-' if b.get(i + 1) == Some(&b'>') => {
                i += 2;
                Tok::Punct("->")
            }
            b'+' | b'-' | b'0'..=b'9' => {
                let (tok, end) =
                    lex_number(src, i).map_err(|(hi, code, msg)| err(lo, hi, code, msg))?;
                i = end;
                tok
            }
            b'=' | b'<' | b'>' | b'(' | b')' | b'{' | b'}' | b'[' | b']' | b':' | b';' => {
                i += 1;
                Tok::Punct(match c {
                    b'=' => "=",
                    b'<' => "<",
                    b'>' => ">",
                    b'(' => "(",
                    b')' => ")",
                    b'{' => "{",
                    b'}' => "}",
                    b'[' => "[",
                    b']' => "]",
                    b':' => ":",
                    _ => ";",
                })
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                match &src[lo..i] {
                    "nanf" => Tok::FloatLit(f32::NAN.to_bits()),
                    "nand" => Tok::DoubleLit(f64::NAN.to_bits()),
                    w => Tok::Word(Rc::from(w)),
                }
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err(
                    lo,
                    lo + ch.len_utf8(),
                    "unexpected-character",
                    format!("`{ch}` cannot start a token"),
                ));
            }
        };
        out.push(Token {
            tok,
            span: span(lo, i),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        span: span(b.len(), b.len()),
    });
    Ok(out)
}

type LexErr = (usize, &'static str, String);

/// Numbers: `[+-]? (0x hex | 0 oct | dec)`, FP `[+-]? d+.d+(e[+-]?d+)? (f|d)`, `[+-]inf(f|d)`.
fn lex_number(src: &str, start: usize) -> Result<(Tok, usize), LexErr> {
    let b = src.as_bytes();
    let mut i = start;
    let neg = b[i] == b'-';
    if b[i] == b'+' || b[i] == b'-' {
        i += 1;
    }
    if src[i..].starts_with("inf") {
        let after = i + 3;
        let inf_end = |suffix: u8| {
            after < b.len()
                && b[after] == suffix
                && !b.get(after + 1).is_some_and(|c| is_idchar(*c))
        };
        if inf_end(b'f') {
            let v = if neg {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            };
            return Ok((Tok::FloatLit(v.to_bits()), after + 1));
        }
        if inf_end(b'd') {
            let v = if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            return Ok((Tok::DoubleLit(v.to_bits()), after + 1));
        }
        return Err((
            after,
            "bad-literal",
            "infinity needs a suffix: `+inff` or `+infd`".into(),
        ));
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return Err((
            i.max(start + 1),
            "bad-literal",
            "a sign must be followed by a number or `inf`".into(),
        ));
    }
    // Hexadecimal.
    if b[i] == b'0' && b.get(i + 1).is_some_and(|c| *c == b'x' || *c == b'X') {
        let ds = i + 2;
        let mut j = ds;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        if j == ds {
            return Err((
                j,
                "bad-literal",
                "`0x` must be followed by hexadecimal digits".into(),
            ));
        }
        let Ok(v) = u128::from_str_radix(&src[ds..j], 16) else {
            return Err((
                j,
                "int-out-of-range",
                "integer literals are at most 128 bits".into(),
            ));
        };
        return finish_int(b, j, v, neg);
    }
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    // Floating point: digits '.' digits exponent? suffix.
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if b.get(i) == Some(&b'e') || b.get(i) == Some(&b'E') {
            let mut j = i + 1;
            if b.get(j) == Some(&b'+') || b.get(j) == Some(&b'-') {
                j += 1;
            }
            let es = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j == es {
                return Err((j, "bad-literal", "an exponent needs digits".into()));
            }
            i = j;
        }
        let text = &src[start..i];
        return match b.get(i) {
            Some(b'f') if !b.get(i + 1).is_some_and(|c| is_idchar(*c)) => match text.parse::<f32>()
            {
                Ok(v) => Ok((Tok::FloatLit(v.to_bits()), i + 1)),
                Err(_) => Err((i, "bad-literal", "not a float literal".into())),
            },
            Some(b'd') if !b.get(i + 1).is_some_and(|c| is_idchar(*c)) => match text.parse::<f64>()
            {
                Ok(v) => Ok((Tok::DoubleLit(v.to_bits()), i + 1)),
                Err(_) => Err((i, "bad-literal", "not a double literal".into())),
            },
            _ => Err((
                i,
                "bad-literal",
                "a floating-point literal needs the suffix `f` or `d`".into(),
            )),
        };
    }
    let digits = &src[ds..i];
    let (radix, body) = if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    let Ok(v) = u128::from_str_radix(body, radix) else {
        return Err((
            i,
            "int-out-of-range",
            format!(
                "`{}` is not an integer of at most 128 bits (a leading 0 means octal)",
                &src[start..i]
            ),
        ));
    };
    finish_int(b, i, v, neg)
}

fn finish_int(b: &[u8], end: usize, v: u128, neg: bool) -> Result<(Tok, usize), LexErr> {
    if b.get(end).is_some_and(|c| is_idchar(*c)) {
        return Err((
            end + 1,
            "bad-literal",
            "a number must not run into a name".into(),
        ));
    }
    if v > u128::from(u64::MAX) {
        return Ok((Tok::WideInt(neg, v), end));
    }
    // v <= u64::MAX, so both signs fit in i128.
    let v = i128::try_from(v).unwrap_or(i128::MAX);
    Ok((Tok::Int(if neg { -v } else { v }), end))
}
