//! Expected failures and opt-outs (`corpus/expectations.toml`), checked in both
//! directions: a listed failure that passes is reported, so the list stays true.

use serde::Deserialize;

/// The expectations file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Assertions expected to fail on an engine.
    #[serde(default)]
    pub fail: Vec<ExpectedFailure>,
    /// Features an engine does not take part in; assertions that need them are
    /// skipped on it.
    #[serde(default)]
    pub opt_out: Vec<OptOut>,
}

/// One expected failure.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFailure {
    /// `spec`, `fast` or `impl`.
    pub engine: String,
    /// The assertion: `FILE:LINE`, FILE relative to the corpus root.
    pub test: String,
    /// Why it fails.
    pub why: String,
}

/// One opt-out.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptOut {
    /// `spec`, `fast` or `impl`.
    pub engine: String,
    /// A feature tag of scripts (`//! features:`), or one of the assertion kinds
    /// `trace` (native traces) and `state` (`after:` checks).
    pub feature: String,
    /// Why.
    pub why: String,
}

impl Expectations {
    /// Reads an expectations file.
    pub fn read(path: &std::path::Path) -> Result<Expectations, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Is `test` (`FILE:LINE`) expected to fail on `engine`?
    pub fn expects_failure(&self, engine: &str, test: &str) -> bool {
        self.fail
            .iter()
            .any(|f| f.engine == engine && f.test == test)
    }

    /// Has `engine` opted out of `feature`?
    pub fn opted_out(&self, engine: &str, feature: &str) -> bool {
        self.opt_out
            .iter()
            .any(|o| o.engine == engine && o.feature == feature)
    }
}
