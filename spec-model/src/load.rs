//! Loading a bundle from text: parse every file, verify the whole.

use crate::diag::Diagnostic;
use crate::ir::Module;
use crate::machine::{Budgets, Machine, ModelError, literal_value};
use crate::outcome::Outcome;
use crate::syntax::{self, Bundle, ConstCtor, SourceMap, Span};

/// A parsed and verified bundle with its sources.
#[derive(Debug)]
pub struct Loaded {
    /// The source files, for diagnostics and traces.
    pub sources: SourceMap,
    /// The syntax tree.
    pub bundle: Bundle,
    /// The verified module.
    pub module: Module,
    /// Constructs outside muni's subset; the functions using them cannot run.
    pub unsupported: Vec<Diagnostic>,
}

/// Why a bundle did not load: its diagnostics, with the sources to render them.
#[derive(Debug)]
pub struct LoadError {
    /// The source files.
    pub sources: SourceMap,
    /// Every diagnostic, in order.
    pub diags: Vec<Diagnostic>,
}

impl LoadError {
    /// The outcome line of the first diagnostic (`malformed CODE`, `invalid CODE`, ...).
    pub fn outcome(&self) -> String {
        self.diags
            .first()
            .map(|d| d.outcome())
            .unwrap_or_else(|| "invalid unknown".into())
    }
    /// Every diagnostic rendered with `file:line:col` and a caret snippet.
    pub fn render(&self) -> String {
        self.diags.iter().map(|d| d.render(&self.sources)).collect()
    }
}

/// Parses and verifies the files `(name, text)`, each a bundle loaded after the
/// ones before it (uvm-ir.rest, "Bundle"): a later bundle may name what earlier
/// ones define, and its `.funcdef` of a function an earlier one defined is a new
/// version, which every call runs (no call of the old one has started). Each
/// bundle must load with the ones before it, all or nothing: the first that does
/// not is the error.
pub fn load(files: &[(&str, &str)]) -> Result<Loaded, LoadError> {
    let mut sources = SourceMap::new();
    let mut bundle = Bundle::default();
    let mut diags = Vec::new();
    for (k, (name, text)) in files.iter().enumerate() {
        let id = sources.add(*name, *text);
        match syntax::parse_file(id, text) {
            Ok((b, unsupported)) => {
                if k > 0 {
                    // The bundles before this one load on their own.
                    let (_, earlier) = crate::verify::verify(&bundle);
                    let invalid: Vec<Diagnostic> = earlier
                        .into_iter()
                        .filter(|d| d.severity == crate::diag::Severity::Invalid)
                        .collect();
                    if !invalid.is_empty() {
                        return Err(LoadError {
                            sources,
                            diags: invalid,
                        });
                    }
                    if let Some(d) = redefine(&mut bundle, &b) {
                        return Err(LoadError {
                            sources,
                            diags: vec![d],
                        });
                    }
                }
                bundle.defs.extend(b.defs);
                diags.extend(unsupported);
            }
            Err(d) => {
                return Err(LoadError {
                    sources,
                    diags: vec![d],
                });
            }
        }
    }
    let (module, more) = crate::verify::verify(&bundle);
    diags.extend(more);
    // EXTERN symbols resolve when the bundle loads: in the process and in the
    // libraries loaded before it (`load_library`).
    if module.is_some() {
        for d in &bundle.defs {
            if let syntax::TopLevel::Const {
                value: ConstCtor::Extern(sym),
                span,
                ..
            } = d
                && crate::machine::native::symbol(sym).is_none()
            {
                diags.push(Diagnostic::new(
                    crate::diag::Severity::Invalid,
                    "unresolved-extern",
                    *span,
                    format!("no symbol `{sym}` in the process or the libraries loaded with --lib"),
                ));
            }
        }
    }
    let module = if diags
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Invalid)
    {
        None
    } else {
        module
    };
    diags.sort_by_key(|d| (d.span.file, d.span.lo));
    match module {
        Some(module) => Ok(Loaded {
            sources,
            bundle,
            module,
            unsupported: diags,
        }),
        None => {
            // The invalid ones first: they are what makes the bundle unusable.
            diags.sort_by_key(|d| d.severity == crate::diag::Severity::Unsupported);
            Err(LoadError { sources, diags })
        }
    }
}

/// Makes room in `loaded` for the `.funcdef`s of `next` that redefine functions
/// `loaded` defines: the earlier definition goes, leaving a `.funcdecl` of its
/// signature so that a new version of another signature is `signature-mismatch`.
/// A new version under the name of an earlier one is `duplicate-name`.
fn redefine(loaded: &mut Bundle, next: &Bundle) -> Option<Diagnostic> {
    use syntax::TopLevel;
    for d in &next.defs {
        let TopLevel::FuncDef(new) = d else { continue };
        for old in loaded.defs.iter_mut() {
            let TopLevel::FuncDef(f) = old else { continue };
            if f.name.name != new.name.name {
                continue;
            }
            if f.version.name == new.version.name {
                return Some(
                    Diagnostic::new(
                        crate::diag::Severity::Invalid,
                        "duplicate-name",
                        new.version.span,
                        format!("{} is a version an earlier bundle loaded", new.version.name),
                    )
                    .with_note(f.version.span, "loaded here"),
                );
            }
            *old = TopLevel::FuncDecl {
                name: f.name.clone(),
                sig: f.sig.clone(),
                span: f.span,
            };
        }
    }
    None
}

/// Parses one Mu literal (`42`, `-0x10`, `1.5d`, `nanf`, `NULL`, ...).
pub fn parse_literal(text: &str) -> Result<ConstCtor, String> {
    match syntax::parse_const(0, text) {
        Ok(ConstCtor::List(_) | ConstCtor::Extern(_)) => {
            Err(format!("`{text}` is not a scalar literal"))
        }
        Ok(value) => Ok(value),
        Err(_) => Err(format!("`{text}` is not a Mu literal")),
    }
}

impl Loaded {
    /// Runs `func` (e.g. `@main`) on the model with literal arguments.
    pub fn run(&self, func: &str, args: &[&str], budgets: Budgets) -> Result<Outcome, ModelError> {
        self.run_counting(func, args, budgets).map(|(o, _)| o)
    }

    /// Like [`Loaded::run`], also returning how often each rule fired
    /// (indexed by `RuleId as usize`).
    pub fn run_counting(
        &self,
        func: &str,
        args: &[&str],
        budgets: Budgets,
    ) -> Result<(Outcome, Vec<u64>), ModelError> {
        let mut m = self.machine(budgets);
        let f = self.func(func).map_err(ModelError::Usage)?;
        let args = self.args(f, args).map_err(ModelError::Usage)?;
        let o = match m.start(f, args)? {
            Some(o) => o,
            None => m.run()?,
        };
        Ok((o, m.rule_counts))
    }

    /// Runs every function the model can run, with zero arguments, each on a fresh
    /// machine: what the fuzz targets and the no-panic tests do with any bundle.
    pub fn run_every_function(&self, budgets: Budgets) -> Vec<(u32, Result<Outcome, ModelError>)> {
        let mut out = Vec::new();
        for (i, f) in self.module.funcs.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            if f.body.is_none() {
                continue;
            }
            let types = &self.module.types;
            let args = types
                .sig(f.sig)
                .params
                .iter()
                .map(|t| crate::machine::zero_value(types, *t))
                .collect();
            let mut m = self.machine(budgets);
            let r = match m.start(i, args) {
                Ok(Some(o)) => Ok(o),
                Ok(None) => m.run(),
                Err(e) => Err(e),
            };
            out.push((i, r));
        }
        out
    }

    /// A fresh machine for this module.
    pub fn machine(&self, budgets: Budgets) -> Machine<'_> {
        Machine::new(&self.module, budgets)
    }

    /// A defined function by name.
    pub fn func(&self, name: &str) -> Result<u32, String> {
        let f = self
            .module
            .func(name)
            .ok_or_else(|| format!("there is no function {name}"))?;
        let func = &self.module.funcs[f as usize];
        if let Some(why) = &func.unsupported {
            return Err(format!("{name} cannot run: {why}"));
        }
        if func.body.is_none() {
            return Err(format!("{name} is declared but not defined"));
        }
        Ok(f)
    }

    /// Argument literals converted to values of `f`'s parameter types.
    pub fn args(&self, f: u32, args: &[&str]) -> Result<Vec<crate::machine::Value>, String> {
        let m = &self.module;
        let params = &m.types.sig(m.funcs[f as usize].sig).params;
        if params.len() != args.len() {
            return Err(format!(
                "{} takes {} argument{}, {} given",
                m.funcs[f as usize].name,
                params.len(),
                if params.len() == 1 { "" } else { "s" },
                args.len()
            ));
        }
        params
            .iter()
            .zip(args)
            .map(|(t, a)| literal_value(m, *t, &parse_literal(a)?))
            .collect()
    }

    /// The source text of a span, on one line.
    pub fn snippet(&self, span: Span) -> String {
        self.sources
            .snippet(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}
