//! `include/muni.h` is what `src/generate.rs` makes of the description, and its `MuVM`
//! and `MuCtx` tables are muapi.h's, field by field (order, names, return and
//! parameter types), followed only by muni's extensions.

#[path = "../src/generate.rs"]
#[allow(dead_code)]
mod generate;
use generate as gen_;

fn read(p: &str) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn generated() -> String {
    let funcs = gen_::parse(&read("api/muapi.txt")).unwrap_or_else(|e| panic!("{e}"));
    gen_::header(&funcs, &read("api/prelude.h"), &read("api/postlude.h"))
}

/// The header checked in is the generated one. `MUNI_BLESS=1` rewrites it.
#[test]
fn the_header_is_generated_from_the_description() {
    let want = generated();
    if std::env::var_os("MUNI_BLESS").is_some() {
        std::fs::write("include/muni.h", &want).expect("write include/muni.h");
    }
    assert!(
        read("include/muni.h") == want,
        "include/muni.h is stale: run `MUNI_BLESS=1 cargo test -p muni-capi --test header`"
    );
}

/// A field of a table, read from C text: (return type, name, parameter types).
type Field = (String, String, Vec<String>);

/// The fields of `struct NAME { … };` in C text, comments removed, spaces made
/// canonical (this parser is the test's own, not generate.rs's).
fn fields(c: &str, table: &str) -> Vec<Field> {
    let start = c
        .find(&format!("struct {table} {{"))
        .unwrap_or_else(|| panic!("no struct {table}"));
    let body = &c[start..];
    let body = &body[body.find('{').unwrap_or(0) + 1..body.find("\n};").unwrap_or(body.len())];
    let text: String = body
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    let norm = |s: &str| {
        let s = s.replace('*', " * ");
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    text.split(';')
        .filter(|f| f.contains("(*"))
        .map(|f| {
            let (ret, rest) = f.split_once("(*").unwrap_or_default();
            let (name, params) = rest.split_once(')').unwrap_or_default();
            let params = params.trim().trim_start_matches('(').trim_end_matches(')');
            let types = params
                .split(',')
                .map(|p| {
                    // The type is all but the last word (the name).
                    let n = norm(p);
                    let cut = n.rfind(' ').unwrap_or(0);
                    n[..cut].to_string()
                })
                .collect();
            (norm(ret), name.trim().to_string(), types)
        })
        .collect()
}

#[test]
fn the_tables_are_muapi_h_field_by_field() {
    let muapi = read("../../shared/mu-spec/muapi.h");
    let muni = read("include/muni.h");
    for table in ["MuVM", "MuCtx"] {
        let want = fields(&muapi, table);
        let got = fields(&muni, table);
        assert!(want.len() > 3, "{table}: {} fields in muapi.h?", want.len());
        for (i, w) in want.iter().enumerate() {
            assert_eq!(got.get(i), Some(w), "{table}: field {i}");
        }
        let extra: Vec<&str> = got[want.len()..].iter().map(|f| f.1.as_str()).collect();
        assert_eq!(
            extra,
            ["muni_error"],
            "{table}: only muni's extensions follow"
        );
    }
    assert_eq!(
        fields(&muapi, "MuVM").len() + fields(&muapi, "MuCtx").len(),
        179
    );
}
