//! The conformance-script format (spec/07-corpus.md): a Mu IR bundle with its
//! assertions written in `//` comments, so that the file stays a bundle any Mu tool
//! can read.
//!
//! ```text
//! //! features: native pin          header: feature tags of the file
//! //! clib: structs.c               header: a C library the tests need (built by gcc)
//! // --- bundle NAME                starts another bundle in the same file
//! // bundle-file: other.uir         this section's bundle is that file
//! // assert_return @f(1 2) [fuel=100] 3
//! // assert_trap @f(1 0) div_by_zero
//! // assert_exhaustion @loop() [fuel=50] fuel
//! // assert_ub @stale() pin.stale-access
//! // assert_client_trap @t() %stop 1 2
//! // assert_trace @g(3)             checks only the native trace that follows
//! // | ccall strlen(&obj#1+0) -> 5   an expected event of the call above
//! // after: @counter == 4           a global cell after the call above
//! // after: @list -> {1 obj#2}      the object a global's reference points to
//! // > @f.v1.b.t 1 2 => resume 3     the client's answer at the next trap of the call
//! //                                 above, and the trap's name and KEEPALIVE values
//! .funcdef … //~ invalid type-mismatch    a diagnostic expected on this line
//! ```

use serde::Serialize;
use spec_model::Budgets;

/// A parsed conformance script.
#[derive(Clone, Debug, Serialize)]
pub struct Script {
    /// The file's name as given to the runner.
    pub file: String,
    /// Feature tags (`//! features:`).
    pub features: Vec<String>,
    /// C sources the tests need, relative to the script's folder (`//! clib:`).
    pub clib: Vec<String>,
    /// The bundles and their assertions.
    pub sections: Vec<Section>,
}

/// One bundle of a script and the assertions on it.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// The name after `// --- bundle`, or empty.
    pub name: String,
    /// The line the section starts on (1-based).
    pub line: usize,
    /// The bundle's text: the script with every line outside this section blanked,
    /// so that diagnostics keep the script's line numbers.
    #[serde(skip)]
    pub text: String,
    /// `// bundle-file: PATH`: the bundle is that file (relative to the script).
    pub bundle_file: Option<String>,
    /// The assertions, in file order.
    pub asserts: Vec<Assertion>,
}

/// One assertion and the line it is on.
#[derive(Clone, Debug, Serialize)]
pub struct Assertion {
    /// Line (1-based).
    pub line: usize,
    /// What it asserts.
    #[serde(flatten)]
    pub kind: AssertKind,
}

/// What an assertion checks.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssertKind {
    /// `//~ malformed|invalid|unsupported CODE`: a diagnostic on this line.
    Diagnostic {
        /// `malformed`, `invalid` or `unsupported`.
        kind: String,
        /// The stable code.
        code: String,
    },
    /// A call and what it must give.
    Call(Call),
}

/// A call assertion (`assert_return` … `assert_trace`).
#[derive(Clone, Debug, Serialize)]
pub struct Call {
    /// `assert_return`, `assert_trap`, `assert_exhaustion`, `assert_ub`,
    /// `assert_client_trap` or `assert_trace`.
    pub assertion: String,
    /// The function, with `@`.
    pub func: String,
    /// Arguments as Mu literals.
    pub args: Vec<String>,
    /// Budgets of the run.
    pub budgets: JsonBudgets,
    /// The expected outcome line (`None` for `assert_trace`, which checks only the
    /// trace).
    pub expected: Option<String>,
    /// The expected native trace, if given (`// |` lines).
    pub trace: Option<Vec<String>>,
    /// State checks after the run (`// after:` lines).
    pub after: Vec<After>,
    /// How the threads the run made ended (`// thread N:` lines).
    pub threads: Vec<ThreadCheck>,
    /// The client's part (`// >` lines): at each trap of the run in order, the
    /// trap the client must be shown and what it answers.
    pub client: Vec<ClientStep>,
}

/// One trap of a client script: `// > @NAME V… => ANSWER`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClientStep {
    /// Line (1-based).
    pub line: usize,
    /// The trap the client must be shown, as an outcome line shows it
    /// (`@f.v1.b.t 1 obj#1`, objects numbered in the line).
    pub trap: String,
    /// The answer as written: `resume V…`, `throw V`, `exit` or `stop`, where a
    /// value is a Mu literal or `$N`, the trap's N-th KEEPALIVE value.
    pub answer: String,
}

/// Budgets as they appear in the JSON twin.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct JsonBudgets {
    /// Fuel.
    pub fuel: u64,
    /// Allocation bytes.
    pub alloc: u64,
    /// Mu frames.
    pub stack: u32,
}

impl From<JsonBudgets> for Budgets {
    fn from(b: JsonBudgets) -> Budgets {
        Budgets {
            fuel: b.fuel,
            alloc: b.alloc,
            stack: b.stack,
        }
    }
}

/// A check of a global cell after a call.
#[derive(Clone, Debug, Serialize)]
pub struct After {
    /// Line (1-based).
    pub line: usize,
    /// The global, with `@`.
    pub global: String,
    /// `->`: check the object the cell's reference points to, not the cell.
    pub deref: bool,
    /// The expected rendering.
    pub expected: String,
}

/// A check of how a thread the run made ended: `// thread N: OUTCOME`, N
/// counting the threads the run made from 1, in the order they were made.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadCheck {
    /// Line (1-based).
    pub line: usize,
    /// The thread's number (1: the first the run made).
    pub thread: usize,
    /// The expected outcome line.
    pub expected: String,
}

/// The assertion keywords that take a call, and the outcome word each expects.
const CALLS: [(&str, Option<&str>); 6] = [
    ("assert_return", Some("return")),
    ("assert_trap", Some("trap")),
    ("assert_exhaustion", Some("exhausted")),
    ("assert_ub", Some("ub")),
    ("assert_client_trap", Some("client_trap")),
    ("assert_trace", None),
];

/// Parses a script. Errors name the line.
pub fn parse(file: &str, text: &str) -> Result<Script, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut script = Script {
        file: file.to_string(),
        features: Vec::new(),
        clib: Vec::new(),
        sections: Vec::new(),
    };
    // Section boundaries first: (start line index, name).
    let mut starts = vec![(0usize, String::new())];
    for (i, l) in lines.iter().enumerate() {
        if let Some(rest) = l.trim_start().strip_prefix("// --- bundle") {
            starts.push((i, rest.trim().to_string()));
        }
    }
    for (k, (start, name)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(lines.len(), |s| s.0);
        let mut body = String::new();
        for (i, l) in lines.iter().enumerate() {
            if (*start..end).contains(&i) {
                body.push_str(l);
            }
            body.push('\n');
        }
        let mut section = Section {
            name: name.clone(),
            line: start + 1,
            text: body,
            bundle_file: None,
            asserts: Vec::new(),
        };
        for (i, l) in lines.iter().enumerate().take(end).skip(*start) {
            directive(&mut script, &mut section, i + 1, l)
                .map_err(|e| format!("{file}:{}: {e}", i + 1))?;
        }
        // A leading section with nothing in it (the file starts with a separator).
        if k == 0 && section.asserts.is_empty() && starts.len() > 1 && is_blank(&section.text) {
            continue;
        }
        script.sections.push(section);
    }
    let n: usize = script.sections.iter().map(|s| s.asserts.len()).sum();
    if n == 0 {
        return Err(format!("{file} has no assertion"));
    }
    Ok(script)
}

fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with("//")
    })
}

fn directive(script: &mut Script, s: &mut Section, line: usize, l: &str) -> Result<(), String> {
    if let Some(pos) = l.find("//~") {
        let mut w = l[pos + 3..].split_whitespace();
        let (Some(kind), Some(code)) = (w.next(), w.next()) else {
            return Err("`//~` needs a kind and a code".into());
        };
        if !["malformed", "invalid", "unsupported"].contains(&kind) {
            return Err(format!(
                "`//~ {kind}`: the kind is malformed, invalid or unsupported"
            ));
        }
        s.asserts.push(Assertion {
            line,
            kind: AssertKind::Diagnostic {
                kind: kind.into(),
                code: code.into(),
            },
        });
        return Ok(());
    }
    let t = l.trim_start();
    if let Some(h) = t.strip_prefix("//!") {
        let (key, value) = h.split_once(':').ok_or("a header is `//! key: value`")?;
        let words = value.split_whitespace().map(String::from);
        match key.trim() {
            "features" => script.features.extend(words),
            "clib" => script.clib.extend(words),
            other => return Err(format!("unknown header `{other}`")),
        }
        return Ok(());
    }
    let Some(c) = t.strip_prefix("//") else {
        return Ok(());
    };
    let c = c.trim();
    if let Some(path) = c.strip_prefix("bundle-file:") {
        s.bundle_file = Some(path.trim().to_string());
        return Ok(());
    }
    if let Some(ev) = c.strip_prefix('|') {
        let call = last_call(s).ok_or("a `// |` trace line belongs under a call assertion")?;
        call.trace
            .get_or_insert_with(Vec::new)
            .push(ev.trim().to_string());
        return Ok(());
    }
    if let Some(rest) = c.strip_prefix('>') {
        let (trap, answer) = rest
            .split_once("=>")
            .ok_or("a client line is `// > @TRAP V… => ANSWER`")?;
        let trap = trap.trim();
        let answer = answer.trim().to_string();
        if trap == "start" {
            // The client's context as the run starts (spec/11 §11.9).
            crate::conform::start_step(&answer)
                .ok_or("a `start` line's answer is `ACTIONS; go`")??;
            let call = last_call(s).ok_or("a `// >` client line belongs under a call assertion")?;
            if !call.client.is_empty() {
                return Err("the `start` line comes before the call's trap lines".into());
            }
        } else {
            if !trap.starts_with('@') {
                return Err(format!("`{trap}` does not start with the trap's name"));
            }
            crate::conform::client_answer(&answer)?;
        }
        let call = last_call(s).ok_or("a `// >` client line belongs under a call assertion")?;
        call.client.push(ClientStep {
            line,
            trap: trap.to_string(),
            answer,
        });
        return Ok(());
    }
    if let Some(rest) = c.strip_prefix("thread ")
        && let Some((n, outcome)) = rest.split_once(':')
        && let Ok(thread) = n.trim().parse::<usize>()
    {
        if thread == 0 {
            return Err("threads the run made count from 1 (`// thread 1: …`)".into());
        }
        let call = last_call(s).ok_or("a `thread N:` line belongs under a call assertion")?;
        call.threads.push(ThreadCheck {
            line,
            thread,
            expected: outcome.trim().to_string(),
        });
        return Ok(());
    }
    if let Some(rest) = c.strip_prefix("after:") {
        let after = parse_after(line, rest.trim())?;
        let call = last_call(s).ok_or("an `after:` line belongs under a call assertion")?;
        call.after.push(after);
        return Ok(());
    }
    if c.starts_with("run:") {
        return Err(
            "`// run:` is the old form: write `// assert_return @f(ARGS) V…` and its kin".into(),
        );
    }
    let word = c.split_whitespace().next().unwrap_or("");
    if let Some((name, outcome)) = CALLS.iter().find(|(n, _)| *n == word) {
        let rest = c[word.len()..].trim();
        let call = parse_call(name, *outcome, rest)?;
        s.asserts.push(Assertion {
            line,
            kind: AssertKind::Call(call),
        });
    } else if word.starts_with("assert_") {
        return Err(format!(
            "unknown assertion `{word}` (assert_invalid and assert_malformed are `//~` at the end of the line)"
        ));
    }
    Ok(())
}

fn last_call(s: &mut Section) -> Option<&mut Call> {
    match s.asserts.last_mut().map(|a| &mut a.kind) {
        Some(AssertKind::Call(c)) => Some(c),
        _ => None,
    }
}

fn parse_after(line: usize, s: &str) -> Result<After, String> {
    let (lhs, deref, rhs) = if let Some((l, r)) = s.split_once("->") {
        (l, true, r)
    } else if let Some((l, r)) = s.split_once("==") {
        (l, false, r)
    } else {
        return Err("`after:` is `@g == V` or `@g -> V`".into());
    };
    let global = lhs.trim();
    if !global.starts_with('@') || global.contains(char::is_whitespace) {
        return Err(format!("`{global}` is not a global's name"));
    }
    Ok(After {
        line,
        global: global.to_string(),
        deref,
        expected: rhs.trim().to_string(),
    })
}

fn parse_call(name: &str, outcome: Option<&str>, s: &str) -> Result<Call, String> {
    let open = s.find('(').ok_or("a call is `@f(ARGS)`")?;
    // The matching parenthesis: an argument may have its own (`bitsf(0x…)`).
    let mut depth = 0usize;
    let close = s[open..]
        .char_indices()
        .find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(open + i);
                    }
                }
                _ => {}
            }
            None
        })
        .ok_or("a call is `@f(ARGS)`")?;
    let func = s[..open].trim().to_string();
    if !func.starts_with('@') {
        return Err(format!("`{func}` is not a function's name"));
    }
    let args = s[open + 1..close]
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut rest = s[close + 1..].trim();
    let mut budgets = Budgets::default();
    if let Some(r) = rest.strip_prefix('[') {
        let (opts, after) = r.split_once(']').ok_or("budgets end with `]`")?;
        for kv in opts.split_whitespace() {
            let (k, v) = kv.split_once('=').ok_or("budgets are `name=value`")?;
            let n: u64 = v.parse().map_err(|_| format!("`{v}` is not a number"))?;
            match k {
                "fuel" => budgets.fuel = n,
                "alloc" => budgets.alloc = n,
                "stack" => {
                    budgets.stack = u32::try_from(n).map_err(|_| "stack budget too large")?
                }
                _ => return Err(format!("unknown budget `{k}`")),
            }
        }
        rest = after.trim();
    }
    let expected = match outcome {
        None if !rest.is_empty() => {
            return Err("assert_trace takes no outcome; its `// |` lines follow".into());
        }
        None => None,
        Some("return") if rest.is_empty() => Some("return".to_string()),
        Some(_) if rest.is_empty() => return Err(format!("{name} needs what it expects")),
        Some("exhausted") if !["fuel", "alloc", "stack"].contains(&rest) => {
            return Err("assert_exhaustion expects fuel, alloc or stack".into());
        }
        Some(word) => Some(format!("{word} {rest}")),
    };
    Ok(Call {
        assertion: name.to_string(),
        func,
        args,
        budgets: JsonBudgets {
            fuel: budgets.fuel,
            alloc: budgets.alloc,
            stack: budgets.stack,
        },
        expected,
        trace: None,
        after: Vec::new(),
        threads: Vec::new(),
        client: Vec::new(),
    })
}

impl Script {
    /// The number of assertions, `after:` checks included.
    pub fn count(&self) -> usize {
        self.sections
            .iter()
            .flat_map(|s| &s.asserts)
            .map(|a| match &a.kind {
                AssertKind::Call(c) => 1 + c.after.len() + c.threads.len() + c.client.len(),
                AssertKind::Diagnostic { .. } => 1,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keep_line_numbers_and_collect_assertions() {
        let text = "//! features: native\n.typedef @i64 = int<64>\n// assert_return @f(1 2) [fuel=9] 3\n// after: @g == 4\n// | pin obj#1\n// --- bundle bad\n.typedef @x = int<99> //~ invalid bad-width\n";
        let s = parse("t.uir", text).expect("parses");
        assert_eq!(s.features, ["native"]);
        assert_eq!(s.sections.len(), 2);
        let AssertKind::Call(c) = &s.sections[0].asserts[0].kind else {
            panic!("a call")
        };
        assert_eq!(c.expected.as_deref(), Some("return 3"));
        assert_eq!(c.budgets.fuel, 9);
        assert_eq!(c.after[0].global, "@g");
        assert_eq!(c.trace.as_deref(), Some(&["pin obj#1".to_string()][..]));
        assert_eq!(s.sections[1].name, "bad");
        assert_eq!(s.sections[1].asserts[0].line, 7);
        // The second section's text has the first one blanked, line for line.
        assert_eq!(
            s.sections[1].text.lines().nth(6),
            Some(".typedef @x = int<99> //~ invalid bad-width")
        );
        assert_eq!(s.sections[1].text.lines().nth(1), Some(""));
        assert_eq!(s.count(), 3);
    }

    #[test]
    fn bad_directives_name_their_line() {
        let e = parse("t.uir", "\n// assert_trap @f() \n").unwrap_err();
        assert!(e.starts_with("t.uir:2:"), "{e}");
        let e = parse("t.uir", "// assert_exhaustion @f() heap\n").unwrap_err();
        assert!(e.contains("fuel, alloc or stack"), "{e}");
        let e = parse("t.uir", "// | ccall f()\n").unwrap_err();
        assert!(e.contains("under a call"), "{e}");
        assert!(parse("t.uir", ".typedef @i = int<8>\n").is_err());
    }
}
