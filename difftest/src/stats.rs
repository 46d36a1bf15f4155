//! Statistics of a difftest run: inputs kept and rejected, the outcome mix,
//! instruction and rule coverage, throughput.

use crate::{Checked, Verdict};
use serde::Serialize;
use spec_model::RuleId;
use std::collections::BTreeMap;

/// Running totals.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Programs generated.
    pub programs: u64,
    /// Programs on which both engines agreed.
    pub agreed: u64,
    /// Programs on which they did not.
    pub diverged: u64,
    /// Programs that did not load (generator bugs).
    pub rejected: u64,
    /// Programs where the model found undefined behaviour (generator bugs).
    pub generator_ub: u64,
    /// Programs the fast VM could not compile.
    pub unsupported: u64,
    /// Outcomes on the model, by kind (`return`, `trap div_by_zero`, …).
    pub outcomes: BTreeMap<String, u64>,
    /// Instructions generated, by name.
    pub ops: BTreeMap<String, u64>,
    /// How often each rule fired, by id.
    pub rules: BTreeMap<String, u64>,
    /// Seconds spent.
    pub seconds: f64,
}

impl Stats {
    /// Adds one checked program.
    pub fn add(&mut self, c: &Checked) {
        self.programs += 1;
        match &c.verdict {
            Verdict::Agree => self.agreed += 1,
            Verdict::Diverge(_) => self.diverged += 1,
            Verdict::Rejected(_) => self.rejected += 1,
            Verdict::GeneratorUb(_) => self.generator_ub += 1,
            Verdict::Unsupported(_) => self.unsupported += 1,
        }
        if !c.outcome.is_empty() {
            let kind = match c.outcome.split_once(' ') {
                Some(("return", _)) => "return".to_string(),
                Some(("client_trap", _)) => "client_trap".to_string(),
                _ => c.outcome.clone(),
            };
            *self.outcomes.entry(kind).or_default() += 1;
        }
        for op in &c.ops {
            *self.ops.entry((*op).to_string()).or_default() += 1;
        }
        for (r, n) in RuleId::ALL.iter().zip(&c.rules) {
            if *n > 0 {
                *self.rules.entry(r.id().to_string()).or_default() += n;
            }
        }
    }

    /// Adds another run's totals (of a parallel job).
    pub fn merge(&mut self, o: &Stats) {
        self.programs += o.programs;
        self.agreed += o.agreed;
        self.diverged += o.diverged;
        self.rejected += o.rejected;
        self.generator_ub += o.generator_ub;
        self.unsupported += o.unsupported;
        for (k, v) in &o.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.ops {
            *self.ops.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.rules {
            *self.rules.entry(k.clone()).or_default() += v;
        }
    }

    /// Rules that fired, and rules there are, UB rules left out.
    pub fn rule_coverage(&self) -> (usize, usize) {
        let defined: Vec<&RuleId> = RuleId::ALL.iter().filter(|r| !r.is_ub()).collect();
        let fired = defined
            .iter()
            .filter(|r| self.rules.get(r.id()).is_some_and(|n| *n > 0))
            .count();
        (fired, defined.len())
    }

    /// Defined-behaviour rules no program fired.
    pub fn rules_missed(&self) -> Vec<&'static str> {
        RuleId::ALL
            .iter()
            .filter(|r| !r.is_ub() && !self.rules.contains_key(r.id()))
            .map(|r| r.id())
            .collect()
    }

    /// The share of inputs that were rejected (did not load).
    pub fn rejected_share(&self) -> f64 {
        self.rejected as f64 / (self.programs.max(1)) as f64
    }

    /// Programs checked per second.
    pub fn rate(&self) -> f64 {
        self.programs as f64 / self.seconds.max(1e-9)
    }

    /// One line for the progress bar.
    pub fn line(&self) -> String {
        let (f, t) = self.rule_coverage();
        format!(
            "{} programs, {} diverged, {:.1}% rejected, rules {f}/{t}, {:.0}/s",
            self.programs,
            self.diverged,
            100.0 * self.rejected_share(),
            self.rate()
        )
    }

    /// The report printed at the end.
    pub fn report(&self) -> String {
        let (f, t) = self.rule_coverage();
        let mut s = format!(
            "programs {}  agreed {}  diverged {}  rejected {} ({:.2}%)  generator ub {}  not compiled {}\n",
            self.programs,
            self.agreed,
            self.diverged,
            self.rejected,
            100.0 * self.rejected_share(),
            self.generator_ub,
            self.unsupported
        );
        s.push_str(&format!(
            "throughput {:.0} programs/s ({:.1} s)\n",
            self.rate(),
            self.seconds
        ));
        s.push_str("outcomes:");
        for (k, v) in &self.outcomes {
            s.push_str(&format!("  {k} {v}"));
        }
        s.push('\n');
        s.push_str(&format!(
            "rules fired: {f} of {t} defined-behaviour rules ({:.0}%)",
            100.0 * f as f64 / t.max(1) as f64
        ));
        let missed = self.rules_missed();
        if !missed.is_empty() {
            s.push_str(&format!("; never: {}", missed.join(", ")));
        }
        s.push('\n');
        s.push_str(&format!("instructions: {} kinds:", self.ops.len()));
        for (k, v) in &self.ops {
            s.push_str(&format!(" {k} {v}"));
        }
        s.push('\n');
        s
    }
}
