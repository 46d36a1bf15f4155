//! Syntax of the Mu IR text format: AST, lexer, parser, printer (spec/01-syntax.md).

pub mod ast;
mod lexer;
mod parser;
pub mod print;

pub use ast::*;
pub use parser::{parse_const, parse_file};

use codespan_reporting::files::SimpleFiles;

/// The source files of a bundle, for locating spans.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: SimpleFiles<String, String>,
    starts: Vec<Vec<u32>>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its index.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> u32 {
        let text = text.into();
        let mut starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        self.starts.push(starts);
        let id = self.files.add(name.into(), text);
        u32::try_from(id).unwrap_or(u32::MAX)
    }

    /// The files, for codespan-reporting.
    pub fn files(&self) -> &SimpleFiles<String, String> {
        &self.files
    }

    /// The name of a file.
    pub fn name(&self, file: u32) -> &str {
        self.files
            .get(file as usize)
            .map(|f| f.name().as_str())
            .unwrap_or("<unknown>")
    }

    /// The text of a file.
    pub fn text(&self, file: u32) -> &str {
        self.files
            .get(file as usize)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.text(span.file)
            .get(span.lo as usize..span.hi as usize)
            .unwrap_or("")
    }

    /// One-based line and column (in characters) of the start of a span.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let Some(starts) = self.starts.get(span.file as usize) else {
            return (1, 1);
        };
        let line = match starts.binary_search(&span.lo) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = starts.get(line).copied().unwrap_or(0) as usize;
        let text = self.text(span.file);
        let col = text
            .get(start..span.lo as usize)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }
}
