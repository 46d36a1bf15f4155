//! The reducer behind `muni reduce`: deletes lines of a program while a predicate
//! (the engines still disagree) keeps holding, chunks first, then single lines
//! (ddmin-style), until no single deletion keeps it.

/// Reduces `text` line by line while `keep` holds. `keep(text)` must hold at the
/// start; the result is 1-minimal: deleting any one more line makes `keep` fail.
pub fn reduce(text: &str, mut keep: impl FnMut(&str) -> bool) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut chunk = (lines.len() / 2).max(1);
    loop {
        let mut progress = false;
        let mut start = 0;
        while start < lines.len() {
            let end = (start + chunk).min(lines.len());
            let candidate: Vec<String> = lines[..start]
                .iter()
                .chain(&lines[end..])
                .cloned()
                .collect();
            if keep(&candidate.join("\n")) {
                lines = candidate;
                progress = true;
            } else {
                start = end;
            }
        }
        if chunk == 1 && !progress {
            break;
        }
        if !progress {
            chunk = (chunk / 2).max(1);
        }
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::reduce;

    #[test]
    fn keeps_exactly_the_lines_the_predicate_needs() {
        let text = (0..40)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let out = reduce(&text, |t| t.contains("line 7\n") && t.contains("line 31"));
        assert_eq!(out, "line 7\nline 31\n");
    }
}
