//! Diagnostics: what the parser and verifier say about a bundle.
//!
//! Each diagnostic has a [`Severity`] kind (which becomes the outcome word:
//! `malformed`, `invalid` or `unsupported`), a stable kebab-case code listed in
//! `spec/03-verifier-errors.md`, a span and one sentence. Rendering goes through
//! `codespan-reporting`, which prints `file:line:col` and a caret snippet.

use crate::syntax::{SourceMap, Span};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::term::{self, termcolor::WriteColor};

/// Which phase rejected the input, and so which outcome word it produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The text does not parse (`malformed CODE`).
    Malformed,
    /// The bundle parses but is not well-formed (`invalid CODE`).
    Invalid,
    /// The construct is valid full Mu outside muni's subset (`unsupported CODE`).
    Unsupported,
}

impl Severity {
    /// The outcome word.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Malformed => "malformed",
            Severity::Invalid => "invalid",
            Severity::Unsupported => "unsupported",
        }
    }
}

/// One finding about the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Phase and outcome word.
    pub severity: Severity,
    /// Stable code, e.g. `type-mismatch`.
    pub code: &'static str,
    /// Where.
    pub span: Span,
    /// One sentence that does not repeat the code.
    pub message: String,
    /// Further spans with a note each (e.g. "first defined here").
    pub notes: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A diagnostic without notes.
    pub fn new(
        severity: Severity,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            span,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    /// Adds a secondary span.
    pub fn with_note(mut self, span: Span, note: impl Into<String>) -> Self {
        self.notes.push((span, note.into()));
        self
    }

    /// `file:line:col` of the primary span.
    pub fn location(&self, sources: &SourceMap) -> String {
        let (line, col) = sources.line_col(self.span);
        format!("{}:{}:{}", sources.name(self.span.file), line, col)
    }

    /// The one-line outcome form, `invalid type-mismatch`.
    pub fn outcome(&self) -> String {
        format!("{} {}", self.severity.word(), self.code)
    }

    /// Renders the diagnostic with a caret snippet.
    pub fn emit(&self, sources: &SourceMap, out: &mut dyn WriteColor) -> std::io::Result<()> {
        let mut labels = vec![Label::primary(
            self.span.file as usize,
            self.span.lo as usize..self.span.hi as usize,
        )];
        for (span, note) in &self.notes {
            labels.push(
                Label::secondary(span.file as usize, span.lo as usize..span.hi as usize)
                    .with_message(note.clone()),
            );
        }
        let d = CsDiagnostic::error()
            .with_message(format!(
                "{} [{}]: {}",
                self.severity.word(),
                self.code,
                self.message
            ))
            .with_labels(labels);
        let config = term::Config::default();
        term::emit(out, &config, sources.files(), &d).map_err(std::io::Error::other)
    }

    /// Renders to a plain string (no colours).
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut buf = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = self.emit(sources, &mut buf);
        String::from_utf8_lossy(&buf.into_inner()).into_owned()
    }
}

/// Every diagnostic code, with the phase that reports it. spec/03-verifier-errors.md
/// documents each; a test keeps the two in step.
pub const CODES: &[(&str, Severity)] = &[
    ("unexpected-character", Severity::Malformed),
    ("bad-name", Severity::Malformed),
    ("unterminated-string", Severity::Malformed),
    ("bad-escape", Severity::Malformed),
    ("bad-literal", Severity::Malformed),
    ("int-out-of-range", Severity::Malformed),
    ("unexpected-token", Severity::Malformed),
    ("local-outside-scope", Severity::Malformed),
    ("unknown-directive", Severity::Malformed),
    ("unknown-type-constructor", Severity::Malformed),
    ("bad-int-width", Severity::Malformed),
    ("duplicate-name", Severity::Invalid),
    ("undefined-name", Severity::Invalid),
    ("wrong-kind", Severity::Invalid),
    ("recursive-type", Severity::Invalid),
    ("misplaced-type", Severity::Invalid),
    ("not-native-safe", Severity::Invalid),
    ("signature-mismatch", Severity::Invalid),
    ("const-type-mismatch", Severity::Invalid),
    ("int-out-of-range", Severity::Invalid),
    ("recursive-constant", Severity::Invalid),
    ("extern-not-pointer", Severity::Invalid),
    ("bad-extern", Severity::Invalid),
    ("arity", Severity::Invalid),
    ("empty-function", Severity::Invalid),
    ("entry-params", Severity::Invalid),
    ("not-in-scope", Severity::Invalid),
    ("type-mismatch", Severity::Invalid),
    ("bad-type-argument", Severity::Invalid),
    ("bad-operand", Severity::Invalid),
    ("field-index", Severity::Invalid),
    ("undefined-block", Severity::Invalid),
    ("entry-block-target", Severity::Invalid),
    ("missing-terminator", Severity::Invalid),
    ("terminator-not-last", Severity::Invalid),
    ("exc-not-allowed", Severity::Invalid),
    ("ccall-results", Severity::Invalid),
    ("ccall-array", Severity::Invalid),
    ("unknown-comminst", Severity::Invalid),
    ("invalid-instruction", Severity::Invalid),
    ("unresolved-extern", Severity::Invalid),
    ("unsupported-type", Severity::Unsupported),
    ("unsupported-instruction", Severity::Unsupported),
    ("unsupported-comminst", Severity::Unsupported),
    ("unsupported-flag", Severity::Unsupported),
    ("unsupported-builtin", Severity::Unsupported),
    ("native-interface", Severity::Unsupported),
    ("not-runnable", Severity::Unsupported),
];
