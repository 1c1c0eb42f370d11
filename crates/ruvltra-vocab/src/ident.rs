//! The rules that turn catalog words into Rust names: a model id into the name of its
//! generated constant, a variant label into an enum case. The code generator emits these names
//! and the model card shows them, so both take them from here.

/// The constant name of a model id: upper-cased, every run of characters that are not ASCII
/// letters or digits becomes one `_`, and a name that would start with a digit gets the prefix
/// `M_`.
///
/// ```
/// use ruvltra_vocab::ident::const_name;
/// assert_eq!(const_name("ruvltra-claude-code-0.5b-q4_k_m"), "RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M");
/// assert_eq!(const_name("7b--chat"), "M_7B_CHAT");
/// ```
pub fn const_name(id: &str) -> String {
    let mut name = String::with_capacity(id.len() + 2);
    let mut in_run = false;
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_uppercase());
            in_run = false;
        } else if !in_run {
            name.push('_');
            in_run = true;
        }
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "M_");
    }
    name
}

/// The enum case of a variant label: each run of ASCII letters and digits becomes a word with
/// its first letter upper-cased (`claude-code` becomes `ClaudeCode`); a name that would start
/// with a digit gets the prefix `V`.
///
/// ```
/// use ruvltra_vocab::ident::variant_name;
/// assert_eq!(variant_name("claude-code-v2"), "ClaudeCodeV2");
/// assert_eq!(variant_name("7b"), "V7b");
/// ```
pub fn variant_name(variant: &str) -> String {
    let mut name = String::with_capacity(variant.len() + 1);
    for word in variant.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars);
        }
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    name
}
